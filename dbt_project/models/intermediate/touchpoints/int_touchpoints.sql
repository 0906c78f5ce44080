-- Every touch of a known customer across channels, in one timeline. Channel by touch type:
-- web sessions keep their marketing channel, email opens/clicks are 'email', support tickets
-- 'support', orders and subscription starts/cancels 'billing'. is_marketing tells the
-- marketing touches (sessions, emails) from the non-marketing ones (support, billing).
with sessions as (
    select * from {{ ref('int_sessions') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

-- Orders and subscriptions already resolved to known customers (orders by contact_id, then
-- email; subscriptions by contact_id). int_funnel_subscriptions holds no subscription without
-- started_at, so neither of its touches is emitted for one.
orders as (
    select * from {{ ref('int_funnel_orders') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

emails as (
    select identifier as email, customer_id
    from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'email'
),

web_touches as (
    select
        'web_session' as touch_type,
        session_id as source_id,
        customer_id,
        started_at as touched_at,
        channel,
        campaign,
        landing_path as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from sessions
    where customer_id is not null
),

email_touches as (
    select
        case when email_events.event_type = 'click' then 'email_click' else 'email_open' end as touch_type,
        email_events.event_id as source_id,
        emails.customer_id,
        email_events.occurred_at as touched_at,
        'email' as channel,
        email_events.campaign_name as campaign,
        email_events.campaign_name as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from email_events
    inner join emails on emails.email = email_events.email
    where email_events.event_type in ('open', 'click')
),

ticket_touches as (
    select
        'support_ticket' as touch_type,
        tickets.ticket_id as source_id,
        emails.customer_id,
        tickets.created_at as touched_at,
        'support' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign,
        tickets.subject as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from tickets
    inner join emails on emails.email = tickets.requester_email
),

order_touches as (
    select
        'order' as touch_type,
        order_id as source_id,
        customer_id,
        ordered_at as touched_at,
        'billing' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign,
        plan as detail,
        cast(amount as {{ dbt.type_numeric() }}) as revenue
    from orders
    where status = 'paid'
),

subscription_touches as (
    select
        'subscription_start' as touch_type,
        subscription_id as source_id,
        customer_id,
        started_at as touched_at,
        'billing' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign,
        plan as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from subscriptions
    union all
    select
        'subscription_cancel',
        subscription_id,
        customer_id,
        canceled_at,
        'billing',
        cast(null as {{ dbt.type_string() }}),
        coalesce(cancel_reason, plan),
        cast(null as {{ dbt.type_numeric() }})
    from subscriptions
    where canceled_at is not null
),

unioned as (
    select * from web_touches
    union all
    select * from email_touches
    union all
    select * from ticket_touches
    union all
    select * from order_touches
    union all
    select * from subscription_touches
),

sequenced as (
    select
        unioned.*,
        row_number() over (
            partition by customer_id order by touched_at, touch_type, source_id
        ) as touch_number
    from unioned
    where touched_at is not null
),

final as (
    select
        {{ dbt.hash("touch_type || ':' || source_id") }} as touchpoint_id,
        customer_id,
        touched_at,
        touch_type,
        channel,
        {{ is_marketing_channel('channel') }} as is_marketing,
        campaign,
        detail,
        source_id,
        revenue,
        touch_number,
        lag(touch_type) over (partition by customer_id order by touch_number) as previous_touch_type,
        lag(channel) over (partition by customer_id order by touch_number) as previous_channel,
        {{ dbt.datediff(
            'lag(touched_at) over (partition by customer_id order by touch_number)',
            'touched_at',
            'second'
        ) }} as seconds_since_previous
    from sequenced
)

select * from final
