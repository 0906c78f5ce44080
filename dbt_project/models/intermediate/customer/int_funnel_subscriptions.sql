-- Subscriptions resolved to known customers through their CRM contact_id.
with subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'contact_id'
),

final as (
    select
        subscriptions.subscription_id,
        identifiers.customer_id,
        subscriptions.plan,
        subscriptions.mrr,
        subscriptions.started_at,
        subscriptions.canceled_at,
        subscriptions.cancel_reason,
        subscriptions.status
    from subscriptions
    inner join identifiers
        on identifiers.identifier = subscriptions.contact_id
    where subscriptions.started_at is not null
)

select * from final
