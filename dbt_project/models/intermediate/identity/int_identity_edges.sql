-- Pairs of identifiers observed on the same record, i.e. evidence that they belong to the same
-- person, with the system that provided the evidence. Generic values were nulled in staging,
-- so they never create an edge.
with web_events as (
    select * from {{ ref('stg_segment__web_events') }}
),

-- One pass over the web events: each identifier combination with its earliest event and its
-- number of events (n), so that the pairs below still count every event.
web_identities as (
    select anonymous_id, user_id, identified_email, min(event_at) as first_seen_at, count(*) as n
    from web_events
    group by anonymous_id, user_id, identified_email
),

contacts as (
    select * from {{ ref('stg_crm__contact_versions') }}
),

orders as (
    select * from {{ ref('stg_billing__order_versions') }}
),

pairs as (
    -- A device used by a logged-in user.
    select 'anonymous_id' as identifier_type_a, anonymous_id as identifier_a,
           'user_id' as identifier_type_b, user_id as identifier_b,
           'segment' as evidence_source, first_seen_at as seen_at, n
    from web_identities
    union all
    -- identify traits: the user's email (and the device's, for identify calls without userId).
    select 'user_id', user_id, 'email', identified_email, 'segment', first_seen_at, n from web_identities
    union all
    select 'anonymous_id', anonymous_id, 'email', identified_email, 'segment', first_seen_at, n
    from web_identities
    where user_id is null
    union all
    select 'contact_id', contact_id, 'email', email, 'crm', created_at, 1 from contacts
    union all
    select 'contact_id', contact_id, 'email', email, 'billing', ordered_at, 1 from orders
),

final as (
    select
        identifier_type_a,
        identifier_a,
        identifier_type_b,
        identifier_b,
        evidence_source,
        min(seen_at) as first_seen_at,
        cast(sum(n) as {{ dbt.type_bigint() }}) as observations
    from pairs
    where identifier_a is not null and identifier_b is not null
    group by identifier_type_a, identifier_a, identifier_type_b, identifier_b, evidence_source
)

select * from final
