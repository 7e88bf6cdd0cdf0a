-- A unit may send a month's report more than once (a correction). Which submission counts
-- is decided in one place, the macro unit_report_submissions (the file received last
-- wins as a whole, then the later "date sent", then the file hash); this keeps its first
-- rank, so a figure the correction dropped is gone too. The superseded files stay in raw
-- and in history.

with

report_values as (

    select * from {{ ref('stg_unit_reports__values') }}

),

latest as (

    select * from report_values
    where submission_rank = 1

)

select * from latest
