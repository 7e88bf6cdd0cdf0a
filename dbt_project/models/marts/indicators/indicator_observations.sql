-- One row per unit x indicator x month x source, up to the as-of month (a publication for
-- June never shows July, however late it is built), from every source
-- (int_indicator_observations_by_source). When sources disagree for the same unit,
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

observations as (

    select * from {{ ref('int_indicator_observations_by_source') }}

),

{%- if is_incremental() %}

{#- a month's rows are decided by these columns (the rest is computed from them and the
    catalog): a month whose row count or checksum over them differs is built again -#}
{%- set deciding = [
    'source', 'file_sha256', 'unit_code', 'indicator_code', 'numerator', 'denominator',
    'reported_value',
] %}

kept as (

    select * from observations
    {%- if as_of_period %}
    where period <= '{{ as_of_period }}'
    {%- endif %}

),

changed_months as (

    {{ months_that_differ('kept', this, deciding) }}

),
{%- endif %}

valued as (

    select
        observations.*,
        -- noqa: disable=LT02
        case observations.source
            {%- for source in precedence %}
            when '{{ source }}' then {{ loop.index }}
            {%- endfor %}
            else {{ precedence | length + 1 }}
        end as source_priority  -- noqa: enable=LT02

    from observations
    -- noqa: disable=LT02
    where
        true
        {%- if as_of_period %}
        and observations.period <= '{{ as_of_period }}'
        {%- endif %}
        {%- if is_incremental() %}
        and observations.period in (select changed_months.period from changed_months)
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
