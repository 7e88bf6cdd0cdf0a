-- One row per unit and period: when a request was fetched more than once, the answer
-- fetched last wins (then the new API over the old, then the file hash).

with

source as (

    select * from {{ source('portal', 'portal_766_scores') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by period_kind, period, department_code
            order by
                fetched_at desc nulls last,
                case when api = 'new' then 0 else 1 end,
                file_sha256 desc
        ) as fetch_rank

    from source

),

renamed as (

    select
        period_kind,
        period,
        coalesce(unit_kind, 'province') as unit_kind,
        department_code as portal_code,
        agency_id,
        department_name as unit_name,
        province_code,
        total_score,
        score_delta,
        ckmb as score_ckmb,
        tdgq as score_tdgq,
        clgq as score_clgq,
        tttt as score_tttt,
        mdhl as score_mdhl,
        mdsh as score_mdsh,
        national_rank as portal_rank,
        coalesce(api, 'new') as api,
        file_sha256,
        fetched_at

    from ranked
    where fetch_rank = 1

)

select * from renamed
