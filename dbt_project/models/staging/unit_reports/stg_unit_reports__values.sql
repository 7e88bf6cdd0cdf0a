{#- A table, not a view like the other staging models: ranking the submissions is the
    dearest step of the staging layer, and its tests and two models each read it (a view
    would rank every figure again for each; on PostgreSQL the planner also misjudges the
    ranking's three-column join and turns its readers into nested loops). -#}
{{ config(materialized='table') }}

with

source as (

    select * from {{ source('unit_reports', 'unit_report_submissions') }}

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
        note,
        submission_count,
        submission_rank

    from source

)

select * from renamed
