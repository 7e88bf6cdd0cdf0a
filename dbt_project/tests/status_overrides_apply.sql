-- Every row of seed status_overrides names a target and unit that target_progress has:
-- an override that matches nothing (a typo, a target replaced) would be silently ignored.
select overrides.target_id, overrides.unit_code
from {{ ref('status_overrides') }} as overrides
left join {{ ref('target_progress') }} as progress
    on overrides.target_id = progress.target_id and overrides.unit_code = progress.unit_code
where progress.target_id is null
