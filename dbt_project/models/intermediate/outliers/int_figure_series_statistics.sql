-- Each unit x indicator series with a selected figure in the as-of month and a history
-- before it (int_figure_series_steps): that figure, its change from the month before, and
-- the statistics of the history's changes that figure_outliers judges it by. The medians
-- are taken by rank (macro ranked_median), not by percentile_cont per series.

with

steps as (

    select * from {{ ref('int_figure_series_steps') }}

),

changes as (

    -- the history's changes, each ranked in its series for the median
    select
        unit_code,
        indicator_code,
        value_change,
        row_number() over series as change_rank,
        count(*) over (partition by unit_code, indicator_code) as change_count

    from steps
    where not is_as_of_month and value_change is not null
    window series as (partition by unit_code, indicator_code order by value_change)

),

history as (

    select
        unit_code,
        indicator_code,
        count(value_change) as history_change_count,
        min(value) as history_min,
        max(value) as history_max,
        max(abs(value_change)) as largest_step,
        avg(value_change) as mean_change

    from steps
    where not is_as_of_month
    group by unit_code, indicator_code

),

medians as (

    select
        unit_code,
        indicator_code,
        {{ ranked_median('value_change', 'change_rank', 'change_count') }} as median_change

    from changes
    group by unit_code, indicator_code

),

deviated as (

    -- each change's distance from its series' median, ranked for their median, and from
    -- its mean
    select
        changes.unit_code,
        changes.indicator_code,
        changes.change_count,
        abs(changes.value_change - medians.median_change) as deviation,
        row_number() over (
            partition by changes.unit_code, changes.indicator_code
            order by abs(changes.value_change - medians.median_change)
        ) as deviation_rank,
        abs(changes.value_change - history.mean_change) as mean_deviation

    from changes
    inner join medians
        on changes.unit_code = medians.unit_code and changes.indicator_code = medians.indicator_code
    inner join history
        on changes.unit_code = history.unit_code and changes.indicator_code = history.indicator_code

),

deviations as (

    select
        unit_code,
        indicator_code,
        {{ ranked_median('deviation', 'deviation_rank', 'change_count') }} as median_absolute_deviation,
        avg(mean_deviation) as mean_absolute_deviation

    from deviated
    group by unit_code, indicator_code

),

final as (

    select
        steps.unit_code,
        steps.indicator_code,
        steps.period,
        steps.value,
        steps.previous_period,
        steps.previous_value,
        steps.value_change,
        history.history_change_count,
        history.history_min,
        history.history_max,
        history.largest_step,
        medians.median_change,
        deviations.median_absolute_deviation,
        deviations.mean_absolute_deviation

    from steps
    inner join history
        on steps.unit_code = history.unit_code and steps.indicator_code = history.indicator_code
    left join medians
        on steps.unit_code = medians.unit_code and steps.indicator_code = medians.indicator_code
    left join deviations
        on steps.unit_code = deviations.unit_code and steps.indicator_code = deviations.indicator_code
    where steps.is_as_of_month

)

select * from final
