-- A unit may send a month's report more than once (a correction). The file received last
-- wins (then the later "date sent", then the file hash, so the choice is deterministic);
-- the superseded files stay in raw and in history.

with

report_values as (

    select * from {{ ref('stg_unit_reports__values') }}

),

ranked as (

    select
        *,
        count(*) over (
            partition by unit_code, indicator_code, period
        ) as submission_count,
        row_number() over (
            partition by unit_code, indicator_code, period
            order by
                received_at desc nulls last,
                sent_on desc nulls last,
                file_sha256 desc
        ) as submission_rank

    from report_values

),

latest as (

    select * from ranked
    where submission_rank = 1

)

select * from latest
