{#- The calendar day of a timestamp in the instance's time zone (setting CHISO_TIMEZONE,
    exported by warehouse/settings.py before dbt runs): a file received at 01:00 on the
    6th in Hà Nội is late for a deadline on the 5th, though it is still the 5th in UTC. -#}
{% macro local_date(timestamp) -%}
    cast(({{ timestamp }}) at time zone '{{ env_var("CHISO_TIMEZONE", "Asia/Ho_Chi_Minh") }}' as date)
{%- endmacro %}
