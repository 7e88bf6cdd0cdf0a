-- Per province and pillar, as of the run's month: how the targets of all its units stand.
-- One row per province and pillar; units' targets counted by status (a target applying to
-- five districts counts five times: each is a commitment of one unit).

with

progress as (

    select * from {{ ref('target_progress') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

counted as (

    select
        progress.as_of_period,
        progress.province_code,
        indicators.pillar,
        count(*) as unit_targets,
        count(
            case when progress.status not in ('unit_abolished', 'no_units_registered') then 1 end
        ) as unit_targets_judged,
        {{ status_counts('progress.status') }}

    from progress
    inner join indicators
        on progress.indicator_code = indicators.indicator_code
    group by progress.as_of_period, progress.province_code, indicators.pillar

),

final as (

    select
        {{ dbt.hash(dbt.concat(["as_of_period", "'|'", "province_code", "'|'", "pillar"])) }}
            as province_pillar_overview_id,
        *,
        cast(
            100.0 * achieved_count / nullif(unit_targets_judged, 0) as double precision
        ) as achieved_share,
        cast(
            100.0 * (achieved_count + on_track_count) / nullif(unit_targets_judged, 0)
            as double precision
        ) as achieved_or_on_track_share

    from counted

)

select * from final
