-- One row per from-state × to-state of the first-order Markov chain over the attribution
-- journeys: states '(start)', each channel, '(conversion)' and '(null)' (a journey that
-- ended without converting). probability = transitions / all transitions out of from_state.
-- Journeys have consecutive repeats collapsed, so no channel has a self-loop; a self-loop
-- would not change any absorption probability anyway.
with journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

steps as (
    select
        coalesce(
            lag(channel) over (partition by journey_id, is_converting order by step_number),
            '(start)'
        ) as from_state,
        channel as to_state
    from journeys
),

endings as (
    select
        channel as from_state,
        case when is_converting then '(conversion)' else '(null)' end as to_state
    from journeys
    where step_number = steps_count
),

transitions as (
    select from_state, to_state from steps
    union all
    select from_state, to_state from endings
),

counted as (
    select
        from_state,
        to_state,
        count(*) as transitions
    from transitions
    group by from_state, to_state
),

final as (
    select
        from_state,
        to_state,
        transitions,
        sum(transitions) over (partition by from_state) as from_state_transitions
    from counted
)

select
    from_state,
    to_state,
    cast(transitions as {{ dbt.type_bigint() }}) as transitions,
    cast(transitions as {{ features_type_double() }}) / from_state_transitions as probability
from final
