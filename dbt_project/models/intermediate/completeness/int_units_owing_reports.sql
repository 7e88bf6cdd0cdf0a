-- Who owes a report for which month: one row per unit and month from var
-- reporting_start_period to the as-of month, for every unit that existed that month and
-- whose group reports figures (a target in its province measured from unit reports), as
-- often and due as the reporting calendar says (stg_calendar__deadlines, from seed
-- reporting_calendar through warehouse/calendar.py). reporting_completeness says whether
-- each report came.

{%- set as_of_period = as_of_period() %}
{%- set start_on = "cast('" ~ var('reporting_start_period') ~ "-01' as date)" %}
{%- set end_on = dbt.dateadd('month', 1, "cast('" ~ as_of_period ~ "-01' as date)")
    if as_of_period else dbt.dateadd('month', 1, dbt.date_trunc('month', 'current_date')) %}

with

months as (

    {{ dbt.date_spine('month', start_on, end_on) }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

deadlines as (

    select * from {{ ref('stg_calendar__deadlines') }}

),

targets as (

    select * from {{ ref('dim_target') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

reporting_groups as (

    select distinct
        dim_target.province_code,
        dim_target.unit_group

    from targets as dim_target
    inner join indicators as dim_indicator
        on dim_target.indicator_code = dim_indicator.indicator_code
    where dim_indicator.measured_by in ('unit_report', 'both')

),

owed as (

    select
        units.unit_code,
        units.unit_name_vi,
        units.unit_group,
        units.province_code,
        deadlines.period,
        deadlines.due_on,
        deadlines.accepted_until

    from deadlines
    inner join months
        on deadlines.period = {{ dbt.concat([
            "cast(extract(year from months.date_month) as varchar)", "'-'",
            "right('0' || cast(extract(month from months.date_month) as varchar), 2)"
        ]) }}
    inner join units
        on
            deadlines.province_code = units.served_province_code
            and deadlines.unit_group = units.unit_group
            -- a unit owes a month only while it exists: one that ceased is out of what is
            -- expected and of what is counted received alike
            and (units.valid_from_on is null or months.date_month >= units.valid_from_on)
            and (units.valid_to_on is null or months.date_month <= units.valid_to_on)
    inner join reporting_groups
        on
            units.province_code = reporting_groups.province_code
            and units.unit_group = reporting_groups.unit_group

)

select * from owed
