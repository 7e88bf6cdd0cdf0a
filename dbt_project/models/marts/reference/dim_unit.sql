with

units as (

    select * from {{ ref('stg_registry__units') }}

),

final as (

    select
        unit_code,
        unit_name_vi,
        unit_group,
        parent_unit_code,
        province_code,
        served_province_code,
        scheme,
        admin_unit_id,
        valid_from_on,
        valid_to_on,
        successor_unit_code,
        registry_source,
        note

    from units

)

select * from final
