-- Progress of every unit toward every target that applies to its group, as of one month
-- (var as_of_period). Method: DESIGN.md, "Progress toward a target", in steps:
-- int_target_units_assigned (which units a target applies to), int_target_series_summarised
-- (baseline, latest figure, trend), int_target_progress_paced (gap closed P, time
-- elapsed E, pace R = P / E, projection), int_target_progress_classified (the status each
-- earns; a target that applies to no registered unit: one row, no_units_registered); here,
-- what is shown: every row says why in one Vietnamese sentence with its numbers (macro
-- progress_explanation); a status is overridden only by a row of seed status_overrides
-- (who decided, why), and the computed status is kept beside it.

with

progress as (

    select * from {{ ref('int_target_progress_classified') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

overrides as (

    select * from {{ ref('status_overrides') }}

),

labels as (

    select * from {{ ref('labels') }}

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
    left join indicators
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
    left join overrides
        on
            explained.target_id = overrides.target_id
            and explained.unit_code = overrides.unit_code
    left join labels
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
