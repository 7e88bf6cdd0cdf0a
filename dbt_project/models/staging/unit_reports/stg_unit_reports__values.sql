{#- A table, not a view like the other staging models: ranking the submissions is the
    dearest step of the staging layer, and its tests and two models each read it (a view
    would rank every figure again for each; on PostgreSQL the planner also misjudges the
    ranking's three-column join and turns its readers into nested loops).

    Incremental by month: a run ranks again only the months whose raw figures differ from
    what it holds (a row count and checksum per month: a file received since the last
    build, a late correction of an old month, figures loaded by any other path); such a
    month is ranked again whole, so the file that counts is decided as in a full build. A
    month's rows depend on that month's raw figures alone. A new version of the project or
    its seeds rebuilds it in full (warehouse/build.py). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period',
    on_schema_change='fail',
) }}

with

source as (

    -- which file counts: the one rule, macro unit_report_submissions
    -- noqa: disable=LT02
    select * from (
        {{ unit_report_submissions(source('unit_reports', 'unit_report_values')) }}
    ) as submissions
    -- noqa: enable=LT02
    {%- if is_incremental() %}
    where period in (
        {{ months_that_differ(source('unit_reports', 'unit_report_values'), this, [
            'file_sha256', 'source_row', 'numerator', 'denominator', 'reported_value',
            'received_at', 'sent_on',
        ]) }}
    )
    {%- endif %}

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
