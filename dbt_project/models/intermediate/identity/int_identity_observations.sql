-- Every identifier seen anywhere, once per evidence source, with when it was first seen
-- there. Identifiers are already normalised (and generic values nulled) in staging. Web
-- identifiers are attributed to their tracker (segment, snowplow).
with web_events as (
    select * from {{ ref('int_web_events') }}
),

-- One pass over the web events: each identifier combination with its earliest event.
web_identities as (
    select tracker, anonymous_id, user_id, identified_email, min(event_at) as first_seen_at
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

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

observed as (
    select 'anonymous_id' as identifier_type, anonymous_id as identifier, tracker as evidence_source, first_seen_at as seen_at from web_identities
    union all
    select 'user_id', user_id, tracker, first_seen_at from web_identities
    union all
    select 'email', identified_email, tracker, first_seen_at from web_identities
    union all
    select 'contact_id', contact_id, 'crm', created_at from contacts
    union all
    select 'email', email, 'crm', created_at from contacts
    union all
    select 'contact_id', contact_id, 'billing', ordered_at from orders
    union all
    select 'email', email, 'billing', ordered_at from orders
    union all
    -- Web ids on business records (optional export columns): the person bought or asked for
    -- help from that device or login, which also makes its component a known customer.
    select 'user_id', user_id, 'billing', ordered_at from orders
    union all
    select 'anonymous_id', anonymous_id, 'billing', ordered_at from orders
    union all
    select 'contact_id', contact_id, 'billing', started_at from subscriptions
    union all
    select 'user_id', user_id, 'billing', started_at from subscriptions
    union all
    select 'anonymous_id', anonymous_id, 'billing', started_at from subscriptions
    union all
    select 'email', requester_email, 'support', created_at from tickets
    union all
    select 'user_id', user_id, 'support', created_at from tickets
    union all
    select 'anonymous_id', anonymous_id, 'support', created_at from tickets
    union all
    select 'email', email, 'esp', occurred_at from email_events
),

final as (
    select
        identifier_type,
        identifier,
        evidence_source,
        min(seen_at) as first_seen_at
    from observed
    where identifier is not null
    group by identifier_type, identifier, evidence_source
)

select * from final
