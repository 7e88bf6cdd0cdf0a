-- Every change a correction made to a figure: a unit sent a month's report again, and the
-- file received later (which counts, whole: macro unit_report_submissions) changed, dropped
-- or added a figure of the one it replaced. One row per indicator that differs between a
-- file and the one just before it for the same unit and month, with both files and when
-- each was received; a figure sent again unchanged is no revision.

with

report_values as (

    select * from {{ ref('int_unit_report_values_corrected') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

files as (

    select distinct
        unit_code,
        period,
        file_sha256,
        source_file_name,
        received_at,
        submission_rank
    from report_values

),

replacements as (

    -- each file with the one it replaced (the next rank is the file received before it)
    select
        newer.unit_code,
        newer.period,
        older.file_sha256 as old_file_sha256,
        older.source_file_name as old_file_name,
        older.received_at as old_received_at,
        newer.file_sha256 as new_file_sha256,
        newer.source_file_name as new_file_name,
        newer.received_at as new_received_at,
        newer.submission_rank = 1 as is_counting

    from files as newer
    inner join files as older
        on
            newer.unit_code = older.unit_code
            and newer.period = older.period
            and older.submission_rank = newer.submission_rank + 1

),

indicator_pairs as (

    -- every indicator either file has (two equi-joins: a join on either file would not be one)
    select
        replacements.*,
        report_values.indicator_code
    from replacements
    inner join report_values
        on replacements.old_file_sha256 = report_values.file_sha256

    union

    select
        replacements.*,
        report_values.indicator_code
    from replacements
    inner join report_values
        on replacements.new_file_sha256 = report_values.file_sha256

),

compared as (

    select
        indicator_pairs.*,
        indicators.kind,
        old_values.numerator as old_numerator,
        old_values.denominator as old_denominator,
        old_values.reported_value as old_reported_value,
        new_values.numerator as new_numerator,
        new_values.denominator as new_denominator,
        new_values.reported_value as new_reported_value,
        case
            when new_values.file_sha256 is null then 'withdrawn'
            when old_values.file_sha256 is null then 'added'
            else 'revised'
        end as change_kind

    from indicator_pairs
    inner join indicators
        on indicator_pairs.indicator_code = indicators.indicator_code
    left join report_values as old_values
        on
            indicator_pairs.old_file_sha256 = old_values.file_sha256
            and indicator_pairs.indicator_code = old_values.indicator_code
    left join report_values as new_values
        on
            indicator_pairs.new_file_sha256 = new_values.file_sha256
            and indicator_pairs.indicator_code = new_values.indicator_code

),

changed as (

    select * from compared
    where
        change_kind <> 'revised'
        or old_numerator is distinct from new_numerator
        or old_denominator is distinct from new_denominator
        or old_reported_value is distinct from new_reported_value

),

final as (

    select
        {{ dbt.hash(dbt.concat(["new_file_sha256", "'|'", "indicator_code"])) }} as revision_id,
        unit_code,
        indicator_code,
        period,
        change_kind,
        old_numerator,
        old_denominator,
        {{ indicator_value('kind', 'old_numerator', 'old_denominator', 'old_reported_value') }} as old_value,
        new_numerator,
        new_denominator,
        {{ indicator_value('kind', 'new_numerator', 'new_denominator', 'new_reported_value') }} as new_value,
        old_file_sha256,
        old_file_name,
        old_received_at,
        new_file_sha256,
        new_file_name,
        new_received_at,
        is_counting

    from changed

)

select * from final
