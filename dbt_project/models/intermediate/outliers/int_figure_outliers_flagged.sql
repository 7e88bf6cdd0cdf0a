-- The two tests of figure_outliers on each series judged (one with var outlier_min_history
-- month-to-month changes in its history, int_figure_series_statistics), and the file the
-- as-of month's figure came from:
--   * the month-to-month change's modified z-score, M = 0.6745 (d - median) / MAD over the
--     history's changes (Iglewicz and Hoaglin; where MAD is 0, the mean absolute deviation
--     x 1.2533 stands in), an outlier when |M| > var outlier_z_limit;
--   * the bounds the history sets: its minimum and maximum, widened by its largest
--     month-to-month step (a series that grows steadily stays inside), an outlier outside.

{%- set z_limit = var('outlier_z_limit') %}
{%- set min_history = var('outlier_min_history') %}

with

series_statistics as (

    select * from {{ ref('int_figure_series_statistics') }}

),

indicator_observations as (

    select * from {{ ref('indicator_observations') }}

),

scored as (

    select
        series_statistics.unit_code,
        series_statistics.indicator_code,
        series_statistics.period,
        series_statistics.value,
        series_statistics.previous_period,
        series_statistics.previous_value,
        series_statistics.value_change,
        indicator_observations.source_file_name,
        series_statistics.history_change_count,
        series_statistics.median_change,
        series_statistics.median_absolute_deviation,
        series_statistics.history_min - series_statistics.largest_step as lower_bound,
        series_statistics.history_max + series_statistics.largest_step as upper_bound,
        cast(
            case
                when series_statistics.median_absolute_deviation > 0
                    then 0.6745 * (series_statistics.value_change - series_statistics.median_change)
                        / series_statistics.median_absolute_deviation
                when series_statistics.mean_absolute_deviation > 0
                    then (series_statistics.value_change - series_statistics.median_change)
                        / (1.2533 * series_statistics.mean_absolute_deviation)
            end
            as double precision
        ) as modified_z_score

    from series_statistics
    inner join indicator_observations
        on
            series_statistics.unit_code = indicator_observations.unit_code
            and series_statistics.indicator_code = indicator_observations.indicator_code
            and series_statistics.period = indicator_observations.period
            and indicator_observations.is_selected
    where series_statistics.history_change_count >= {{ min_history }}

),

tested as (

    select
        *,
        coalesce(abs(modified_z_score) > {{ z_limit }}, false) as is_change_outlier,
        value < lower_bound or value > upper_bound as is_out_of_bounds

    from scored

),

final as (

    select
        *,
        is_change_outlier or is_out_of_bounds as is_outlier

    from tested

)

select * from final
