-- Subscriptions resolved to known customers through their CRM contact_id: the latest
-- version of each (what the billing system says now).
with subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

final as (
    select
        subscription_id,
        customer_id,
        plan,
        mrr,
        started_at,
        canceled_at,
        cancel_reason,
        status
    from subscription_versions
    where is_latest_version
)

select * from final
