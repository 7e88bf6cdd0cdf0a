with

source as (

    select * from {{ source('snapshots', 'snapshot_target_progress') }}

),

renamed as (

    select
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
        status,
        file_sha256

    from source

)

select * from renamed
