-- The portal's national figures: dossiers online vs direct, procedures offered fully,
-- partly or not online, the average index by month, dossiers on time by month.

with

national as (

    select * from {{ ref('stg_portal__national') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            "period_kind", "'|'", "period", "'|'", "measure", "'|'", "category", "'|'",
            "coalesce(month, '')"
        ])) }} as portal_national_figure_id,
        *

    from national

)

select * from final
