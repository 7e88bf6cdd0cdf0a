{#- The months an incremental model builds again: those whose inputs differ from what the
    model holds, by a row count and checksum per month on both sides (both engines): a
    month with nothing new costs a scan of its deciding columns, not the ranking or the
    windows. -#}

{% macro months_that_differ(wanted, built, columns) -%}
    {#- the months (a query of one column, period) whose rows in ``wanted`` (a relation or
        a CTE's name) differ in row count or checksum over ``columns`` from ``built`` -#}
    select coalesce(wanted.period, built.period) as period
    from (
        select period, count(*) as row_count, {{ month_checksum(columns) }} as checksum
        from {{ wanted }}
        group by period
    ) as wanted
    full outer join (
        select period, count(*) as row_count, {{ month_checksum(columns) }} as checksum
        from {{ built }}
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
