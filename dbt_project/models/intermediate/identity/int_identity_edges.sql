-- Pairs of identifiers observed on the same record, i.e. evidence that they belong to the same
-- person, with the system that provided the evidence. Generic values were nulled in staging,
-- so they never create an edge.
with web_events as (
    select * from {{ ref('int_web_events') }}
),

-- One pass over the web events: each identifier combination with its earliest event and its
-- number of events (n), so that the pairs below still count every event.
web_identities as (
    select tracker, anonymous_id, user_id, identified_email, min(event_at) as first_seen_at, count(*) as n
    from web_events
    group by tracker, anonymous_id, user_id, identified_email
),

contacts as (
    select * from {{ ref('stg_crm__contact_versions') }}
),

orders as (
    select * from {{ ref('stg_billing__order_versions') }}
),

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

-- Business records carrying web ids (optional export columns): each web id is linked to the
-- record's business key (contact_id, else email) and the two web ids to each other, so a
-- checkout that carries only anonymous_id + email joins the visitor's sessions to the buyer.
business_web_ids as (
    select 'billing' as evidence_source, coalesce(contact_id, email) as business_key,
           case when contact_id is not null then 'contact_id' else 'email' end as business_key_type,
           user_id, anonymous_id, ordered_at as seen_at
    from orders
    where user_id is not null or anonymous_id is not null
    union all
    select 'billing', contact_id, 'contact_id', user_id, anonymous_id, started_at
    from subscriptions
    where user_id is not null or anonymous_id is not null
    union all
    select 'support', requester_email, 'email', user_id, anonymous_id, created_at
    from tickets
    where user_id is not null or anonymous_id is not null
),

pairs as (
    -- A device used by a logged-in user.
    select 'anonymous_id' as identifier_type_a, anonymous_id as identifier_a,
           'user_id' as identifier_type_b, user_id as identifier_b,
           tracker as evidence_source, first_seen_at as seen_at, n
    from web_identities
    union all
    -- identify traits: the user's email (and the device's, for identify calls without userId).
    select 'user_id', user_id, 'email', identified_email, tracker, first_seen_at, n from web_identities
    union all
    select 'anonymous_id', anonymous_id, 'email', identified_email, tracker, first_seen_at, n
    from web_identities
    where user_id is null
    union all
    select 'contact_id', contact_id, 'email', email, 'crm', created_at, 1 from contacts
    union all
    select 'contact_id', contact_id, 'email', email, 'billing', ordered_at, 1 from orders
    union all
    select 'anonymous_id', anonymous_id, 'user_id', user_id, evidence_source, seen_at, 1 from business_web_ids
    union all
    select 'user_id', user_id, business_key_type, business_key, evidence_source, seen_at, 1 from business_web_ids
    union all
    select 'anonymous_id', anonymous_id, business_key_type, business_key, evidence_source, seen_at, 1 from business_web_ids
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
