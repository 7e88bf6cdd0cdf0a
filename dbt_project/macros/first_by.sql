{#- The value of ``expression`` on the row where ``order_by`` is least, as an aggregate:
    one pass over the group instead of a window that sorts every row of it. -#}

{% macro first_by(expression, order_by) -%}
    {{ return(adapter.dispatch('first_by', 'chiso')(expression, order_by)) }}
{%- endmacro %}

{% macro duckdb__first_by(expression, order_by) -%}
    arg_min({{ expression }}, {{ order_by }})
{%- endmacro %}

{% macro postgres__first_by(expression, order_by) -%}
    (array_agg({{ expression }} order by {{ order_by }}))[1]
{%- endmacro %}
