-- Each unit x indicator series with a selected figure in the as-of month: that figure,
-- its change from the month before, and the statistics of the series' history that
-- figure_outliers judges it by. The history is the var outlier_history_months months
-- before the as-of month: recent behaviour, at a cost that stays the same as years grow.

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

),

history as (

    select
        unit_code,
        indicator_code,
        count(value_change) as history_change_count,
        min(value) as history_min,
        max(value) as history_max,
        max(abs(value_change)) as largest_step,
        percentile_cont(0.5) within group (order by value_change) as median_change,
        avg(value_change) as mean_change

    from stepped
    where not is_as_of_month
    group by unit_code, indicator_code

),

deviations as (

    select
        stepped.unit_code,
        stepped.indicator_code,
        percentile_cont(0.5) within group (
            order by abs(stepped.value_change - history.median_change)
        ) as median_absolute_deviation,
        avg(abs(stepped.value_change - history.mean_change)) as mean_absolute_deviation

    from stepped
    inner join history
        on stepped.unit_code = history.unit_code and stepped.indicator_code = history.indicator_code
    where not stepped.is_as_of_month and stepped.value_change is not null
    group by stepped.unit_code, stepped.indicator_code

),

final as (

    select
        stepped.unit_code,
        stepped.indicator_code,
        stepped.period,
        stepped.value,
        stepped.previous_period,
        stepped.previous_value,
        stepped.value_change,
        history.history_change_count,
        history.history_min,
        history.history_max,
        history.largest_step,
        history.median_change,
        deviations.median_absolute_deviation,
        deviations.mean_absolute_deviation

    from stepped
    inner join history
        on stepped.unit_code = history.unit_code and stepped.indicator_code = history.indicator_code
    left join deviations
        on stepped.unit_code = deviations.unit_code and stepped.indicator_code = deviations.indicator_code
    where stepped.is_as_of_month

)

select * from final
