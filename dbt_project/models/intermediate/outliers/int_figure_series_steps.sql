-- Each selected figure of the as-of month and of the var outlier_history_months months
-- before it, with its series' figure before it in that window and the change from it:
-- the steps int_figure_series_statistics sums up. Recent behaviour only, at a cost that
-- stays the same as years grow.

{%- set as_of_period = as_of_period() %}
{%- set history_months = var('outlier_history_months') | int %}
{%- if as_of_period %}
    {%- set first_month = (as_of_period[:4] | int) * 12 + (as_of_period[5:7] | int) - 1 - history_months %}
    {%- set history_from = "%04d-%02d" | format(first_month // 12, first_month % 12 + 1) %}
{%- endif %}

with

indicator_observations as (

    select * from {{ ref('indicator_observations') }}

),

observations as (

    -- only what the windows need: every column carried through them is held for each of
    -- the history's figures (some 14 M at national scale)
    select
        unit_code,
        indicator_code,
        period,
        value

    from indicator_observations
    -- noqa: disable=LT02
    where
        is_selected
        and value is not null
        {%- if as_of_period %}
            -- the window's months as literals: older months are never read
            and period >= '{{ history_from }}'
            and period <= '{{ as_of_period }}'
        {%- endif %}
    -- noqa: enable=LT02

),

as_of as (

    select  -- the as-of month (the latest observed one when the var is empty)
        {% if as_of_period %}max(cast('{{ as_of_period }}' as varchar)){% else %}max(period){% endif %}
            as as_of_period

    from observations

),

window_start as (

    select
        as_of_period,
        {{ dbt.dateadd('month', -history_months, "cast(as_of_period || '-01' as date)") }}
            as history_from_on

    from as_of

),

stepped as (

    select
        observations.*,
        observations.value - lag(observations.value) over series as value_change,
        lag(observations.period) over series as previous_period,
        lag(observations.value) over series as previous_value,
        observations.period = window_start.as_of_period as is_as_of_month

    from observations
    cross join window_start
    where
        observations.period <= window_start.as_of_period
        and cast(observations.period || '-01' as date) >= window_start.history_from_on
    window series as (
        partition by observations.unit_code, observations.indicator_code
        order by observations.period
    )

)

select * from stepped
