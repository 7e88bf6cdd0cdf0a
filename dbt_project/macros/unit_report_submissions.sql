{#- The one statement of which submission counts when a unit sends a month's report more
    than once (a correction): the file received last wins as a whole (then the later "date
    sent", then the file hash, so the choice is deterministic), so a figure the correction
    no longer has is withdrawn with the rest. Superseded rows stay in raw and in history.

    Plain SQL and plain Jinja on purpose: staging (stg_unit_reports__values) renders it on
    its source, and the inbox (ingest/inbox.py, its jump warnings) renders the same file
    with Jinja alone on raw.unit_report_values (warehouse/raw.py), so both read
    one rule. -#}
{% macro unit_report_submissions(unit_report_values) -%}
    with submitted_files as (
        -- every file the figures came from, as the figures say (a figure loaded by another
        -- path than the inbox still ranks, and still meets the tests)
        select distinct file_sha256, unit_code, period, received_at, sent_on
        from {{ unit_report_values }}
    ),

    ranked_files as (
        select
            file_sha256,
            unit_code,
            period,
            count(*) over (partition by unit_code, period) as submission_count,
            row_number() over (
                partition by unit_code, period
                order by received_at desc nulls last, sent_on desc nulls last, file_sha256 desc
            ) as submission_rank
        from submitted_files
    )

    select
        unit_report_values.*,
        ranked_files.submission_count,
        ranked_files.submission_rank
    from {{ unit_report_values }} as unit_report_values
    inner join ranked_files
        on
            unit_report_values.file_sha256 = ranked_files.file_sha256
            and unit_report_values.unit_code = ranked_files.unit_code
            and unit_report_values.period = ranked_files.period
{%- endmacro %}
