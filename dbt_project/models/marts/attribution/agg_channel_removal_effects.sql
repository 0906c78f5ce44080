-- One row per channel seen on an attribution journey: its Markov removal effect and its
-- share of conversions under the markov and shapley models. Answers "what is the removal
-- effect of email?" without reading the per-touch credits.
with removal_effects as (
    select * from {{ ref('int_attribution_removal_effects') }}
),

journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

attribution as (
    select * from {{ ref('fct_attribution') }}
),

channel_journeys as (
    select
        channel,
        count(distinct case when is_converting then journey_id end) as converting_journeys,
        count(distinct case when not is_converting then journey_id end) as non_converting_journeys
    from journeys
    group by channel
),

credited as (
    select
        channel,
        {{ exact_sum("case when attribution_model = 'markov' then credit end") }} as markov_conversions,
        {{ exact_sum("case when attribution_model = 'shapley' then credit end") }} as shapley_conversions
    from attribution
    where attribution_model in ('markov', 'shapley')
    group by channel
),

conversions as (
    select count(distinct conversion_id) as conversions
    from attribution
),

final as (
    select
        removal_effects.channel,
        removal_effects.removal_effect,
        removal_effects.removal_effect / nullif(
            cast({{ exact_sum('removal_effects.removal_effect') }} over () as {{ features_type_double() }}), 0
        ) as removal_effect_share,
        removal_effects.conversion_probability,
        removal_effects.conversion_probability_without_channel,
        coalesce(channel_journeys.converting_journeys, 0) as converting_journeys,
        coalesce(channel_journeys.non_converting_journeys, 0) as non_converting_journeys,
        coalesce(cast(credited.markov_conversions as {{ features_type_double() }}), 0) as markov_conversions,
        coalesce(cast(credited.shapley_conversions as {{ features_type_double() }}), 0) as shapley_conversions,
        conversions.conversions
    from removal_effects
    left join channel_journeys
        on channel_journeys.channel = removal_effects.channel
    left join credited
        on credited.channel = removal_effects.channel
    cross join conversions
)

select
    channel,
    cast(removal_effect as {{ features_type_double() }}) as removal_effect,
    cast(coalesce(removal_effect_share, 0) as {{ features_type_double() }}) as removal_effect_share,
    cast(conversion_probability as {{ features_type_double() }}) as conversion_probability,
    cast(conversion_probability_without_channel as {{ features_type_double() }}) as conversion_probability_without_channel,
    cast(converting_journeys as {{ dbt.type_bigint() }}) as converting_journeys,
    cast(non_converting_journeys as {{ dbt.type_bigint() }}) as non_converting_journeys,
    cast(markov_conversions as {{ features_type_double() }}) as markov_conversions,
    cast(coalesce(markov_conversions / nullif(conversions, 0), 0) as {{ features_type_double() }}) as markov_share,
    cast(shapley_conversions as {{ features_type_double() }}) as shapley_conversions,
    cast(coalesce(shapley_conversions / nullif(conversions, 0), 0) as {{ features_type_double() }}) as shapley_share
from final
