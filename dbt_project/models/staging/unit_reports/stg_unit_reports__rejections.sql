with

source as (

    select * from {{ source('unit_reports', 'unit_report_rejections') }}

),

renamed as (

    select
        file_sha256,
        source_file_name,
        unit_code,
        period,
        received_at,
        error_count,
        first_error_vi,
        first_error_en,
        quarantine_path

    from source

)

select * from renamed
