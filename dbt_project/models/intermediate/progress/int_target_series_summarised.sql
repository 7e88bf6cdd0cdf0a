-- Step 2 of target progress: each target × unit's series of selected figures between the
-- target's document and the earlier of its deadline and the as-of month, summarised: how
-- many figures, the first (the baseline y0), the latest (y_t) and the trend of the last
-- six. A target a later document replaced takes the figures of its validity only; where the
-- indicator changes method (dim_indicator.method_break_on) within the series, the series
-- restarts there: the figures before the break are not its baseline.
-- A table, not a view like the other intermediate models: this is the join of every
-- target x unit with every month of its figures, the dearest step of target progress,
-- and its grain test would otherwise compute it a second time.

{{ config(materialized='table') }}

with

target_units as (

    select * from {{ ref('int_target_units_assigned') }}

),

observations as (

    select * from {{ ref('indicator_observations') }}

),

measured as (

    select
        observations.unit_code,
        observations.indicator_code,
        observations.period,
        observations.value,
        {{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'observations.period_start_on')) }}
            as measured_on,
        extract(year from observations.period_start_on) * 12
        + extract(month from observations.period_start_on) as month_index

    from observations
    where observations.value is not null and observations.is_selected

),

series as (

    select
        target_units.target_id,
        target_units.unit_code,
        measured.period,
        measured.value,
        measured.measured_on,
        measured.month_index,
        -- the latest points by one window; the first (the baseline) by an aggregate
        row_number() over (
            partition by target_units.target_id, target_units.unit_code
            order by measured.measured_on desc
        ) as points_from_latest

    from target_units
    inner join measured
        on
            target_units.unit_code = measured.unit_code
            and target_units.indicator_code = measured.indicator_code
            and target_units.document_on <= measured.measured_on
            and target_units.as_of_period_end_on >= measured.measured_on
            and target_units.deadline_on >= measured.measured_on
            and (
                target_units.target_valid_to_on is null
                or target_units.target_valid_to_on >= measured.measured_on
            )
            and (
                target_units.method_break_on is null
                or measured.measured_on >= target_units.method_break_on
                -- judged before the break: the old method's figures are all there is
                or target_units.as_of_period_end_on < target_units.method_break_on
                or target_units.deadline_on < target_units.method_break_on
            )

),

series_summary as (

    select
        target_id,
        unit_code,
        count(*) as observation_count,
        {{ first_by('period', 'measured_on') }} as baseline_period,
        {{ first_by('value', 'measured_on') }} as baseline_value,
        min(measured_on) as baseline_measured_on,
        max(case when points_from_latest = 1 then period end) as latest_period,
        max(case when points_from_latest = 1 then value end) as latest_value,
        max(case when points_from_latest = 1 then measured_on end) as latest_measured_on,
        max(case when points_from_latest = 1 then month_index end) as latest_month_index,
        -- a trend needs two points: one point has no slope (DuckDB would say NaN)
        case
            when count(case when points_from_latest <= 6 then value end) >= 2
                then
                    regr_slope(
                        case when points_from_latest <= 6 then value end,
                        case when points_from_latest <= 6 then month_index end
                    )
        end as recent_monthly_trend

    from series
    group by target_id, unit_code

)

select * from series_summary
