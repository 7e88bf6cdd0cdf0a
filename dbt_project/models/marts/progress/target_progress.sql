-- Progress of every unit toward every target that applies to its group, as of one month
-- (var as_of_period). Method: DESIGN.md, "Progress toward a target". For a target with
-- baseline y0 (first figure on or after the document's date) and target y* at deadline T,
-- with the latest figure y_t: P = (y_t - y0) / (y* - y0) is the share of the gap closed,
-- E = (t - t0) / (T - t0) the share of time elapsed, and R = P / E the pace.

{%- set as_of_period = var('as_of_period') %}

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

    select * from {{ ref('fct_indicator_observations') }}

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
        indicators.min_value,
        indicators.max_value,
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

    -- a target applies to the units that existed at some time between its document and
    -- its deadline, and that exist by the as-of month (a commune created in July 2025 is
    -- not measured as of June 2025)
    select * from target_units_all
    where
        (unit_valid_from_on is null or unit_valid_from_on <= deadline_on)
        and (unit_valid_from_on is null or unit_valid_from_on <= as_of_period_end_on)
        and (unit_valid_to_on is null or unit_valid_to_on >= document_on)

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
        row_number() over (
            partition by target_units.target_id, target_units.unit_code
            order by measured.measured_on
        ) as point_number,
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

),

series_summary as (

    select
        target_id,
        unit_code,
        count(*) as observation_count,
        max(case when point_number = 1 then period end) as baseline_period,
        max(case when point_number = 1 then value end) as baseline_value,
        max(case when point_number = 1 then measured_on end) as baseline_measured_on,
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
        1.0 * {{ dbt.datediff('series_summary.baseline_measured_on', 'series_summary.latest_measured_on', 'day') }}
        / nullif({{ dbt.datediff('series_summary.baseline_measured_on', 'target_units.deadline_on', 'day') }}, 0)
            as time_elapsed_share,
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

),

classified as (

    select
        *,
        case
            -- the unit ceased (district level abolished, department merged) before the
            -- target could be judged: its figures stay, it gets no verdict
            when
                unit_valid_to_on
                < least(as_of_period_end_on, deadline_on)
                then 'unit_abolished'
            when observation_count = 0 then 'no_report'
            when is_deadline_passed and is_latest_meeting_target then 'achieved'
            when is_deadline_passed then 'not_achieved'
            when is_baseline_meeting_target and is_latest_meeting_target then 'maintain'
            when is_baseline_meeting_target then 'deteriorating'
            when observation_count < 2 then 'insufficient_data'
            when is_latest_meeting_target then 'achieved'
            when pace_ratio >= 0.95 then 'on_track'
            when pace_ratio >= 0.6 then 'needs_acceleration'
            when pace_ratio >= 0 then 'off_track'
            else 'deteriorating'
        end as status

    from paced

),

final as (

    select
        {{ dbt.hash(dbt.concat(["target_id", "'|'", "unit_code"])) }} as target_progress_id,
        target_id,
        unit_code,
        unit_group,
        unit_scheme,
        indicator_code,
        as_of_period,
        comparator,
        target_value,
        target_value_max,
        deadline_on,
        is_deadline_passed,
        observation_count,
        baseline_period,
        baseline_value,
        latest_period,
        latest_value,
        gap_to_target,
        time_elapsed_share,
        gap_closed_share,
        pace_ratio,
        recent_monthly_trend,
        projected_value_at_deadline,
        status

    from classified

)

select * from final
