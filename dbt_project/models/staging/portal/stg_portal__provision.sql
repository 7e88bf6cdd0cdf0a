-- The latest export per period. A province the export lists twice (it happens: see
-- ingest/sources/provision.py) is flagged: the export does not say which row is right.

with

source as (

    select * from {{ source('portal', 'portal_provision') }}

),

latest as (

    select
        *,
        dense_rank() over (
            partition by period
            order by loaded_at desc, file_sha256 desc
        ) as file_rank

    from source

),

flagged as (

    select
        *,
        count(*) over (partition by period, province_code) > 1 as is_listed_twice

    from latest
    where file_rank = 1

),

renamed as (

    select
        period,
        province_code,
        province_name,
        procedures,
        eligible_full_online,
        offered_full_online,
        offered_partly_online,
        not_online,
        is_listed_twice,
        file_sha256,
        source_row,
        source_file_name

    from flagged

)

select * from renamed
