{#- Targets counted by status, as the scorecard and the pillar overview report them:
    achieved (achieved or maintain), on track, needs acceleration, off track, falling short
    (deteriorating or not achieved), insufficient data, no report. count() is a bigint
    on every engine (a sum of integers is a hugeint on DuckDB, numeric on PostgreSQL). -#}
{% macro status_counts(status) -%}
    count(case when {{ status }} in ('achieved', 'maintain') then 1 end) as achieved_count,
    count(case when {{ status }} = 'on_track' then 1 end) as on_track_count,
    count(case when {{ status }} = 'needs_acceleration' then 1 end)
        as needs_acceleration_count,
    count(case when {{ status }} = 'off_track' then 1 end) as off_track_count,
    count(case when {{ status }} in ('deteriorating', 'not_achieved') then 1 end)
        as falling_short_count,
    count(case when {{ status }} = 'insufficient_data' then 1 end)
        as insufficient_data_count,
    count(case when {{ status }} = 'no_report' then 1 end) as no_report_count
{%- endmacro %}
