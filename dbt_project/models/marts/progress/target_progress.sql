-- Progress of every unit toward every target that applies to its group, as of one month
-- (var as_of_period). Method: DESIGN.md, "Progress toward a target", in steps:
-- int_target_units_assigned (which units a target applies to), int_target_series_summarised
-- (baseline, latest figure, trend), int_target_progress_paced (gap closed P, time
-- elapsed E, pace R = P / E, projection); here, the status each of them earns. A target
-- that applies to no registered unit is never silent: one row, status no_units_registered,
-- naming its group. Every row says why in one Vietnamese sentence with its numbers
-- (macro progress_explanation); a status is overridden only by a row of seed
-- status_overrides (who decided, why), and the computed status is kept beside it.

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
        cast(null as date) as unit_valid_to_on,
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
        unit_valid_to_on,
        status as computed_status

    from classified

    union all

    select * from unassigned

),

explained as (

    select
        progress.*,
        case when indicators.unit = 'percent' then '%' else '' end as unit_suffix,
        -- the change a month still needed to reach the target (the bound of a range
        -- nearer the latest figure) by the deadline's month
        (
            case
                when progress.comparator = 'between' and progress.latest_value > progress.target_value_max
                    then progress.target_value_max
                else progress.target_value
            end
            - progress.latest_value
        )
        / nullif(
            extract(year from progress.deadline_on) * 12 + extract(month from progress.deadline_on)
            - cast(substr(progress.latest_period, 1, 4) as integer) * 12
            - cast(substr(progress.latest_period, 6, 2) as integer),
            0
        ) as needed_monthly_change

    from progress
    left join {{ ref('dim_indicator') }} as indicators
        on progress.indicator_code = indicators.indicator_code

),

decided as (

    select
        explained.*,
        coalesce(overrides.status, explained.computed_status) as status,
        overrides.status is not null as is_status_overridden,
        overrides.reason_vi as status_override_reason,
        overrides.decided_by as status_decided_by,
        overrides.decided_on as status_decided_on,
        {{ progress_explanation() }} as computed_explanation_vi,
        labels.label_vi as status_label_vi

    from explained
    left join {{ ref('status_overrides') }} as overrides
        on
            explained.target_id = overrides.target_id
            and explained.unit_code = overrides.unit_code
    left join {{ ref('labels') }} as labels
        on labels.kind = 'status' and overrides.status = labels.code

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
        status,
        computed_status,
        is_status_overridden,
        status_override_reason,
        status_decided_by,
        status_decided_on,
        case
            when is_status_overridden
                then
                    computed_explanation_vi || ' Trạng thái được điều chỉnh thành "'
                    || status_label_vi || '" theo quyết định của ' || status_decided_by
                    || ' (' || {{ vi_date('status_decided_on') }} || '): '
                    || status_override_reason || '.'
            else computed_explanation_vi
        end as explanation_vi

    from decided

)

select * from final
