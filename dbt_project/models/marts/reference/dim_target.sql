with

targets as (

    select * from {{ ref('targets') }}

),

final as (

    select
        target_id,
        indicator_code,
        province_code,
        unit_group,
        comparator,
        target_value,
        deadline_on,
        document_no,
        document_kind,
        document_on,
        issuer,
        quote_vi

    from targets

)

select * from final
