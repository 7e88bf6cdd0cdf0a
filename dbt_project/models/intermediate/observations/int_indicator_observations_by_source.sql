-- Every figure for a catalog indicator, one row per unit x indicator x month x source,
-- before any source is preferred to another: the units' reports (the submission that
-- counts), the portal's provision table (province units) and DTI (province units, the
-- year's rank as its December). Which indicator the portal and DTI give is read from seed
-- source_indicators, never written here. The value is computed from numerator and
-- denominator for a ratio (never taken from the typed value), so any area can be
-- re-aggregated. indicator_observations keeps the as-of months, compares the sources
-- and marks the one the marts use.

with

unit_report_values as (

    select * from {{ ref('int_unit_report_values_deduplicated') }}

),

provision as (

    select * from {{ ref('stg_portal__provision') }}
    where not is_listed_twice

),

dti as (

    select * from {{ ref('dti_scores') }}

),

province_units as (

    select * from {{ ref('dim_unit') }}
    where unit_group = 'province'

),

source_indicators as (

    select * from {{ ref('source_indicators') }}

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

from_unit_reports as (

    select
        unit_code,
        indicator_code,
        period,
        period_start_on,
        'unit_report' as source,
        numerator,
        denominator,
        reported_value,
        submission_count,
        file_sha256,
        source_file_name,
        source_sheet,
        source_row,
        load_id

    from unit_report_values

),

from_portal as (

    select
        province_units.unit_code,
        source_indicators.indicator_code,
        provision.period,
        cast(provision.period || '-01' as date) as period_start_on,
        source_indicators.source,
        cast(provision.offered_full_online as double precision) as numerator,
        cast(provision.eligible_full_online as double precision) as denominator,
        cast(null as double precision) as reported_value,
        1 as submission_count,
        provision.file_sha256,
        provision.source_file_name,
        cast(null as varchar) as source_sheet,
        provision.source_row,
        cast(null as varchar) as load_id

    from provision
    inner join province_units on provision.province_code = province_units.province_code
    inner join source_indicators on source_indicators.source = 'portal'

),

from_dti as (

    select
        province_units.unit_code,
        source_indicators.indicator_code,
        cast(dti.year as varchar) || '-12' as period,
        cast(cast(dti.year as varchar) || '-12-01' as date) as period_start_on,
        source_indicators.source,
        cast(null as double precision) as numerator,
        cast(null as double precision) as denominator,
        cast(dti.dti_rank as double precision) as reported_value,
        1 as submission_count,
        dti.file_sha256,
        dti.source_file_name,
        cast(null as varchar) as source_sheet,
        dti.source_row,
        cast(null as varchar) as load_id

    from dti
    inner join province_units on dti.province_code = province_units.province_code
    inner join source_indicators on source_indicators.source = 'dti'

),

combined as (

    select * from from_unit_reports
    union all
    select * from from_portal
    union all
    select * from from_dti

),

final as (

    select
        combined.*,
        {{ indicator_value(
            'indicators.kind', 'combined.numerator', 'combined.denominator',
            'combined.reported_value'
        ) }} as value

    from combined
    inner join indicators on combined.indicator_code = indicators.indicator_code

)

select * from final
