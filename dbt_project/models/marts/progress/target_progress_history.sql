-- The status of every target for every unit, month by month, as each month's immutable
-- snapshot froze it, so a BI tool can chart progress without re-running anything.
-- Empty before the first snapshot.

with

snapshots as (

    select * from {{ ref('stg_snapshots__target_progress') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["snapshot_period", "'|'", "target_id", "'|'", "coalesce(unit_code, '')"])) }}
            as target_progress_history_id,
        snapshot_period,
        target_id,
        unit_code,
        unit_group,
        indicator_code,
        target_value,
        deadline_on,
        latest_period,
        latest_value,
        pace_ratio,
        projected_value_at_deadline,
        status

    from snapshots

)

select * from final
