-- Each unit's targets counted by status, a score and its rank in the emulation movement
-- (thi đua) within its province and unit group, per month (int_unit_statuses_by_month: the
-- as-of month from target_progress, earlier months from the frozen snapshots).
-- Score: 100 x (achieved + maintain + 0.75 on_track + 0.5 needs_acceleration
-- + 0.25 off_track) / targets judged (every target but unit_abolished). Ties are broken
-- by more targets achieved, then fewer without a report, then the unit code. A unit that
-- ceased is not ranked in the months after it ceased.

with

statuses as (

    select * from {{ ref('int_unit_statuses_by_month') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

counted as (

    select
        statuses.period,
        statuses.unit_code,
        units.unit_name_vi,
        units.unit_group,
        units.province_code,
        count(*) as targets_judged,
        {{ status_counts('statuses.status') }},
        -- statuses decided by seed status_overrides, not computed (marked in the report)
        count(case when statuses.is_status_overridden then 1 end) as overridden_status_count,
        sum(
            case statuses.status
                when 'achieved' then 1.0
                when 'maintain' then 1.0
                when 'on_track' then 0.75
                when 'needs_acceleration' then 0.5
                when 'off_track' then 0.25
                else 0.0
            end
        ) as points

    from statuses
    inner join units
        on statuses.unit_code = units.unit_code
    where
        statuses.status not in ('unit_abolished', 'no_units_registered')
        -- a unit is ranked only in the months it existed (its successor takes its place)
        and (
            units.valid_to_on is null
            or units.valid_to_on >= cast(statuses.period || '-01' as date)
        )
    group by
        statuses.period,
        statuses.unit_code,
        units.unit_name_vi,
        units.unit_group,
        units.province_code

),

ranked as (

    select
        *,
        cast(round(100.0 * points / targets_judged, 2) as double precision) as score,
        row_number() over (
            partition by period, province_code, unit_group
            order by
                100.0 * points / targets_judged desc,
                achieved_count desc,
                no_report_count asc,
                unit_code asc
        ) as group_rank,
        count(*) over (partition by period, province_code, unit_group) as group_size

    from counted

),

compared as (

    select
        *,
        lag(period) over (partition by unit_code order by period) as previous_period,
        lag(score) over (partition by unit_code order by period) as previous_score,
        lag(group_rank) over (partition by unit_code order by period) as previous_group_rank

    from ranked

),

final as (

    select
        {{ dbt.hash(dbt.concat(["period", "'|'", "unit_code"])) }} as unit_scorecard_id,
        period,
        unit_code,
        unit_name_vi,
        unit_group,
        province_code,
        targets_judged,
        achieved_count,
        on_track_count,
        needs_acceleration_count,
        off_track_count,
        falling_short_count,
        insufficient_data_count,
        no_report_count,
        overridden_status_count,
        score,
        group_rank,
        group_size,
        previous_period,
        previous_score,
        previous_group_rank,
        previous_group_rank - group_rank as rank_change

    from compared

)

select * from final
