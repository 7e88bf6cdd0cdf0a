{#- The month the marts are as of ('YYYY-MM'; empty: the latest month observed). chiso
    passes it in the environment (CHISO_AS_OF_PERIOD, set by warehouse/settings.py for each
    dbt invocation), not as a --vars: a new month then re-parses only the models that read
    it, where a new --vars would make dbt parse the whole project again. A var as_of_period
    (dbt build --vars, a unit test's overrides) comes first. -#}
{% macro as_of_period() -%}
    {{ return(var('as_of_period') or env_var('CHISO_AS_OF_PERIOD', '')) }}
{%- endmacro %}
