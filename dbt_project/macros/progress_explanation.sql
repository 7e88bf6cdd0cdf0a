{#- One Vietnamese sentence saying why a target_progress row has its status, with its
    numbers: where the unit stands against the target and its deadline, and, while the
    target runs, the change a month it needs against the change a month of its recent
    figures ("cần tăng 1,4 điểm mỗi tháng, 6 tháng gần đây tăng 1,0 điểm mỗi tháng").
    Reads the columns of target_progress's `explained` step (unit_suffix: '%' for a
    percentage; needed_monthly_change: the change a month still needed). -#}
{% macro progress_explanation() -%}
    {%- set latest = vi_number('latest_value') ~ " || unit_suffix" -%}
    {%- set target = vi_number('target_value') ~ " || unit_suffix" -%}
    {#- the target as the document sets it: 100%, 15–20%, không quá 10% (at most), dưới
        (below), trên (above) -#}
    {%- set target_text = "case comparator when 'between' then " ~ vi_number('target_value')
        ~ " || '–' || " ~ vi_number('target_value_max') ~ " || unit_suffix"
        ~ " when '<=' then 'không quá ' || " ~ target
        ~ " when '<' then 'dưới ' || " ~ target
        ~ " when '>' then 'trên ' || " ~ target
        ~ " else " ~ target ~ " end" -%}
    {%- set deadline = vi_date('deadline_on') -%}
    {%- set against = "' so với mục tiêu ' || " ~ target_text ~ " || ' đến ' || " ~ deadline -%}
    {%- set points = "case when unit_suffix = '%' then ' điểm' else '' end" -%}
    case computed_status
        when 'no_units_registered' then
            'Chưa có đơn vị nhóm ' || unit_group
            || ' nào trong danh mục của tỉnh (nhập danh sách bằng chiso units import).'
        when 'unit_abolished' then
            'Đơn vị đã kết thúc hoạt động ngày ' || {{ vi_date('unit_valid_to_on') }}
            || ', trước khi chỉ tiêu được đánh giá (hạn ' || {{ deadline }}
            || '); số liệu đã báo cáo vẫn được giữ.'
        when 'no_report' then
            'Chưa có số liệu nào cho chỉ tiêu này đến kỳ ' || {{ vi_month('as_of_period') }}
            || '; mục tiêu ' || {{ target_text }} || ' đến ' || {{ deadline }} || '.'
        when 'insufficient_data' then
            'Mới có 1 kỳ số liệu (' || {{ latest }} || ' kỳ ' || {{ vi_month('latest_period') }}
            || '), chưa đủ để tính tiến độ' || {{ against }} || '.'
        when 'achieved' then
            'Đạt ' || {{ latest }} || ' (kỳ ' || {{ vi_month('latest_period') }} || ')'
            || {{ against }} || '.'
        when 'not_achieved' then
            'Đến hạn ' || {{ deadline }} || ' đạt ' || {{ latest }} || ' (kỳ '
            || {{ vi_month('latest_period') }} || '), chưa đạt mục tiêu ' || {{ target_text }}
            || '.'
        when 'maintain' then
            'Duy trì ' || {{ latest }} || ' (kỳ ' || {{ vi_month('latest_period') }}
            || '), đã đạt mục tiêu ' || {{ target_text }} || ' từ kỳ gốc '
            || {{ vi_month('baseline_period') }} || ' (' || {{ vi_number('baseline_value') }}
            || unit_suffix || ').'
        when 'deteriorating' then
            'Đi xuống: từ ' || {{ vi_number('baseline_value') }} || unit_suffix || ' (kỳ '
            || {{ vi_month('baseline_period') }} || ') còn ' || {{ latest }} || ' (kỳ '
            || {{ vi_month('latest_period') }} || ')' || {{ against }} || '.'
        else
            'Đạt ' || {{ latest }} || {{ against }}
            || coalesce(
                '; cần ' || case when needed_monthly_change < 0 then 'giảm ' else 'tăng ' end
                || {{ vi_number('abs(needed_monthly_change)', decimal=true) }} || {{ points }} || ' mỗi tháng',
                ''
            )
            || coalesce(
                ', 6 tháng gần đây '
                || case
                    when abs(recent_monthly_trend) < 0.05 then 'gần như không đổi'
                    else
                        case when recent_monthly_trend < 0 then 'giảm ' else 'tăng ' end
                        || {{ vi_number('abs(recent_monthly_trend)', decimal=true) }} || {{ points }}
                        || ' mỗi tháng'
                end,
                ''
            )
            || '.'
    end
{%- endmacro %}
