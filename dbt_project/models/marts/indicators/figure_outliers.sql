-- Figures worth a second look: every unit x indicator series with a figure in the as-of
-- month, judged against its own history (int_figure_series_statistics) by two tests
-- (int_figure_outliers_flagged): the month-to-month change's modified z-score, and the
-- bounds the history sets. A series needs var outlier_min_history changes before it is
-- judged. Outliers are gate warnings and a follow-up list, never blocking on their own;
-- follow_up_vi says what to check, and in which file.

with

outliers_flagged as (

    select * from {{ ref('int_figure_outliers_flagged') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

flagged as (

    select
        outliers_flagged.*,
        case when indicators.unit = 'percent' then '%' else '' end as suffix

    from outliers_flagged
    left join indicators on outliers_flagged.indicator_code = indicators.indicator_code

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
        flagged.is_outlier,
        case
            when flagged.is_outlier
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

    from flagged
    left join units on flagged.unit_code = units.unit_code

)

select * from final
