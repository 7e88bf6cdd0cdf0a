-- Old unit -> new unit across the 1 July 2025 reorganisation, at province and commune
-- level. A divided old commune maps to several new communes ("partial"); figures move
-- across only where they can be rebuilt from counts (see docs/GEOGRAPHY.md).

with

commune_crosswalk as (

    select * from {{ ref('stg_admin_units__commune_crosswalk') }}

),

province_crosswalk as (

    select * from {{ ref('stg_admin_units__province_crosswalk') }}

),

communes as (

    select
        'commune' as level,
        case
            when old_commune_code is null
                -- island districts had no communes; they became special zones (đặc khu)
                then {{ dbt.concat(["'pre_2025-district-'", "old_district_code"]) }}
            else {{ dbt.concat(["'pre_2025-commune-'", "old_commune_code"]) }}
        end as old_admin_unit_id,
        {{ dbt.concat(["'post_2025-commune-'", "new_commune_code"]) }} as new_admin_unit_id,
        old_province_code,
        new_province_code,
        case when is_divided then 'partial' else 'whole' end as coverage,
        is_default_new

    from commune_crosswalk

),

provinces as (

    select
        'province' as level,
        {{ dbt.concat(["'pre_2025-province-'", "old_province_code"]) }} as old_admin_unit_id,
        {{ dbt.concat(["'post_2025-province-'", "new_province_code"]) }} as new_admin_unit_id,
        old_province_code,
        new_province_code,
        'whole' as coverage,
        true as is_default_new

    from province_crosswalk

),

final as (

    select * from provinces
    union all
    select * from communes

)

select * from final
