{#- Numbers, dates and months written the Vietnamese way in sentences people read:
    89,9 (a decimal comma, one decimal; a whole number without one unless `decimal`: a
    change a month reads "1,0"), 31/12/2025, 06/2025. The same SQL on DuckDB and
    PostgreSQL. -#}
{% macro vi_number(expression, decimal=false) -%}
    {%- set one_decimal = "replace(cast(cast(" ~ expression ~ " as numeric(18, 1)) as varchar), '.', ',')" -%}
    {%- if decimal -%}
    {{ one_decimal }}
    {%- else -%}
    {%- set rounded = "cast(" ~ expression ~ " as numeric(18, 1))" %}
    case
        when {{ rounded }} = floor({{ rounded }}) then cast(cast({{ rounded }} as bigint) as varchar)
        else {{ one_decimal }}
    end
    {%- endif -%}
{%- endmacro %}

{% macro vi_date(expression) -%}
    {{ dbt.concat([
        "right('0' || cast(extract(day from " ~ expression ~ ") as varchar), 2)", "'/'",
        "right('0' || cast(extract(month from " ~ expression ~ ") as varchar), 2)", "'/'",
        "cast(extract(year from " ~ expression ~ ") as varchar)"
    ]) }}
{%- endmacro %}

{% macro vi_month(period) -%}
    {{ dbt.concat(["substr(" ~ period ~ ", 6, 2)", "'/'", "substr(" ~ period ~ ", 1, 4)"]) }}
{%- endmacro %}
