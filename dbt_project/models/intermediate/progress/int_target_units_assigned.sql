-- Step 1 of target progress: every target, for every unit it applies to, as of one month
-- (var as_of_period, else the latest month observed). A target applies to the units of
-- its group and province that existed at some time between its document and its
-- deadline, and that exist by the as-of month (a commune created in July 2025 is not
-- measured as of June 2025).

{%- set as_of_period = as_of_period() %}

with

targets as (

    select * from {{ ref('dim_target') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

observations as (

    select * from {{ ref('indicator_observations') }}

),

as_of_month as (

    select
        -- the month asked for, or else the latest month observed
        coalesce({{ "'" ~ as_of_period ~ "'" if as_of_period else "null" }}, max(period))
            as as_of_period

    from observations

),

as_of as (

    select
        as_of_period,
        cast(as_of_period || '-01' as date) as as_of_period_start_on

    from as_of_month

),

target_units_all as (

    select
        targets.target_id,
        targets.province_code,
        targets.indicator_code,
        targets.comparator,
        targets.target_value,
        targets.target_value_max,
        targets.deadline_on,
        -- a document without a known date (damaged text) does not bound the series
        coalesce(targets.document_on, cast('1900-01-01' as date)) as document_on,
        units.unit_code,
        units.unit_group,
        units.scheme as unit_scheme,
        units.valid_from_on as unit_valid_from_on,
        units.valid_to_on as unit_valid_to_on,
        -- a target a later document replaced is judged on figures of its validity only
        targets.valid_to_on as target_valid_to_on,
        indicators.min_value,
        indicators.max_value,
        indicators.method_break_on,
        as_of.as_of_period,
        as_of.as_of_period_start_on,
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'as_of.as_of_period_start_on')) }}
            as as_of_period_end_on

    from targets
    inner join units
        on
            targets.unit_group = units.unit_group
            and targets.province_code = units.province_code
    inner join indicators
        on targets.indicator_code = indicators.indicator_code
    cross join as_of

),

target_units as (

    select * from target_units_all
    where
        (unit_valid_from_on is null or unit_valid_from_on <= deadline_on)
        and (unit_valid_from_on is null or unit_valid_from_on <= as_of_period_end_on)
        and (unit_valid_to_on is null or unit_valid_to_on >= document_on)

)

select * from target_units
