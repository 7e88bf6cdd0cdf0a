with

source as (

    select * from {{ source('unit_reports', 'unit_report_values') }}

),

renamed as (

    select
        file_sha256,
        sheet as source_sheet,
        source_row,
        source_file_name,
        load_id,
        unit_code,
        indicator_code,
        period,
        cast(period || '-01' as date) as period_start_on,
        sent_on,
        received_at,
        numerator,
        denominator,
        reported_value,
        note

    from source

)

select * from renamed
