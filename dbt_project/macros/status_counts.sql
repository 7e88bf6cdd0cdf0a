{#- Targets counted by status, as the scorecard and the pillar overview report them:
    achieved (achieved or maintain), on track, needs acceleration, off track, falling short
    (deteriorating or not achieved), insufficient data, no report. -#}
{% macro status_counts(status) -%}
    sum(case when {{ status }} in ('achieved', 'maintain') then 1 else 0 end) as achieved_count,
    sum(case when {{ status }} = 'on_track' then 1 else 0 end) as on_track_count,
    sum(case when {{ status }} = 'needs_acceleration' then 1 else 0 end)
        as needs_acceleration_count,
    sum(case when {{ status }} = 'off_track' then 1 else 0 end) as off_track_count,
    sum(case when {{ status }} in ('deteriorating', 'not_achieved') then 1 else 0 end)
        as falling_short_count,
    sum(case when {{ status }} = 'insufficient_data' then 1 else 0 end)
        as insufficient_data_count,
    sum(case when {{ status }} = 'no_report' then 1 else 0 end) as no_report_count
{%- endmacro %}
