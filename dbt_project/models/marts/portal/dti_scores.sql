-- DTI per pre-2025 province and year, ranked within the year (1 = highest DTI), with the
-- change since the previous year and the post-2025 province the old one became part of.

with

dti as (

    select * from {{ ref('stg_dti__scores') }}

),

successors as (

    select * from {{ ref('stg_admin_units__province_crosswalk') }}

),

ranked as (

    select
        dti.*,
        successors.new_province_code as successor_province_code,
        rank() over (partition by dti.year order by dti.dti_total desc) as dti_rank,
        count(*) over (partition by dti.year) as ranked_province_count

    from dti
    left join successors
        on dti.province_code = successors.old_province_code

),

compared as (

    select
        *,
        lag(dti_rank) over (partition by province_code order by year) as previous_dti_rank,
        lag(dti_total) over (partition by province_code order by year) as previous_dti_total

    from ranked

),

final as (

    select
        {{ dbt.hash(dbt.concat(["province_code", "'|'", "year"])) }} as dti_score_id,
        province_code,
        province_name,
        successor_province_code,
        year,
        dti_total,
        digital_government,
        digital_economy,
        digital_society,
        digital_infrastructure,
        dti_rank,
        ranked_province_count,
        previous_dti_rank - dti_rank as rank_change,
        dti_total - previous_dti_total as dti_total_change,
        file_sha256,
        source_row,
        source_file_name

    from compared

)

select * from final
