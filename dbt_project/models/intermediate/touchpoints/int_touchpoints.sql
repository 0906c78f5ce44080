-- Every touch of a known customer across channels, in one timeline. Channel by touch type:
-- web sessions keep their marketing channel, email opens/clicks are 'email', support tickets
-- 'support', orders and subscription starts/cancels 'billing'.
with sessions as (
    select * from {{ ref('int_sessions') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

orders as (
    select * from {{ ref('stg_billing__orders') }}
),

subscriptions as (
    select * from {{ ref('stg_billing__subscriptions') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known
),

emails as (
    select identifier as email, customer_id from identifiers where identifier_type = 'email'
),

contacts as (
    select identifier as contact_id, customer_id from identifiers where identifier_type = 'contact_id'
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
        case when email_events.event_type in ('click', 'clicked') then 'email_click' else 'email_open' end as touch_type,
        email_events.event_id as source_id,
        emails.customer_id,
        email_events.occurred_at as touched_at,
        'email' as channel,
        email_events.campaign_name as campaign,
        email_events.campaign_name as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from email_events
    inner join emails on emails.email = email_events.email
    where email_events.event_type in ('open', 'opened', 'click', 'clicked')
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
        orders.order_id as source_id,
        coalesce(by_contact.customer_id, by_email.customer_id) as customer_id,
        orders.ordered_at as touched_at,
        'billing' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign,
        orders.plan as detail,
        cast(orders.amount as {{ dbt.type_numeric() }}) as revenue
    from orders
    left join contacts as by_contact on by_contact.contact_id = orders.contact_id
    left join emails as by_email on by_email.email = orders.email
    where orders.status = 'paid'
      and coalesce(by_contact.customer_id, by_email.customer_id) is not null
),

subscription_touches as (
    select
        'subscription_start' as touch_type,
        subscriptions.subscription_id as source_id,
        contacts.customer_id,
        subscriptions.started_at as touched_at,
        'billing' as channel,
        cast(null as {{ dbt.type_string() }}) as campaign,
        subscriptions.plan as detail,
        cast(null as {{ dbt.type_numeric() }}) as revenue
    from subscriptions
    inner join contacts on contacts.contact_id = subscriptions.contact_id
    where subscriptions.started_at is not null
    union all
    select
        'subscription_cancel',
        subscriptions.subscription_id,
        contacts.customer_id,
        subscriptions.canceled_at,
        'billing',
        cast(null as {{ dbt.type_string() }}),
        coalesce(subscriptions.cancel_reason, subscriptions.plan),
        cast(null as {{ dbt.type_numeric() }})
    from subscriptions
    inner join contacts on contacts.contact_id = subscriptions.contact_id
    where subscriptions.canceled_at is not null
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
