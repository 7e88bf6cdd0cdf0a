{#- True when `value` satisfies the target's comparator ('>=', '>', '=', '<=', '<' or
    'between' target_value and target_value_max). -#}
{% macro meets_target(value, comparator, target_value, target_value_max) -%}
    case {{ comparator }}
        when '>=' then {{ value }} >= {{ target_value }}
        when '>' then {{ value }} > {{ target_value }}
        when '=' then {{ value }} = {{ target_value }}
        when '<=' then {{ value }} <= {{ target_value }}
        when '<' then {{ value }} < {{ target_value }}
        when 'between' then {{ value }} between {{ target_value }} and {{ target_value_max }}
    end
{%- endmacro %}
