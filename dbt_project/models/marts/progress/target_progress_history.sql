-- The status of every target for every unit, month by month, as each month's immutable
-- snapshot froze it, so a BI tool can chart progress without re-running anything.
-- Snapshots are chiso's own output read back, so this mart reads its source directly;
-- before the first snapshot it is empty, with target_progress's columns.
-- depends_on: {{ ref('target_progress') }}

{%- set frozen = adapter.get_relation(
    database=target.database, schema='raw', identifier='snapshot_target_progress'
) if execute else none %}

with

snapshots as (

    {% if frozen -%}
        select * from {{ frozen }}
    {%- else -%}
        select
            *,
            cast(null as varchar) as snapshot_period
        from {{ ref('target_progress') }}
        where false
    {%- endif %}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["snapshot_period", "'|'", "target_id", "'|'", "unit_code"])) }}
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
