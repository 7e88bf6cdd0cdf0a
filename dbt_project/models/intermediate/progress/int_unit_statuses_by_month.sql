-- Every status a unit earned, month by month, for the emulation ranking: the as-of month
-- from target_progress, earlier months from the frozen snapshots (target_progress_history;
-- an override is marked only where it is still current).

with

progress as (

    select * from {{ ref('target_progress') }}

),

history as (

    select * from {{ ref('target_progress_history') }}

),

current_statuses as (

    select
        as_of_period as period,
        target_id,
        unit_code,
        status,
        is_status_overridden

    from progress

),

earlier_statuses as (

    select
        snapshot_period as period,
        target_id,
        unit_code,
        status,
        false as is_status_overridden

    from history
    where snapshot_period < (select max(current_statuses.period) from current_statuses)

),

statuses as (

    select * from current_statuses
    union all
    select * from earlier_statuses

)

select * from statuses
