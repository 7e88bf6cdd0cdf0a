with

indicators as (

    select * from {{ ref('indicators') }}

),

final as (

    select
        indicator_code,
        name_vi,
        name_en,
        pillar,
        kind,
        direction,
        unit,
        min_value,
        max_value,
        measured_at,
        measured_by,
        numerator_vi,
        denominator_vi,
        exclusion_vi,
        method_break_on,
        concept_note

    from indicators

)

select * from final
