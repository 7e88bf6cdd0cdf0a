-- Progress of every unit toward every target that applies to its group, as of one month
-- (var as_of_period). Method: DESIGN.md, "Progress toward a target", in steps:
-- int_target_units_assigned (which units a target applies to), int_target_series_summarised
-- (baseline, latest figure, trend), int_target_progress_paced (gap closed P, time
-- elapsed E, pace R = P / E, projection); here, the status each of them earns. A target
-- that applies to no registered unit is never silent: one row, status no_units_registered,
-- naming its group.

with

paced as (

    select * from {{ ref('int_target_progress_paced') }}

),

targets as (

    select * from {{ ref('dim_target') }}

),

as_of as (

    select
        max(as_of_period) as as_of_period,
        max(as_of_period_end_on) as as_of_period_end_on

    from paced

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
            -- one figure is no pace, even when it meets the target (DESIGN.md)
            when observation_count < 2 then 'insufficient_data'
            when is_baseline_meeting_target and is_latest_meeting_target then 'maintain'
            when is_baseline_meeting_target then 'deteriorating'
            when is_latest_meeting_target then 'achieved'
            when pace_ratio >= 0.95 then 'on_track'
            when pace_ratio >= 0.6 then 'needs_acceleration'
            when pace_ratio >= 0 then 'off_track'
            -- no pace (the series has not moved toward a target it started at): not moving
            -- is off track, only a move away from the target is deteriorating
            when pace_ratio is null then 'off_track'
            else 'deteriorating'
        end as status

    from paced

),

unassigned as (

    select
        targets.target_id,
        cast(null as varchar) as unit_code,
        targets.province_code,
        targets.unit_group,
        cast(null as varchar) as unit_scheme,
        targets.indicator_code,
        as_of.as_of_period,
        targets.comparator,
        targets.target_value,
        targets.target_value_max,
        targets.deadline_on,
        as_of.as_of_period_end_on >= targets.deadline_on as is_deadline_passed,
        0 as observation_count,
        cast(null as varchar) as baseline_period,
        cast(null as double precision) as baseline_value,
        cast(null as varchar) as latest_period,
        cast(null as double precision) as latest_value,
        cast(null as double precision) as gap_to_target,
        cast(null as double precision) as time_elapsed_share,
        cast(null as double precision) as gap_closed_share,
        cast(null as double precision) as pace_ratio,
        cast(null as double precision) as recent_monthly_trend,
        cast(null as double precision) as projected_value_at_deadline,
        'no_units_registered' as status

    from targets
    cross join as_of
    where
        not exists (
            select 1 from classified
            where classified.target_id = targets.target_id
        )

),

progress as (

    select
        target_id,
        unit_code,
        province_code,
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

    union all

    select * from unassigned

),

final as (

    select
        {{ dbt.hash(dbt.concat(["target_id", "'|'", "coalesce(unit_code, '')"])) }}
            as target_progress_id,
        target_id,
        unit_code,
        province_code,
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

    from progress

)

select * from final
