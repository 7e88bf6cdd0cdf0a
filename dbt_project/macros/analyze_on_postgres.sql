{#- A post-hook of every model: on PostgreSQL, a table just built gets its planner
    statistics at once (autovacuum's ANALYZE comes too late for the models and tests that
    read it in the same build, which the planner would otherwise run as nested loops over
    a table it believes empty). Nothing on DuckDB, nothing for views. -#}
{% macro analyze_on_postgres() %}
    {%- if target.type == 'postgres' and config.get('materialized') in ('table', 'incremental') -%}
        analyze {{ this }}
    {%- endif -%}
{% endmacro %}
