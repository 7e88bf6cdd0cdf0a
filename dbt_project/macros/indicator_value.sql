{#- A figure's value, the one statement of it: a ratio indicator's is the percentage its
    numerator and denominator make (none when the denominator is 0), any other's the
    value reported. -#}
{% macro indicator_value(kind, numerator, denominator, reported_value) -%}
    case
        when {{ kind }} = 'ratio' then 100.0 * {{ numerator }} / nullif({{ denominator }}, 0)
        else {{ reported_value }}
    end
{%- endmacro %}
