-- One row per resolved known person (an identity component with a user_id, email or CRM
-- contact). Raw emails, names and contact ids never leave this model: only a keyed SHA-256 of
-- the primary email does (macros/pseudonyms.sql), so holding an email is not enough to find
-- its row.
--   primary CRM contact  the earliest created contact of the component (ties: contact_id);
--                        it gives segment, country, company and marketing consent
--   primary email        that contact's email, else the earliest seen email (ties: value)
with customers as (
    select * from {{ ref('int_funnel_known_customers') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

privacy_requests as (
    select * from {{ ref('stg_privacy__requests') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

stages as (
    select * from {{ ref('int_funnel_stages') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

customer_contacts as (
    select
        identifiers.customer_id,
        contacts.contact_id,
        contacts.email,
        contacts.company,
        contacts.segment,
        contacts.country,
        contacts.marketing_consent,
        row_number() over (
            partition by identifiers.customer_id
            order by contacts.created_at, contacts.contact_id
        ) as contact_rank
    from identifiers
    inner join contacts
        on contacts.contact_id = identifiers.identifier
    where identifiers.identifier_type = 'contact_id'
),

primary_contact as (
    select * from customer_contacts where contact_rank = 1
),

first_email as (
    select customer_id, identifier as email
    from (
        select
            customer_id,
            identifier,
            row_number() over (partition by customer_id order by first_seen_at, identifier) as email_rank
        from identifiers
        where identifier_type = 'email'
    ) as ranked
    where email_rank = 1
),

privacy as (
    select
        identifiers.customer_id,
        max(case when privacy_requests.request_type = 'erasure' then 1 else 0 end) = 1 as is_erased,
        max(case when privacy_requests.request_type = 'opt_out' then 1 else 0 end) = 1 as has_opted_out
    from privacy_requests
    inner join identifiers
        on identifiers.identifier_type = 'email'
        and identifiers.identifier = privacy_requests.email
    group by identifiers.customer_id
),

-- Acquisition = the first web session (its channel and campaign), else the first touch of
-- any kind (an email click, a ticket, an order…).
ranked_touches as (
    select
        customer_id,
        touched_at,
        channel,
        campaign,
        row_number() over (
            partition by customer_id
            order by case when touch_type = 'web_session' then 0 else 1 end, touched_at, touchpoint_id
        ) as acquisition_rank
    from touchpoints
),

acquisition as (
    select customer_id, touched_at as acquisition_at, channel, campaign
    from ranked_touches
    where acquisition_rank = 1
),

activity as (
    select customer_id, min(touched_at) as first_touch_at, max(touched_at) as last_touch_at
    from touchpoints
    group by customer_id
),

order_totals as (
    select
        customer_id,
        sum(case when was_paid then 1 else 0 end) as orders_count,
        -- Net revenue: refunded orders bring nothing (paid minus refunded).
        sum(case when status = 'paid' then amount else 0 end) as lifetime_revenue,
        min(case when was_paid then ordered_at end) as first_purchase_at
    from orders
    group by customer_id
),

-- A subscription is active when it has not been canceled by the end of the latest data day.
subscription_state as (
    select
        subscriptions.*,
        subscriptions.canceled_at is null
            or cast(subscriptions.canceled_at as date) > bounds.latest_data_date as is_active
    from subscriptions
    cross join bounds
),

subscription_totals as (
    select
        customer_id,
        max(case when is_active then 1 else 0 end) = 1 as has_active_subscription,
        sum(case when is_active then mrr else 0 end) as mrr,
        max(canceled_at) as last_canceled_at
    from subscription_state
    group by customer_id
),

current_plan as (
    select customer_id, plan
    from (
        select
            customer_id,
            plan,
            row_number() over (partition by customer_id order by started_at desc, subscription_id desc) as plan_rank
        from subscription_state
        where is_active
    ) as ranked
    where plan_rank = 1
),

final as (
    select
        customers.customer_id,
        customers.devices_count,
        customers.emails_count,
        customers.crm_contacts_count,
        case
            when coalesce(privacy.is_erased, false) then null
            else {{ keyed_sha256('coalesce(primary_contact.email, first_email.email)') }}
        end as email_hash,
        primary_contact.segment,
        primary_contact.country,
        case when coalesce(privacy.is_erased, false) then null else primary_contact.company end as company,
        case
            when activity.first_touch_at is null then customers.identifiers_first_seen_at
            when customers.identifiers_first_seen_at is null then activity.first_touch_at
            when activity.first_touch_at < customers.identifiers_first_seen_at then activity.first_touch_at
            else customers.identifiers_first_seen_at
        end as first_seen_at,
        acquisition.channel as acquisition_channel,
        acquisition.campaign as acquisition_campaign,
        acquisition.acquisition_at,
        case
            when stages.purchase_at is not null and subscription_totals.customer_id is not null
                and not subscription_totals.has_active_subscription then 'churned'
            else stages.furthest_stage
        end as current_funnel_stage,
        coalesce(subscription_totals.has_active_subscription, false) as is_customer,
        order_totals.first_purchase_at,
        coalesce(order_totals.orders_count, 0) as orders_count,
        coalesce(order_totals.lifetime_revenue, 0) as lifetime_revenue,
        current_plan.plan as current_plan,
        coalesce(subscription_totals.mrr, 0) as mrr,
        case
            when subscription_totals.customer_id is null then 'none'
            when subscription_totals.has_active_subscription then 'active'
            else 'canceled'
        end as subscription_status,
        case
            when subscription_totals.customer_id is not null and not subscription_totals.has_active_subscription
                then subscription_totals.last_canceled_at
        end as churned_at,
        activity.last_touch_at as last_active_at,
        -- Consent needs an explicit yes in the CRM and no later opt-out or erasure.
        coalesce(primary_contact.marketing_consent, false)
            and not coalesce(privacy.has_opted_out, false)
            and not coalesce(privacy.is_erased, false) as marketing_consent,
        coalesce(privacy.is_erased, false) as is_erased
    from customers
    left join primary_contact on primary_contact.customer_id = customers.customer_id
    left join first_email on first_email.customer_id = customers.customer_id
    left join privacy on privacy.customer_id = customers.customer_id
    left join acquisition on acquisition.customer_id = customers.customer_id
    left join activity on activity.customer_id = customers.customer_id
    left join order_totals on order_totals.customer_id = customers.customer_id
    left join subscription_totals on subscription_totals.customer_id = customers.customer_id
    left join current_plan on current_plan.customer_id = customers.customer_id
    left join stages on stages.customer_id = customers.customer_id
)

select
    customer_id,
    devices_count,
    emails_count,
    crm_contacts_count,
    email_hash,
    segment,
    country,
    company,
    first_seen_at,
    acquisition_channel,
    acquisition_campaign,
    acquisition_at,
    current_funnel_stage,
    is_customer,
    first_purchase_at,
    cast(orders_count as {{ dbt.type_bigint() }}) as orders_count,
    cast(lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
    current_plan,
    cast(mrr as decimal(18, 2)) as mrr,
    subscription_status,
    churned_at,
    last_active_at,
    marketing_consent,
    is_erased
from final
