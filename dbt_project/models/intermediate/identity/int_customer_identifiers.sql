-- Identity resolution: the connected components of the identifier graph, one customer per
-- component. Every identifier seen anywhere (also anonymous ids that never identify) gets a
-- customer_id; is_known says whether the component holds a user_id, email or contact_id, or
-- an identifier seen on a business record (e.g. the anonymous_id of an order: a buyer).
--
-- customer_id = 'cus_' || keyed_hash(earliest-seen identifier of the component), ties broken
-- by type rank then value, so identifiers joining later keep the id and a merge of two profiles
-- keeps the older profile's id. The hash is keyed (macros/pseudonyms.sql): without the key,
-- holding an email or a cookie id is not enough to find the person's rows in the marts.
-- See docs/identity_and_sessions.md.
with recursive

observations as (
    select * from {{ ref('int_identity_observations') }}
),

edges as (
    select * from {{ ref('int_identity_edges') }}
),

nodes as (
    select
        identifier_type,
        identifier,
        identifier_type || ':' || identifier as node,
        min(first_seen_at) as first_seen_at,
        -- Seen outside the web trackers: on a CRM, billing, support or email record.
        max(case when evidence_source not in ('segment', 'snowplow') then 1 else 0 end) as on_business_record
    from observations
    group by identifier_type, identifier
),

-- Both directions, distinct, without evidence details.
links as (
    select distinct
        identifier_type_a || ':' || identifier_a as node_from,
        identifier_type_b || ':' || identifier_b as node_to
    from edges
    union
    select distinct
        identifier_type_b || ':' || identifier_b,
        identifier_type_a || ':' || identifier_a
    from edges
),

-- Minimum-label propagation to a fixed point: each node receives every smaller node of its
-- component, over any number of hops (the recursion stops when no new (node, label) pair
-- appears). Only labels smaller than the receiving node travel, which halves the work.
labels (node, label) as (
    select node, node from nodes
    union
    select links.node_to, labels.label
    from labels
    inner join links on links.node_from = labels.node
    where labels.label < links.node_to
),

components as (
    select node, min(label) as component
    from labels
    group by node
),

ranked as (
    select
        nodes.identifier_type,
        nodes.identifier,
        nodes.node,
        nodes.first_seen_at,
        nodes.on_business_record,
        components.component,
        case nodes.identifier_type
            when 'contact_id' then 1
            when 'user_id' then 2
            when 'email' then 3
            else 4
        end as type_rank
    from nodes
    inner join components on components.node = nodes.node
),

anchors as (
    select component, node as anchor_node
    from (
        select
            component,
            node,
            row_number() over (
                partition by component order by first_seen_at, type_rank, identifier
            ) as anchor_rank
        from ranked
    ) as ordered
    where anchor_rank = 1
),

final as (
    select
        ranked.identifier_type,
        ranked.identifier,
        'cus_' || {{ keyed_hash('anchors.anchor_node') }} as customer_id,
        ranked.first_seen_at,
        max(case when ranked.identifier_type <> 'anonymous_id' or ranked.on_business_record = 1 then 1 else 0 end)
            over (partition by ranked.component) = 1 as is_known
    from ranked
    inner join anchors on anchors.component = ranked.component
)

select * from final
