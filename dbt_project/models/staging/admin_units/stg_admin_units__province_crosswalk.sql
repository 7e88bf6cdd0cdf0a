with

source as (

    select * from {{ source('admin_units', 'admin_province_crosswalk') }}

),

renamed as (

    select
        old_province_code,
        new_province_code,
        source_version

    from source

)

select * from renamed
