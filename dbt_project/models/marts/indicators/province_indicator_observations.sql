-- Figures of a province's districts or communes added up per month: ratios are rebuilt
-- from the summed numerators and denominators, never averaged. Each scheme is summed on
-- its own (districts until June 2025, the new communes after), so no total mixes them.

with

observations as (

    select * from {{ ref('indicator_observations') }}

),

units as (

    select * from {{ ref('dim_unit') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

territorial as (

    select
        units.province_code,
        units.unit_group,
        units.scheme,
        observations.indicator_code,
        observations.period,
        observations.period_start_on,
        observations.numerator,
        observations.denominator

    from observations
    inner join units
        on observations.unit_code = units.unit_code
    where units.unit_group in ('district', 'commune') and observations.is_selected

),

summed as (

    select
        territorial.province_code,
        territorial.unit_group,
        territorial.scheme,
        territorial.indicator_code,
        territorial.period,
        territorial.period_start_on,
        count(*) as reporting_unit_count,
        sum(territorial.numerator) as numerator,
        sum(territorial.denominator) as denominator

    from territorial
    inner join indicators
        on territorial.indicator_code = indicators.indicator_code
    where indicators.kind = 'ratio'
    group by
        territorial.province_code,
        territorial.unit_group,
        territorial.scheme,
        territorial.indicator_code,
        territorial.period,
        territorial.period_start_on

),

final as (

    select
        {{ dbt.hash(dbt.concat(["province_code", "'|'", "unit_group", "'|'", "indicator_code", "'|'", "period"])) }}
            as province_observation_id,
        *,
        100.0 * numerator / nullif(denominator, 0) as value

    from summed

)

select * from final
