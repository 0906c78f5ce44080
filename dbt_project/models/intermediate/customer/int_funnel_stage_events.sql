-- The first time each known customer reached each funnel stage by its own evidence, before
-- the monotonic back-fill of int_funnel_stages. Long format: customer_id, stage, reached_at.
--   awareness      first time the person was seen anywhere: identifiers, touches or rules
--   consideration  web rules in the seed funnel_stage_rules (blog, docs, pricing…)
--   evaluation     web rules (demo request, signup, trial…)
--   purchase       first paid order (billing is the truth, not the web 'Order Completed')
--   retention      still subscribed var('retention_days') days after the first purchase;
--                  only once that day is in the data
with customers as (
    select * from {{ ref('int_funnel_known_customers') }}
),

touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

web_events as (
    select * from {{ ref('int_web_events_sessionized') }}
),

rules as (
    select * from {{ ref('funnel_stage_rules') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

first_seen as (
    select
        customer_id,
        'awareness' as stage,
        identifiers_first_seen_at as reached_at
    from customers
),

first_touch as (
    select
        customer_id,
        'awareness' as stage,
        min(touched_at) as reached_at
    from touchpoints
    group by customer_id
),

rule_matches as (
    select
        web_events.customer_id,
        rules.stage,
        min(web_events.event_at) as reached_at
    from web_events
    inner join rules
        on (
            rules.rule_type = 'event_name'
            and web_events.event_type = 'track'
            and web_events.event_name = rules.match_value
        )
        or (
            rules.rule_type = 'page_path_prefix'
            and web_events.event_type = 'page'
            and web_events.page_path like {{ dbt.concat(['rules.match_value', "'%'"]) }}
        )
    -- customer_id is only set for known people.
    where web_events.customer_id is not null
    group by web_events.customer_id, rules.stage
),

first_purchase as (
    select
        customer_id,
        'purchase' as stage,
        ordered_at as reached_at
    from orders
    where was_paid and paid_order_number = 1
),

retention_checkpoint as (
    select
        first_purchase.customer_id,
        {{ dbt.dateadd('day', var('retention_days'), 'first_purchase.reached_at') }} as checkpoint_at
    from first_purchase
),

retained as (
    select
        retention_checkpoint.customer_id,
        'retention' as stage,
        retention_checkpoint.checkpoint_at as reached_at
    from retention_checkpoint
    cross join bounds
    where cast(retention_checkpoint.checkpoint_at as date) <= bounds.latest_data_date
        and exists (
            select 1
            from subscriptions
            where subscriptions.customer_id = retention_checkpoint.customer_id
                and subscriptions.started_at <= retention_checkpoint.checkpoint_at
                and (
                    subscriptions.canceled_at is null
                    or subscriptions.canceled_at > retention_checkpoint.checkpoint_at
                )
        )
),

unioned as (
    select customer_id, stage, reached_at from first_seen
    union all
    select customer_id, stage, reached_at from first_touch
    union all
    select customer_id, stage, reached_at from rule_matches
    union all
    select customer_id, stage, reached_at from first_purchase
    union all
    select customer_id, stage, reached_at from retained
),

final as (
    select
        customer_id,
        stage,
        min(reached_at) as reached_at
    from unioned
    where reached_at is not null
    group by customer_id, stage
)

select * from final
