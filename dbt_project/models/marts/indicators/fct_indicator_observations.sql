-- One row per unit x indicator x month x source, up to the as-of month (a publication for
-- June never shows July, however late it is built). Ratios are recomputed from numerator
-- and denominator (never taken from the typed value), so any area can be re-aggregated.
-- Sources: unit reports, the portal's provision table (province units), DTI (province
-- units, the year's rank as its December). When sources disagree for the same unit,
-- indicator and month, every figure stays; is_selected marks the one the marts use, by
-- var observation_source_precedence, and selection_reason says why.
--
-- Incremental by month: a run computes again only the months whose figures differ from
-- what the table holds (a file that came or now counts instead of another, a late
-- correction of an old month, a portal or DTI answer), every source of such a month
-- together, since the comparison of sources is within a unit, indicator and month. Months
-- after the as-of month are removed first (a rerun of an earlier month). A new version of
-- the project, its seeds or its settings rebuilds the table in full (warehouse/build.py).

{%- set as_of_period = as_of_period() %}
{%- set precedence = var('observation_source_precedence') %}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='period',
    on_schema_change='fail',
    pre_hook=(
        "{% if is_incremental() and as_of_period() %}delete from {{ this }} "
        "where period > '{{ as_of_period() }}'{% endif %}"
    ),
) }}

with

unit_report_values as (

    select * from {{ ref('int_unit_report_values_deduplicated') }}

),

provision as (

    select * from {{ ref('stg_portal__provision') }}
    where not is_listed_twice

),

dti as (

    select * from {{ ref('dti_scores') }}

),

province_units as (

    select * from {{ ref('dim_unit') }}
    where unit_group = 'province'

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

from_unit_reports as (

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
        unit_report_values.load_id

    from unit_report_values

),

from_portal as (

    select
        province_units.unit_code,
        'full_process_service_provision_rate' as indicator_code,
        provision.period,
        cast(provision.period || '-01' as date) as period_start_on,
        'portal' as source,
        cast(provision.offered_full_online as double precision) as numerator,
        cast(provision.eligible_full_online as double precision) as denominator,
        cast(null as double precision) as reported_value,
        1 as submission_count,
        provision.file_sha256,
        provision.source_file_name,
        cast(null as varchar) as source_sheet,
        provision.source_row,
        cast(null as varchar) as load_id

    from provision
    inner join province_units
        on provision.province_code = province_units.province_code

),

from_dti as (

    select
        province_units.unit_code,
        'dti_rank' as indicator_code,
        cast(dti.year as varchar) || '-12' as period,
        cast(cast(dti.year as varchar) || '-12-01' as date) as period_start_on,
        'dti' as source,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        cast(dti.dti_rank as double precision) as reported_value,
        1 as submission_count,
        dti.file_sha256,
        dti.source_file_name,
        cast(null as varchar) as source_sheet,
        dti.source_row,
        cast(null as varchar) as load_id

    from dti
    inner join province_units
        on dti.province_code = province_units.province_code

),

combined as (

    select * from from_unit_reports
    union all
    select * from from_portal
    union all
    select * from from_dti

),

{%- if is_incremental() %}

{#- a month's rows are decided by these columns (the rest is computed from them and the
    catalog): a month whose row count or checksum over them differs is built again -#}
{%- set deciding = [
    'source', 'file_sha256', 'unit_code', 'indicator_code', 'numerator', 'denominator',
    'reported_value',
] %}

kept as (

    select combined.*
    from combined
    inner join indicators
        on combined.indicator_code = indicators.indicator_code
    {%- if as_of_period %}
    where combined.period <= '{{ as_of_period }}'
    {%- endif %}

),

changed_months as (

    {{ months_that_differ('kept', this, deciding) }}

),
{%- endif %}

valued as (

    select
        combined.*,
        {{ indicator_value(
            'indicators.kind', 'combined.numerator', 'combined.denominator',
            'combined.reported_value'
        ) }} as value,
        -- noqa: disable=LT02
        case combined.source
            {%- for source in precedence %}
            when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
            else {{ precedence | length + 1 }}
        end as source_priority  -- noqa: enable=LT02

    from combined
    inner join indicators
        on combined.indicator_code = indicators.indicator_code
    -- noqa: disable=LT02
    where
        true
        {%- if as_of_period %}
        and combined.period <= '{{ as_of_period }}'
        {%- endif %}
        {%- if is_incremental() %}
        and combined.period in (select changed_months.period from changed_months)
        {%- endif %}
    -- noqa: enable=LT02

),

compared as (

    select
        *,
        row_number() over (
            partition by unit_code, indicator_code, period
            order by source_priority, source
        ) as source_rank,
        count(*) over (partition by unit_code, indicator_code, period) as source_count,
        max(value) over (partition by unit_code, indicator_code, period)
        - min(value) over (partition by unit_code, indicator_code, period)
            as source_value_spread

    from valued

),

final as (

    select
        {{ dbt.hash(dbt.concat(["unit_code", "'|'", "indicator_code", "'|'", "period", "'|'", "source"])) }}
            as observation_id,
        unit_code,
        indicator_code,
        period,
        period_start_on,
        source,
        numerator,
        denominator,
        reported_value,
        submission_count,
        file_sha256,
        source_file_name,
        source_sheet,
        source_row,
        load_id,
        value,
        source_rank = 1 as is_selected,
        source_count,
        source_value_spread,
        case
            when source_count = 1 then 'only source'
            when source_rank = 1
                then 'first of {{ precedence | join(", ") }} (observation_source_precedence)'
            else 'another source comes first in observation_source_precedence'
        end as selection_reason

    from compared

)

select * from final
