-- Every exception to a period lock: the reviewed seed's and those granted from the CLI.
with

lock_exceptions as (

    select * from {{ ref('lock_exceptions') }}

),

reporting_exceptions as (

    select * from {{ source('calendar', 'reporting_exceptions') }}

),

seeded as (

    select
        exception_id,
        unit_code,
        period,
        cast(valid_until as date) as valid_until,
        granted_by,
        cast(granted_on as date) as granted_on,
        reason,
        'seed' as granted_through

    from lock_exceptions

),

granted as (

    select
        exception_id,
        unit_code,
        period,
        cast(valid_until as date) as valid_until,
        granted_by,
        cast(granted_on as date) as granted_on,
        reason,
        'cli' as granted_through

    from reporting_exceptions

)

select * from seeded
union all
select * from granted
