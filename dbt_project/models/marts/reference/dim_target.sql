-- Targets with their document and validity. A later document that sets a target for the
-- same province, indicator, unit group and deadline replaces the earlier one: both are
-- kept, the earlier with valid_to_on the day before the later was issued. Only the
-- targets of the provinces this instance serves (CHISO_PROVINCES).

with

targets as (

    select * from {{ ref('targets') }}
    where province_code in {{ served_provinces() }}

),

documents as (

    select * from {{ ref('documents') }}

),

with_documents as (

    select
        targets.*,
        documents.document_no,
        documents.document_kind,
        documents.issued_on as document_on,
        documents.issuer

    from targets
    inner join documents
        on targets.document_id = documents.document_id

),

replacements as (

    -- the first later document that sets the same target (not another target of the
    -- same document: one document may set several scopes of one indicator)
    select
        earlier.target_id,
        min(later.document_on) as replaced_on

    from with_documents as earlier
    inner join with_documents as later
        on
            earlier.province_code = later.province_code
            and earlier.indicator_code = later.indicator_code
            and earlier.unit_group = later.unit_group
            and earlier.deadline_on = later.deadline_on
            and earlier.document_on < later.document_on
    group by earlier.target_id

),

with_validity as (

    select
        with_documents.*,
        with_documents.document_on as valid_from_on,
        replacements.replaced_on

    from with_documents
    left join replacements
        on with_documents.target_id = replacements.target_id

),

final as (

    select
        target_id,
        indicator_code,
        province_code,
        unit_group,
        comparator,
        target_value,
        target_value_max,
        deadline_on,
        document_id,
        document_no,
        document_kind,
        document_on,
        issuer,
        case
            when responsible_unit is not null
                then {{ dbt.concat(["province_code", "'.'", "responsible_unit"]) }}
        end as responsible_unit_code,
        section_vi,
        quote_vi,
        scope_vi,
        text_status,
        note,
        valid_from_on,
        cast({{ dbt.dateadd('day', -1, 'replaced_on') }} as date) as valid_to_on,
        replaced_on is null as is_current

    from with_validity

)

select * from final
