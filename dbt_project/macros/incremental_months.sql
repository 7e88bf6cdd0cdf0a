{#- The months an incremental model builds again: those whose inputs differ from what the
    model holds, by a row count and checksum per month on both sides (both engines): a
    month with nothing new costs a scan of its deciding columns, not the ranking or the
    windows. -#}

{% macro months_changed_in_raw(relation) -%}
    {#- months whose raw figures (raw.unit_report_values: whatever loaded them) differ in
        row count or checksum from what the relation holds -#}
    {%- set deciding = [
        'file_sha256', 'source_row', 'numerator', 'denominator', 'reported_value',
        'received_at', 'sent_on',
    ] %}
    select coalesce(wanted.period, built.period)
    from (
        select period, count(*) as row_count, {{ month_checksum(deciding) }} as checksum
        from {{ source('unit_reports', 'unit_report_values') }}
        group by period
    ) as wanted
    full outer join (
        select period, count(*) as row_count, {{ month_checksum(deciding) }} as checksum
        from {{ relation }}
        group by period
    ) as built
        on wanted.period = built.period
    where
        wanted.row_count is distinct from built.row_count
        or wanted.checksum is distinct from built.checksum
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
