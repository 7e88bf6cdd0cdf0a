-- Figures worth a second look: for every unit × indicator series with a figure in the
-- as-of month (selected observations), two tests against the series' own history (the
-- months before), beside the inbox's jump warnings:
--   * the month-to-month change's modified z-score, M = 0.6745 (d - median) / MAD over the
--     history's changes (Iglewicz and Hoaglin; where MAD is 0, the mean absolute deviation
--     x 1.2533 stands in), an outlier when |M| > var outlier_z_limit;
--   * the bounds the history sets: its minimum and maximum, widened by its largest
--     month-to-month step (a series that grows steadily stays inside), an outlier outside.
-- The history is the var outlier_history_months months before the as-of month: a unit's
-- behaviour of recent years, not of its first reports, and a cost that stays the same as
-- the years of figures grow. A series needs var outlier_min_history changes in it before
-- it is judged. Outliers are gate warnings and a follow-up list, never blocking on their
-- own.

{%- set as_of_period = as_of_period() %}
{%- set z_limit = var('outlier_z_limit') %}
{%- set min_history = var('outlier_min_history') %}
{%- set history_months = var('outlier_history_months') | int %}
{%- if as_of_period %}
    {%- set first_month = (as_of_period[:4] | int) * 12 + (as_of_period[5:7] | int) - 1 - history_months %}
    {%- set history_from = "%04d-%02d" | format(first_month // 12, first_month % 12 + 1) %}
{%- endif %}

with

observations as (

    -- only what the windows need: at national scale the history is some 14 M figures,
    -- and every column carried through the windows is held for each of them
    select
        unit_code,
        indicator_code,
        period,
        value

    from {{ ref('fct_indicator_observations') }}
    -- noqa: disable=LT02
    where
        is_selected
        and value is not null
        {%- if as_of_period %}
            -- the window's months as literals: older months are never read
            and period >= '{{ history_from }}'
            and period <= '{{ as_of_period }}'
        {%- endif %}
    -- noqa: enable=LT02

),

as_of as (

    -- one row: the as-of month (the latest observed one when the var is empty)
    select
        {% if as_of_period %}max(cast('{{ as_of_period }}' as varchar)){% else %}max(period){% endif %}
            as as_of_period

    from observations

),

window_start as (

    select
        as_of_period,
        {{ dbt.dateadd('month', -history_months, "cast(as_of_period || '-01' as date)") }}
            as history_from_on

    from as_of

),

stepped as (

    select
        observations.*,
        observations.value - lag(observations.value) over (
            partition by observations.unit_code, observations.indicator_code
            order by observations.period
        ) as value_change,
        lag(observations.period) over (
            partition by observations.unit_code, observations.indicator_code
            order by observations.period
        ) as previous_period,
        lag(observations.value) over (
            partition by observations.unit_code, observations.indicator_code
            order by observations.period
        ) as previous_value

    from observations
    cross join window_start
    where
        observations.period <= window_start.as_of_period
        and cast(observations.period || '-01' as date) >= window_start.history_from_on

),

current_figures as (

    -- the as-of month's figures, with the file each came from
    select
        stepped.*,
        files.source_file_name

    from stepped
    inner join as_of on stepped.period = as_of.as_of_period
    inner join {{ ref('fct_indicator_observations') }} as files
        on
            stepped.unit_code = files.unit_code
            and stepped.indicator_code = files.indicator_code
            and stepped.period = files.period
            and files.is_selected

),

history as (

    select
        stepped.unit_code,
        stepped.indicator_code,
        count(stepped.value_change) as history_change_count,
        min(stepped.value) as history_min,
        max(stepped.value) as history_max,
        max(abs(stepped.value_change)) as largest_step,
        percentile_cont(0.5) within group (order by stepped.value_change) as median_change,
        avg(stepped.value_change) as mean_change

    from stepped
    cross join as_of
    where stepped.period < as_of.as_of_period
    group by stepped.unit_code, stepped.indicator_code

),

deviations as (

    select
        stepped.unit_code,
        stepped.indicator_code,
        percentile_cont(0.5) within group (
            order by abs(stepped.value_change - history.median_change)
        ) as median_absolute_deviation,
        avg(abs(stepped.value_change - history.mean_change)) as mean_absolute_deviation

    from stepped
    cross join as_of
    inner join history
        on stepped.unit_code = history.unit_code and stepped.indicator_code = history.indicator_code
    where stepped.period < as_of.as_of_period and stepped.value_change is not null
    group by stepped.unit_code, stepped.indicator_code

),

scored as (

    select
        current_figures.unit_code,
        current_figures.indicator_code,
        current_figures.period,
        current_figures.value,
        current_figures.previous_period,
        current_figures.previous_value,
        current_figures.value_change,
        current_figures.source_file_name,
        history.history_change_count,
        history.median_change,
        deviations.median_absolute_deviation,
        history.history_min - history.largest_step as lower_bound,
        history.history_max + history.largest_step as upper_bound,
        cast(
            case
                when deviations.median_absolute_deviation > 0
                    then 0.6745 * (current_figures.value_change - history.median_change)
                        / deviations.median_absolute_deviation
                when deviations.mean_absolute_deviation > 0
                    then (current_figures.value_change - history.median_change)
                        / (1.2533 * deviations.mean_absolute_deviation)
            end
            as double precision
        ) as modified_z_score

    from current_figures
    inner join history
        on
            current_figures.unit_code = history.unit_code
            and current_figures.indicator_code = history.indicator_code
    left join deviations
        on
            current_figures.unit_code = deviations.unit_code
            and current_figures.indicator_code = deviations.indicator_code
    where history.history_change_count >= {{ min_history }}

),

flagged as (

    select
        *,
        coalesce(abs(modified_z_score) > {{ z_limit }}, false) as is_change_outlier,
        value < lower_bound or value > upper_bound as is_out_of_bounds

    from scored

),

final as (

    select
        {{ dbt.hash(dbt.concat(["flagged.unit_code", "'|'", "flagged.indicator_code", "'|'", "flagged.period"])) }}
            as figure_outlier_id,
        flagged.unit_code,
        units.unit_name_vi,
        units.province_code,
        flagged.indicator_code,
        flagged.period,
        flagged.value,
        flagged.previous_period,
        flagged.previous_value,
        flagged.value_change,
        flagged.history_change_count,
        flagged.median_change,
        flagged.median_absolute_deviation,
        flagged.modified_z_score,
        flagged.lower_bound,
        flagged.upper_bound,
        flagged.is_change_outlier,
        flagged.is_out_of_bounds,
        flagged.is_change_outlier or flagged.is_out_of_bounds as is_outlier,
        case
            when flagged.is_change_outlier or flagged.is_out_of_bounds
                then
                    'Kỳ ' || {{ vi_month('flagged.period') }} || ': ' || {{ vi_number('flagged.value') }}
                    || flagged.suffix
                    || coalesce(
                        ' (kỳ trước ' || {{ vi_number('flagged.previous_value') }} || flagged.suffix || ')',
                        ''
                    )
                    || case
                        when flagged.is_change_outlier
                            then '; mức thay đổi khác thường so với lịch sử (z = '
                                || {{ vi_number('flagged.modified_z_score', decimal=true) }} || ')'
                        else ''
                    end
                    || case
                        when flagged.is_out_of_bounds
                            then '; ngoài khoảng thường gặp ' || {{ vi_number('flagged.lower_bound') }}
                                || '–' || {{ vi_number('flagged.upper_bound') }} || flagged.suffix
                        else ''
                    end
                    || '. Đề nghị đơn vị kiểm tra lại (tệp ' || flagged.source_file_name || ').'
        end as follow_up_vi

    from (
        select
            flagged.*,
            case when indicators.unit = 'percent' then '%' else '' end as suffix
        from flagged
        left join {{ ref('dim_indicator') }} as indicators
            on flagged.indicator_code = indicators.indicator_code
    ) as flagged
    left join {{ ref('dim_unit') }} as units on flagged.unit_code = units.unit_code

)

select * from final
