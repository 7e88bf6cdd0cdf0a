with

source as (

    select * from {{ source('calendar', 'reporting_exception_uses') }}

),

renamed as (

    select
        file_sha256,
        exception_id,
        unit_code,
        period,
        received_at,
        recorded_at

    from source

)

select * from renamed
