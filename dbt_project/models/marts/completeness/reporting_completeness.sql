-- Who owes a report for a month (int_units_owing_reports: one row per unit and month it
-- owes, as the reporting calendar says), and whether it came. A report counts from the day
-- chiso received it (in the instance's time zone), never from the date it states as sent
-- (ngày gửi), which a clerk types and the reader only checks for sense.

{%- set as_of_period = as_of_period() %}
{#- days late are counted to the run's as-of date, never the clock (a rerun of a month gives
    the same marts): the last day of the month after the as-of month, when that month's
    reports are all due; var completeness_reference_on overrides it -#}
{%- set as_of_date = dbt.dateadd('day', -1, dbt.dateadd('month', 2, "cast('" ~ as_of_period ~ "-01' as date)"))
    if as_of_period else 'current_date' %}
{%- set reference_on = "cast('" ~ var('completeness_reference_on') ~ "' as date)"
    if var('completeness_reference_on') else "cast(" ~ as_of_date ~ " as date)" %}

with

owed as (

    select * from {{ ref('int_units_owing_reports') }}

),

files as (

    select * from {{ ref('stg_unit_reports__files') }}

),

rejections as (

    select * from {{ ref('stg_unit_reports__rejections') }}

),

all_exception_uses as (

    select * from {{ ref('stg_calendar__exception_uses') }}

),

exception_uses as (

    select distinct
        unit_code,
        period
    from all_exception_uses

),

accepted as (

    select
        unit_code,
        period,
        count(*) as accepted_file_count,
        -- the day the first accepted file arrived (its time in the inbox: a backfill
        -- copied in with its files' times keeps them)
        min({{ local_date('received_at') }}) as first_received_on

    from files
    group by unit_code, period

),

rejected as (

    select
        unit_code,
        period,
        count(*) as rejected_file_count,
        min({{ local_date('received_at') }}) as first_rejected_on

    from rejections
    where unit_code is not null and period is not null
    group by unit_code, period

),

joined as (

    select
        owed.*,
        coalesce(accepted.accepted_file_count, 0) as accepted_file_count,
        coalesce(rejected.rejected_file_count, 0) as rejected_file_count,
        accepted.first_received_on,
        rejected.first_rejected_on,
        exception_uses.unit_code is not null as through_exception,
        {{ reference_on }} as reference_on

    from owed
    left join accepted
        on owed.unit_code = accepted.unit_code and owed.period = accepted.period
    left join rejected
        on owed.unit_code = rejected.unit_code and owed.period = rejected.period
    left join exception_uses
        on owed.unit_code = exception_uses.unit_code and owed.period = exception_uses.period

),

final as (

    select
        {{ dbt.hash(dbt.concat(["unit_code", "'|'", "period"])) }} as reporting_completeness_id,
        unit_code,
        unit_name_vi,
        unit_group,
        province_code,
        period,
        due_on,
        accepted_until,
        accepted_file_count,
        rejected_file_count,
        first_received_on,
        first_rejected_on,
        case
            when accepted_file_count > 0 and first_received_on <= due_on then 'received_on_time'
            when accepted_file_count > 0 then 'received_late'
            when due_on >= reference_on then 'not_yet_due'
            when rejected_file_count > 0 then 'rejected_only'
            else 'missing'
        end as reporting_status,
        cast(
            case
                when accepted_file_count > 0
                    then greatest({{ dbt.datediff('due_on', 'first_received_on', 'day') }}, 0)
                when due_on < reference_on
                    then {{ dbt.datediff('due_on', 'reference_on', 'day') }}
                else 0
            end as integer
        ) as days_late,
        through_exception,
        reference_on

    from joined

)

select * from final
