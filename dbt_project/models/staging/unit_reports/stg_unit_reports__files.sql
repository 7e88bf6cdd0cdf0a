with

source as (

    select * from {{ source('unit_reports', 'unit_report_files') }}

),

renamed as (

    select
        file_sha256,
        source_file_name,
        unit_code,
        period,
        reporter,
        sent_on,
        received_at,
        row_count

    from source

)

select * from renamed
