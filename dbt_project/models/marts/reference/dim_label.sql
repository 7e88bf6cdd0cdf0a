with

labels as (

    select * from {{ ref('labels') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat(["kind", "'|'", "code"])) }} as dim_label_id,
        kind,
        code,
        label_vi,
        label_en

    from labels

)

select * from final
