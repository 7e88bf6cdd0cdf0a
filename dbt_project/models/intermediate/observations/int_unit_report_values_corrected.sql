-- The figures of the unit-months a unit sent more than once (every file of them, ranked:
-- submission_rank 1 counts), for figure_revisions: every other figure has no revision,
-- and leaving it out here keeps its joins to the few per cent of a month corrections touch.

with

all_report_values as (

    select * from {{ ref('stg_unit_reports__values') }}

),

corrected_months as (

    -- the unit-months with more than one file
    select
        unit_code,
        period
    from all_report_values
    group by unit_code, period
    having max(submission_rank) > 1

),

report_values as (

    select all_report_values.*
    from all_report_values
    inner join corrected_months  -- one row per unit-month: no figure is repeated
        on
            all_report_values.unit_code = corrected_months.unit_code
            and all_report_values.period = corrected_months.period

)

select * from report_values
