-- agg_journey_map_links is a consistent flow: one row per (step, from_node, to_node); every
-- (step, channel) node after the first has as many journeys in as out; the outcome links add
-- up to the known customers, 'purchase' to the converting ones. Returns the violations.
-- It reads three models: the meta ref makes it an asset check of the one it tests.
{{ config(meta={'dagster': {'ref': {'name': 'agg_journey_map_links'}}}) }}
with links as (
    select * from {{ ref('agg_journey_map_links') }}
),

duplicates as (
    select 'duplicate link' as problem, step, from_node as node
    from links
    group by step, from_node, to_node
    having count(*) > 1
),

inflow as (
    select step + 1 as step, to_node as node, sum(journeys) as journeys
    from links
    where to_node_type = 'channel'
    group by step + 1, to_node
),

outflow as (
    select step, from_node as node, sum(journeys) as journeys
    from links
    where step > 1
    group by step, from_node
),

unbalanced as (
    select 'node in <> out' as problem, coalesce(inflow.step, outflow.step) as step, coalesce(inflow.node, outflow.node) as node
    from inflow
    full outer join outflow
        on outflow.step = inflow.step and outflow.node = inflow.node
    where coalesce(inflow.journeys, -1) <> coalesce(outflow.journeys, -1)
),

outcomes as (
    select
        sum(case when to_node_type = 'outcome' then journeys else 0 end) as ended,
        sum(case when to_node = 'purchase' and to_node_type = 'outcome' then journeys else 0 end) as purchased
    from links
),

wrong_totals as (
    select 'outcome totals' as problem, cast(null as integer) as step, cast(null as varchar) as node
    from outcomes
    where ended <> (select count(*) from {{ ref('int_funnel_known_customers') }})
        or purchased <> (
            select count(*) from {{ ref('int_attribution_conversions') }}
            where customer_id in (select customer_id from {{ ref('int_funnel_known_customers') }})
        )
)

select * from duplicates
union all
select * from unbalanced
union all
select * from wrong_totals
