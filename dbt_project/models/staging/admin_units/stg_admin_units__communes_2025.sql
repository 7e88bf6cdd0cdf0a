with

source as (

    select * from {{ source('admin_units', 'admin_units_2025') }}

),

renamed as (

    select
        province_code,
        province_name,
        commune_code,
        commune_name,
        commune_type,
        source_version

    from source

)

select * from renamed
