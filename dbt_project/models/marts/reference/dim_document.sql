with

documents as (

    select * from {{ ref('documents') }}

),

final as (

    select
        document_id,
        document_no,
        document_kind,
        issued_on,
        issuer,
        province_code,
        title_vi,
        seed_file,
        text_quality,
        note

    from documents

)

select * from final
