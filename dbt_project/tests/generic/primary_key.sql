{#- A key, in one scan instead of two tests (unique + not_null): fails for every value of
    the key columns that is null or appears more than once. On a column
    (`data_tests: [primary_key]`) or a model (`primary_key: {arguments: {columns: [...]}}`). -#}
{% test primary_key(model, column_name=none, columns=none) %}
    {%- set keys = columns or [column_name] %}
    select
        {{ keys | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ keys | join(', ') }}
    having count(*) > 1
        {%- for key in keys %}
        or {{ key }} is null
        {%- endfor %}
{% endtest %}
