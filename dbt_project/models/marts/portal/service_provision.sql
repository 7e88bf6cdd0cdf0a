-- Online public-service provision per province and export month. A province the export
-- lists twice is left out (stg_portal__provision flags it): neither row can be trusted.

with

provision as (

    select * from {{ ref('stg_portal__provision') }}
    where not is_listed_twice

),

final as (

    select
        {{ dbt.hash(dbt.concat(["period", "'|'", "province_code"])) }} as service_provision_id,
        period,
        province_code,
        province_name,
        procedures,
        eligible_full_online,
        offered_full_online,
        offered_partly_online,
        not_online,
        cast(100.0 * offered_full_online / nullif(eligible_full_online, 0) as double precision)
            as full_online_share_of_eligible,
        cast(
            100.0 * (offered_full_online + offered_partly_online) / nullif(procedures, 0)
            as double precision
        ) as online_share_of_procedures,
        file_sha256,
        source_row,
        source_file_name

    from provision

)

select * from final
