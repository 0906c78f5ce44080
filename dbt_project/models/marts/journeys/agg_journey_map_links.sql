-- The journey map (a Sankey): per step of a customer's channel journey, how many customers
-- go from one channel to the next, or from their last step to the outcome - 'purchase' or
-- 'drop_off' - and how many of those customers converted. A journey is agg_paths' channel
-- sequence read from the FIRST touch: the customer's marketing touches (web sessions, email
-- opens and clicks; fct_touchpoints.is_marketing) up to the conversion, consecutive repeats
-- collapsed. Steps after var('journey_map_max_steps') are folded: the last kept step links
-- straight to the outcome. Customers without a marketing touch start at the node '(none)'.
with customers as (
    select * from {{ ref('int_funnel_known_customers') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

marketing_touches as (
    select
        touchpoints.customer_id,
        touchpoints.touchpoint_id,
        touchpoints.touched_at,
        touchpoints.channel,
        lag(touchpoints.channel) over (
            partition by touchpoints.customer_id order by touchpoints.touched_at, touchpoints.touchpoint_id
        ) as previous_channel
    from touchpoints
    left join conversions
        on conversions.customer_id = touchpoints.customer_id
    where touchpoints.is_marketing
        and (conversions.converted_at is null or touchpoints.touched_at <= conversions.converted_at)
),

steps as (
    select
        customer_id,
        channel,
        row_number() over (partition by customer_id order by touched_at, touchpoint_id) as step
    from marketing_touches
    where previous_channel is null or previous_channel <> channel
),

journeys as (
    select
        customers.customer_id,
        conversions.conversion_id is not null as is_converting,
        least(coalesce(max(steps.step), 1), {{ var('journey_map_max_steps') }}) as last_step
    from customers
    left join steps
        on steps.customer_id = customers.customer_id
    left join conversions
        on conversions.customer_id = customers.customer_id
    group by customers.customer_id, conversions.conversion_id
),

-- Each journey's nodes: its channel at every kept step ('(none)' for no marketing touch).
journey_nodes as (
    select
        journeys.customer_id,
        journeys.is_converting,
        journeys.last_step,
        coalesce(steps.step, 1) as step,
        coalesce(steps.channel, '(none)') as channel
    from journeys
    left join steps
        on steps.customer_id = journeys.customer_id
        and steps.step <= {{ var('journey_map_max_steps') }}
),

links as (
    -- channel → next channel
    select
        current_node.step,
        current_node.channel as from_node,
        next_node.channel as to_node,
        'channel' as to_node_type,
        current_node.is_converting
    from journey_nodes as current_node
    inner join journey_nodes as next_node
        on next_node.customer_id = current_node.customer_id
        and next_node.step = current_node.step + 1
    union all
    -- last kept step → outcome
    select
        step,
        channel,
        case when is_converting then 'purchase' else 'drop_off' end,
        'outcome',
        is_converting
    from journey_nodes
    where step = last_step
),

aggregated as (
    select
        step,
        from_node,
        to_node,
        to_node_type,
        count(*) as journeys,
        sum(case when is_converting then 1 else 0 end) as converting_journeys
    from links
    group by step, from_node, to_node, to_node_type
),

totals as (
    select count(*) as all_journeys from journeys
)

select
    cast(aggregated.step as {{ dbt.type_int() }}) as step,
    aggregated.from_node,
    aggregated.to_node,
    aggregated.to_node_type,
    cast(aggregated.journeys as {{ dbt.type_bigint() }}) as journeys,
    cast(aggregated.converting_journeys as {{ dbt.type_bigint() }}) as converting_journeys,
    cast(aggregated.converting_journeys as {{ features_type_double() }}) / aggregated.journeys as conversion_rate,
    cast(aggregated.journeys as {{ features_type_double() }}) / totals.all_journeys as share_of_journeys,
    row_number() over (order by aggregated.journeys desc, aggregated.step, aggregated.from_node, aggregated.to_node) as link_rank
from aggregated
cross join totals
