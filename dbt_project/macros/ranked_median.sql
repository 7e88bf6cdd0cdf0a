{#- The median of a group's values, given each one's rank among them (row_number in
    order, 1 for the least) and their count: the middle one, or the mean of the middle
    two, as percentile_cont(0.5) has it, to the last bit on DuckDB. A sort in a window
    instead of a holistic aggregate per group: DuckDB holds a holistic aggregate's
    values for every group of a group-by at once, which at national scale (some 360,000
    series) costs minutes, and spilled past its budget when the changes were a table. -#}

{% macro ranked_median(value, rank, count) -%}
    (
        min({{ value }}) filter (where 2 * {{ rank }} between {{ count }} and {{ count }} + 2)
        + max({{ value }}) filter (where 2 * {{ rank }} between {{ count }} and {{ count }} + 2)
    ) / 2
{%- endmacro %}
