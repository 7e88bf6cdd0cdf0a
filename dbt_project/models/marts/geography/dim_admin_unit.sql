-- Every administrative unit of both schemes: pre_2025 (province > district > commune, until
-- 30 June 2025) and post_2025 (province > commune, from 1 July 2025). A code alone is not
-- a key: the new scheme reuses old commune codes for other communes, so the id carries
-- the scheme and the level.

{%- set reorganisation_on = "cast('" ~ var('reorganisation_on') ~ "' as date)" %}

with

legacy as (

    select * from {{ ref('stg_admin_units__legacy_communes') }}

),

communes_2025 as (

    select * from {{ ref('stg_admin_units__communes_2025') }}

),

legacy_provinces as (

    select distinct
        'pre_2025' as scheme,
        'province' as level,
        province_code as code,
        province_name as name_vi,
        cast(null as varchar) as parent_level,
        cast(null as varchar) as parent_code,
        province_code

    from legacy

),

legacy_districts as (

    select distinct
        'pre_2025' as scheme,
        'district' as level,
        district_code as code,
        district_name as name_vi,
        'province' as parent_level,
        province_code as parent_code,
        province_code

    from legacy

),

legacy_communes as (

    select
        'pre_2025' as scheme,
        'commune' as level,
        commune_code as code,
        commune_name as name_vi,
        'district' as parent_level,
        district_code as parent_code,
        province_code

    from legacy
    where commune_code is not null

),

new_provinces as (

    select distinct
        'post_2025' as scheme,
        'province' as level,
        province_code as code,
        province_name as name_vi,
        cast(null as varchar) as parent_level,
        cast(null as varchar) as parent_code,
        province_code

    from communes_2025

),

new_communes as (

    select
        'post_2025' as scheme,
        'commune' as level,
        commune_code as code,
        commune_name as name_vi,
        'province' as parent_level,
        province_code as parent_code,
        province_code

    from communes_2025

),

unioned as (

    select * from legacy_provinces
    union all
    select * from legacy_districts
    union all
    select * from legacy_communes
    union all
    select * from new_provinces
    union all
    select * from new_communes

),

final as (

    select
        {{ dbt.concat(["scheme", "'-'", "level", "'-'", "code"]) }} as admin_unit_id,
        scheme,
        level,
        code,
        name_vi,
        case
            when parent_code is not null
                then {{ dbt.concat(["scheme", "'-'", "parent_level", "'-'", "parent_code"]) }}
        end as parent_admin_unit_id,
        province_code,
        case when scheme = 'post_2025' then {{ reorganisation_on }} end as valid_from_on,
        case
            when scheme = 'pre_2025'
                then cast({{ dbt.dateadd('day', -1, reorganisation_on) }} as date)
        end as valid_to_on

    from unioned

)

select * from final
