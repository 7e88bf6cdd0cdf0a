-- Step 4 of target_progress (DESIGN.md, "Progress toward a target"): the status each
-- target and unit earns from the measures of int_target_progress_paced (the pace bands are
-- vars on_track_pace and needs_acceleration_pace), and one row, no_units_registered, for a
-- target that applies to no registered unit, naming its group: never silent.

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
            when pace_ratio >= {{ var('on_track_pace') }} then 'on_track'
            when pace_ratio >= {{ var('needs_acceleration_pace') }} then 'needs_acceleration'
            when pace_ratio >= 0 then 'off_track'
            -- no pace (the series has not moved toward a target it started at): not moving
            -- is off track, only a move away from the target is deteriorating
            when pace_ratio is null then 'off_track'
            else 'deteriorating'
        end as computed_status

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
        cast(null as date) as unit_valid_to_on,
        'no_units_registered' as computed_status

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
        unit_valid_to_on,
        computed_status

    from classified

    union all

    select * from unassigned

)

select * from progress
