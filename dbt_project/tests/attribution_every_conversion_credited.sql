-- Every conversion appears under all eight models (the synthetic direct touch guarantees it).
-- It reads two models: Dagster shows it as an asset check of fct_attribution.
{{ config(meta={'dagster': {'ref': {'name': 'fct_attribution'}}}) }}

with conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

credited as (
    select conversion_id, count(distinct attribution_model) as models
    from {{ ref('fct_attribution') }}
    group by conversion_id
)

select conversions.conversion_id
from conversions
left join credited on credited.conversion_id = conversions.conversion_id
where coalesce(credited.models, 0) <> 8
