-- One row per channel: the Markov removal effect. P(conversion) is the probability that the
-- chain of int_attribution_markov_transitions, started at '(start)', is absorbed in
-- '(conversion)'; removing a channel redirects every transition into it to '(null)'.
-- removal_effect = 1 - P(conversion | channel removed) / P(conversion).
-- The absorption probabilities come from repeated squaring of the transition matrix
-- (absorbing states keep a self-loop): after var('attribution_markov_squarings') squarings
-- the matrix is the 2^n-step one; unabsorbed_probability says how much probability mass is
-- still in a channel state then (a test requires it to be ~0). Plain joins and sums only:
-- no recursive CTE, so every engine can run it.
{%- set squarings = var('attribution_markov_squarings', 10) %}
with transitions as (
    select * from {{ ref('int_attribution_markov_transitions') }}
),

channels as (
    select distinct from_state as channel
    from transitions
    where from_state <> '(start)'
),

-- One chain per scenario: '(none)' is the full chain, any other value a removed channel.
scenarios as (
    select '(none)' as removed_channel
    union all
    select channel as removed_channel from channels
),

power_0 as (
    select
        scenarios.removed_channel,
        transitions.from_state,
        case
            when transitions.to_state = scenarios.removed_channel then '(null)'
            else transitions.to_state
        end as to_state,
        -- At most two addends (into the channel and into null): order cannot change the sum.
        sum(transitions.probability) as probability
    from scenarios
    cross join transitions
    -- The removed channel's own row is unreachable: leaving it out keeps the matrix small.
    where transitions.from_state <> scenarios.removed_channel
    group by 1, 2, 3
    union all
    select
        scenarios.removed_channel,
        absorbing.state as from_state,
        absorbing.state as to_state,
        1.0 as probability
    from scenarios
    cross join (
        select '(conversion)' as state
        union all
        select '(null)' as state
    ) as absorbing
),

{% for n in range(1, squarings + 1) %}
power_{{ n }} as (
    select
        left_matrix.removed_channel,
        left_matrix.from_state,
        right_matrix.to_state,
        -- Exact: a float sum's last bits would follow the join's row order.
        cast({{ exact_sum('left_matrix.probability * right_matrix.probability') }} as {{ features_type_double() }}) as probability
    from power_{{ n - 1 }} as left_matrix
    inner join power_{{ n - 1 }} as right_matrix
        on right_matrix.removed_channel = left_matrix.removed_channel
        and right_matrix.from_state = left_matrix.to_state
    group by 1, 2, 3
),
{% endfor %}

absorbed as (
    select
        scenarios.removed_channel,
        coalesce(sum(case when chain.to_state = '(conversion)' then chain.probability end), 0) as conversion_probability,
        coalesce(sum(case when chain.to_state = '(null)' then chain.probability end), 0) as null_probability
    from scenarios
    left join power_{{ squarings }} as chain
        on chain.removed_channel = scenarios.removed_channel
        and chain.from_state = '(start)'
    group by scenarios.removed_channel
),

final as (
    select
        channels.channel,
        full_chain.conversion_probability,
        removed.conversion_probability as conversion_probability_without_channel,
        case
            when full_chain.conversion_probability > 0
                then 1 - removed.conversion_probability / full_chain.conversion_probability
            else 0
        end as removal_effect,
        greatest(
            1 - full_chain.conversion_probability - full_chain.null_probability,
            1 - removed.conversion_probability - removed.null_probability
        ) as unabsorbed_probability
    from channels
    inner join absorbed as removed
        on removed.removed_channel = channels.channel
    cross join (select * from absorbed where removed_channel = '(none)') as full_chain
)

select
    channel,
    cast(conversion_probability as {{ features_type_double() }}) as conversion_probability,
    cast(conversion_probability_without_channel as {{ features_type_double() }}) as conversion_probability_without_channel,
    cast(removal_effect as {{ features_type_double() }}) as removal_effect,
    cast(unabsorbed_probability as {{ features_type_double() }}) as unabsorbed_probability
from final
