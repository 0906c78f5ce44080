-- The Markov chain's repeated squaring has converged: no probability mass is left in a
-- channel state after 2^n steps, and the full chain's P(conversion) equals the share of
-- journeys that converted (a first-order chain fitted on path counts reproduces it exactly,
-- so a gap means the matrix power is wrong, not the data).
-- It reads two models: Dagster shows it as an asset check of int_attribution_removal_effects.
{{ config(meta={'dagster': {'ref': {'name': 'int_attribution_removal_effects'}}}) }}

with removal_effects as (
    select * from {{ ref('int_attribution_removal_effects') }}
),

journeys as (
    select
        cast(count(distinct case when is_converting then journey_id end) as {{ features_type_double() }})
            / count(distinct {{ dbt.concat(['journey_id', "'|'", dbt.cast('is_converting', dbt.type_string())]) }})
            as observed_conversion_rate
    from {{ ref('int_attribution_journeys') }}
)

select
    removal_effects.channel,
    removal_effects.unabsorbed_probability,
    removal_effects.conversion_probability,
    journeys.observed_conversion_rate
from removal_effects
cross join journeys
where abs(removal_effects.unabsorbed_probability) > 1e-9
    or abs(removal_effects.conversion_probability - journeys.observed_conversion_rate) > 1e-9
