with

source as (

    select * from {{ source('admin_units', 'admin_unit_crosswalk') }}

),

renamed as (

    select
        old_province_code,
        old_district_code,
        old_commune_code,
        new_province_code,
        new_commune_code,
        is_divided,
        is_default_new,
        source_version

    from source

)

select * from renamed
