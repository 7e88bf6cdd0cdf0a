-- Reporting rates per province, unit group and month, from reporting_completeness: what
-- was expected (the units that existed that month and owed a report), received on time,
-- late, only rejected, missing, not yet due. Received and expected count the same units,
-- so a rate can never pass 100 % (DHIS2's can, when a unit that closed still counts as
-- received but no longer as expected): a unit that ceased owes nothing after it ceased,
-- and a file it sent for such a month is counted nowhere.

with

completeness as (

    select * from {{ ref('reporting_completeness') }}

),

counted as (

    select
        province_code,
        unit_group,
        period,
        min(due_on) as due_on,
        count(*) as expected_count,
        count(case when reporting_status = 'received_on_time' then 1 end) as on_time_count,
        count(case when reporting_status = 'received_late' then 1 end) as late_count,
        count(case when reporting_status = 'rejected_only' then 1 end) as rejected_only_count,
        count(case when reporting_status = 'missing' then 1 end) as missing_count,
        count(case when reporting_status = 'not_yet_due' then 1 end) as not_yet_due_count,
        count(case when through_exception then 1 end) as through_exception_count

    from completeness
    group by province_code, unit_group, period

),

final as (

    select
        {{ dbt.hash(dbt.concat(["province_code", "'|'", "unit_group", "'|'", "period"])) }}
            as reporting_rate_id,
        province_code,
        unit_group,
        period,
        due_on,
        expected_count,
        on_time_count,
        late_count,
        rejected_only_count,
        missing_count,
        not_yet_due_count,
        through_exception_count,
        cast(100.0 * (on_time_count + late_count) / expected_count as numeric(10, 1))
            as reporting_rate,
        cast(100.0 * on_time_count / expected_count as numeric(10, 1)) as on_time_rate

    from counted

)

select * from final
