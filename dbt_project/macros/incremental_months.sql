{#- The months an incremental model builds again: those whose inputs differ from what the
    model holds. Both engines; the comparisons are anti-joins on the file hash, so a month
    with nothing new costs a scan of hashes, not the ranking or the windows. -#}

{% macro months_with_files_not_in(relation) -%}
    {#- months with a landed file (raw.unit_report_files) the relation has no row of -#}
    select distinct files.period
    from {{ source('unit_reports', 'unit_report_files') }} as files
    where not exists (
        select 1 from {{ relation }} as built
        where built.file_sha256 = files.file_sha256
    )
{%- endmacro %}
