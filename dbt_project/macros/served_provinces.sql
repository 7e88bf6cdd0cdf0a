{#- The provinces this instance serves (setting CHISO_PROVINCES, post-2025 codes), as a SQL
    list of string literals: ('20', '08', '14'). warehouse/settings.py exports the setting
    before dbt runs; the default is the settings module's. -#}
{% macro served_provinces() -%}
    {%- set codes = env_var('CHISO_PROVINCES', '20,08,14').split(',') -%}
    ({% for code in codes %}'{{ code | trim }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
