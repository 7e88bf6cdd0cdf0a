with

source as (

    select * from {{ source('registry', 'unit_registry') }}

),

renamed as (

    select
        unit_code,
        unit_name_vi,
        unit_group,
        parent_unit_code,
        province_code,
        served_province_code,
        scheme,
        admin_unit_id,
        cast(valid_from_on as date) as valid_from_on,
        cast(valid_to_on as date) as valid_to_on,
        successor_unit_code,
        source as registry_source,
        note

    from source

)

select * from renamed
