-- One row per unit x indicator x month x source, up to the as-of month (a publication for
-- June never shows July, however late it is built). Ratios are recomputed from numerator
-- and denominator (never taken from the typed value), so any area can be re-aggregated.

{%- set as_of_period = var('as_of_period') %}

with

unit_report_values as (

    select * from {{ ref('int_unit_report_values_deduplicated') }}
    {%- if as_of_period %}
    where period <= '{{ as_of_period }}'
    {%- endif %}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

valued as (

    select
        unit_report_values.unit_code,
        unit_report_values.indicator_code,
        unit_report_values.period,
        unit_report_values.period_start_on,
        'unit_report' as source,
        unit_report_values.numerator,
        unit_report_values.denominator,
        unit_report_values.reported_value,
        unit_report_values.submission_count,
        unit_report_values.file_sha256,
        unit_report_values.source_file_name,
        unit_report_values.source_sheet,
        unit_report_values.source_row,
        unit_report_values.load_id,
        case
            when indicators.kind = 'ratio'
                then
                    100.0 * unit_report_values.numerator
                    / nullif(unit_report_values.denominator, 0)
            else unit_report_values.reported_value
        end as value

    from unit_report_values
    inner join indicators
        on unit_report_values.indicator_code = indicators.indicator_code

),

final as (

    select
        {{ dbt.hash(dbt.concat(["unit_code", "'|'", "indicator_code", "'|'", "period", "'|'", "source"])) }}
            as observation_id,
        *

    from valued

)

select * from final
