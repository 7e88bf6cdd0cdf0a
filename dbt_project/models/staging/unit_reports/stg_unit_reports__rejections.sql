with

source as (

    select * from {{ source('unit_reports', 'unit_report_quarantine') }}

),

renamed as (

    select
        quarantine_path,
        file_sha256,
        source_file_name,
        unit_code,
        period,
        received_at,
        error_count,
        first_error_vi,
        first_error_en

    from source

)

select * from renamed
