-- Every known version of each subscription (stg_billing__subscription_versions), resolved to
-- known customers through its CRM contact_id as int_funnel_subscriptions does. Point-in-time
-- features pick the version known on a snapshot day D: known_from <= D and
-- (known_until is null or known_until > D).
with versions as (
    select * from {{ ref('stg_billing__subscription_versions') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'contact_id'
),

final as (
    select
        versions.subscription_id,
        versions.known_from,
        versions.known_until,
        identifiers.customer_id,
        versions.plan,
        versions.mrr,
        versions.started_at,
        versions.canceled_at,
        versions.cancel_reason,
        versions.status,
        versions.version_rank = 1 as is_latest_version
    from versions
    inner join identifiers
        on identifiers.identifier = versions.contact_id
    where versions.started_at is not null
)

select * from final
