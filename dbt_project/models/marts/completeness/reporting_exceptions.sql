-- Every exception to a period lock, with the files that came through it: who granted it,
-- why, until when, and what it let in (an exception granted and never used shows 0).

with

exceptions as (

    select * from {{ ref('stg_calendar__exceptions') }}

),

exception_uses as (

    select * from {{ ref('stg_calendar__exception_uses') }}

),

uses as (

    select
        exception_id,
        count(*) as used_file_count,
        min(received_at) as first_used_at,
        max(received_at) as last_used_at

    from exception_uses
    group by exception_id

),

final as (

    select
        exceptions.exception_id,
        exceptions.unit_code,
        exceptions.period,
        exceptions.valid_until,
        exceptions.granted_by,
        exceptions.granted_on,
        exceptions.reason,
        exceptions.granted_through,
        coalesce(uses.used_file_count, 0) as used_file_count,
        uses.first_used_at,
        uses.last_used_at

    from exceptions
    left join uses on exceptions.exception_id = uses.exception_id

)

select * from final
