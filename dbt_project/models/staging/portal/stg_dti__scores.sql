-- DTI per pre-2025 province and year, from the latest export that has that year.

with

source as (

    select * from {{ source('portal', 'dti_scores') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by province_code, year
            order by loaded_at desc, file_sha256 desc
        ) as file_rank

    from source

),

renamed as (

    select
        province_code,
        province_name,
        year,
        dti_total,
        digital_government,
        digital_economy,
        digital_society,
        digital_infrastructure,
        file_sha256,
        source_row,
        source_file_name

    from ranked
    where file_rank = 1

)

select * from renamed
