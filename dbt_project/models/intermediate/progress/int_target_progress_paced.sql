-- Step 3 of target progress: for each target × unit, from its baseline y0 and latest
-- figure y_t toward the target y* at deadline T: P = (y_t - y0) / (y* - y0), the share of
-- the gap closed; E = (t - t0) / (T - t0), the share of time elapsed; the pace R = P / E;
-- whether the baseline and the latest figure meet the target; and the projection to the
-- deadline from the recent trend, clamped to the indicator's limits.

with

target_units as (

    select * from {{ ref('int_target_units_assigned') }}

),

series_summary as (

    select * from {{ ref('int_target_series_summarised') }}

),

measures as (

    select
        target_units.*,
        coalesce(series_summary.observation_count, 0) as observation_count,
        series_summary.baseline_period,
        series_summary.baseline_value,
        series_summary.latest_period,
        series_summary.latest_value,
        series_summary.recent_monthly_trend,
        target_units.as_of_period_end_on >= target_units.deadline_on as is_deadline_passed,
        {{ meets_target(
            'series_summary.baseline_value', 'target_units.comparator',
            'target_units.target_value', 'target_units.target_value_max'
        ) }} as is_baseline_meeting_target,
        {{ meets_target(
            'series_summary.latest_value', 'target_units.comparator',
            'target_units.target_value', 'target_units.target_value_max'
        ) }} as is_latest_meeting_target,
        series_summary.latest_value - target_units.target_value as gap_to_target,
        cast(
            1.0 * {{ dbt.datediff('series_summary.baseline_measured_on', 'series_summary.latest_measured_on', 'day') }}
            / nullif({{ dbt.datediff('series_summary.baseline_measured_on', 'target_units.deadline_on', 'day') }}, 0)
            as double precision
        ) as time_elapsed_share,
        (series_summary.latest_value - series_summary.baseline_value)
        / nullif(
            -- for a range, the bound nearer the baseline is what has to be reached
            case
                when
                    target_units.comparator = 'between'
                    and series_summary.baseline_value > target_units.target_value_max
                    then target_units.target_value_max
                else target_units.target_value
            end
            - series_summary.baseline_value,
            0
        ) as gap_closed_share,
        series_summary.latest_value
        + series_summary.recent_monthly_trend
        * (
            extract(year from target_units.deadline_on) * 12
            + extract(month from target_units.deadline_on)
            - series_summary.latest_month_index
        ) as unclamped_projection

    from target_units
    left join series_summary
        on
            target_units.target_id = series_summary.target_id
            and target_units.unit_code = series_summary.unit_code

),

paced as (

    select
        *,
        gap_closed_share / nullif(time_elapsed_share, 0) as pace_ratio,
        case
            when unclamped_projection is null then null
            when unclamped_projection < min_value then min_value
            when unclamped_projection > max_value then max_value
            else unclamped_projection
        end as projected_value_at_deadline

    from measures

)

select * from paced
