-- Progress of every unit toward every target that applies to its group, as of one month
-- (var as_of_period). Method: DESIGN.md, "Progress toward a target", in steps:
-- int_target_units_assigned (which units a target applies to), int_target_series_summarised
-- (baseline, latest figure, trend), int_target_progress_paced (gap closed P, time
-- elapsed E, pace R = P / E, projection); here, the status each of them earns.

with

paced as (

    select * from {{ ref('int_target_progress_paced') }}

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
