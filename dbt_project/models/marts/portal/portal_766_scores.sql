-- Index-766 scores by unit and period, with the rank among peers (provinces nationally;
-- departments and communes within their province) and the change since the unit's
-- previous period of the same kind.

with

scores as (

    select * from {{ ref('stg_portal__766_scores') }}

),

admin_units as (

    select * from {{ ref('dim_admin_unit') }}

),

provinces as (

    select
        code as province_code,
        name_vi as province_name_vi

    from admin_units
    where scheme = 'post_2025' and level = 'province'

),

ranked as (

    select
        scores.*,
        provinces.province_name_vi,
        rank() over (
            partition by
                scores.period_kind,
                scores.period,
                scores.unit_kind,
                case when scores.unit_kind = 'province' then '' else scores.province_code end
            order by scores.total_score desc nulls last
        ) as score_rank

    from scores
    left join provinces
        on scores.province_code = provinces.province_code

),

compared as (

    select
        *,
        lag(period) over (
            partition by period_kind, portal_code order by period
        ) as previous_period,
        lag(total_score) over (
            partition by period_kind, portal_code order by period
        ) as previous_total_score,
        lag(score_rank) over (
            partition by period_kind, portal_code order by period
        ) as previous_score_rank

    from ranked

),

final as (

    select
        {{ dbt.hash(dbt.concat(["period_kind", "'|'", "period", "'|'", "portal_code"])) }}
            as portal_766_score_id,
        period_kind,
        period,
        unit_kind,
        portal_code,
        agency_id,
        unit_name,
        province_code,
        province_name_vi,
        total_score,
        score_ckmb,
        score_tdgq,
        score_clgq,
        score_tttt,
        score_mdhl,
        score_mdsh,
        score_rank,
        portal_rank,
        previous_period,
        previous_total_score,
        total_score - previous_total_score as total_score_change,
        previous_score_rank - score_rank as rank_change,
        api,
        file_sha256,
        fetched_at

    from compared

)

select * from final
