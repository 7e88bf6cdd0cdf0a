with

source as (

    select * from {{ source('calendar', 'reporting_deadlines') }}

),

renamed as (

    select
        province_code,
        unit_group,
        period,
        cast(due_on as date) as due_on,
        cast(accepted_until as date) as accepted_until

    from source

)

select * from renamed
