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

{% macro month_checksum(columns) -%}
    {#- an order-independent checksum of a month's rows over ``columns``: with the row
        count, a month whose rows differ in any of them differs (a sum of 64-bit hashes) -#}
    {{ return(adapter.dispatch('month_checksum', 'chiso')(columns)) }}
{%- endmacro %}

{% macro duckdb__month_checksum(columns) -%}
    sum(hash({{ columns | join(', ') }}))
{%- endmacro %}

{% macro postgres__month_checksum(columns) -%}
    sum(hashtextextended(concat_ws('|'
        {%- for column in columns %}, coalesce(cast({{ column }} as text), '\N'){% endfor -%}
    ), 0))
{%- endmacro %}
