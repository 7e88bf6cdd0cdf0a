with

source as (

    select * from {{ source('admin_units', 'admin_units_legacy') }}

),

renamed as (

    select
        province_code,
        province_name,
        district_code,
        district_name,
        district_type,
        commune_code,
        commune_name,
        commune_type,
        source_version

    from source

)

select * from renamed
