-- National figures of the latest answer per request and period.

with

source as (

    select * from {{ source('portal', 'portal_766_national') }}

),

latest as (

    select
        *,
        dense_rank() over (
            partition by period_kind, period
            order by fetched_at desc nulls last, file_sha256 desc
        ) as fetch_rank

    from source

),

renamed as (

    select
        period_kind,
        period,
        measure,
        category,
        month,
        value,
        percent,
        file_sha256

    from latest
    where fetch_rank = 1

)

select * from renamed
