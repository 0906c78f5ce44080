-- One row per known customer × UTC day with activity, counting each event on the day it
-- happened. Point-in-time features aggregate these rows up to the snapshot day, so a
-- value here must be knowable at the end of its day:
--   * tickets count on their creation day; a bad satisfaction rating counts on the day of
--     the ticket's latest update (when the rating was known at the latest);
--   * orders count on the order day, refunded ones included (they were paid then);
--   * a ticket's sentiment counts on its creation day: the text is what the customer wrote
--     when opening it (the score is that of the latest version's text, the same text unless
--     the export rewrites it).
with identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'email'
),

web_events as (
    select * from {{ ref('int_web_events_sessionized') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

ticket_sentiment as (
    select * from {{ ref('stg_support__ticket_sentiment') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

web_daily as (
    select
        web_events.customer_id,
        cast(web_events.event_at as date) as activity_date,
        count(*) as web_events,
        sum(case when web_events.event_type = 'page' then 1 else 0 end) as page_views,
        sum(case when web_events.event_type = 'page' and web_events.page_path like '/pricing%' then 1 else 0 end)
            as pricing_page_views,
        {% for name, column in [
            ('Demo Requested', 'demo_requests'),
            ('Trial Started', 'trial_starts'),
            ('Logged In', 'logged_in_events'),
            ('Feature Used', 'feature_used_events'),
            ('Report Exported', 'report_exported_events'),
            ('Invite Sent', 'invite_sent_events'),
            ('Dashboard Created', 'dashboard_created_events'),
        ] %}
        sum(case when web_events.event_type = 'track' and web_events.event_name = '{{ name }}' then 1 else 0 end)
            as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from web_events
    -- customer_id is only set for known people.
    where web_events.customer_id is not null
    group by 1, 2
),

session_daily as (
    select
        sessions.customer_id,
        cast(sessions.started_at as date) as activity_date,
        count(*) as sessions
    from sessions
    where sessions.customer_id is not null
    group by 1, 2
),

email_daily as (
    select
        identifiers.customer_id,
        cast(email_events.occurred_at as date) as activity_date,
        sum(case when email_events.event_type = 'open' then 1 else 0 end) as email_opens,
        sum(case when email_events.event_type = 'click' then 1 else 0 end) as email_clicks,
        sum(case when email_events.event_type = 'unsubscribe' then 1 else 0 end) as email_unsubscribes
    from email_events
    inner join identifiers
        on identifiers.identifier = email_events.email
    group by 1, 2
),

ticket_moments as (
    select
        identifiers.customer_id,
        cast(tickets.created_at as date) as activity_date,
        1 as tickets_opened,
        0 as bad_satisfaction_tickets,
        case when ticket_sentiment.sentiment_label = 'negative' then 1 else 0 end as negative_tickets,
        case when ticket_sentiment.sentiment_score is not null then 1 else 0 end as scored_tickets,
        ticket_sentiment.sentiment_score
    from tickets
    inner join identifiers
        on identifiers.identifier = tickets.requester_email
    left join ticket_sentiment
        on ticket_sentiment.ticket_id = tickets.ticket_id
    union all
    select
        identifiers.customer_id,
        cast(coalesce(tickets.updated_at, tickets.solved_at, tickets.created_at) as date) as activity_date,
        0 as tickets_opened,
        1 as bad_satisfaction_tickets,
        0 as negative_tickets,
        0 as scored_tickets,
        cast(null as {{ features_type_double() }}) as sentiment_score
    from tickets
    inner join identifiers
        on identifiers.identifier = tickets.requester_email
    where lower(tickets.satisfaction) = 'bad'
),

ticket_daily as (
    select
        customer_id,
        activity_date,
        sum(tickets_opened) as tickets_opened,
        sum(bad_satisfaction_tickets) as bad_satisfaction_tickets,
        sum(negative_tickets) as negative_tickets,
        sum(scored_tickets) as scored_tickets,
        sum(sentiment_score) as ticket_sentiment_sum
    from ticket_moments
    group by 1, 2
),

order_daily as (
    select
        customer_id,
        cast(ordered_at as date) as activity_date,
        count(*) as paid_orders,
        sum(amount) as paid_revenue
    from orders
    where was_paid
    group by 1, 2
),

customer_days as (
    select customer_id, activity_date from web_daily
    union
    select customer_id, activity_date from session_daily
    union
    select customer_id, activity_date from email_daily
    union
    select customer_id, activity_date from ticket_daily
    union
    select customer_id, activity_date from order_daily
),

final as (
    select
        customer_days.customer_id,
        customer_days.activity_date,
        coalesce(session_daily.sessions, 0) as sessions,
        coalesce(web_daily.web_events, 0) as web_events,
        coalesce(web_daily.page_views, 0) as page_views,
        coalesce(web_daily.pricing_page_views, 0) as pricing_page_views,
        coalesce(web_daily.demo_requests, 0) as demo_requests,
        coalesce(web_daily.trial_starts, 0) as trial_starts,
        coalesce(web_daily.logged_in_events, 0) as logged_in_events,
        coalesce(web_daily.feature_used_events, 0) as feature_used_events,
        coalesce(web_daily.report_exported_events, 0) as report_exported_events,
        coalesce(web_daily.invite_sent_events, 0) as invite_sent_events,
        coalesce(web_daily.dashboard_created_events, 0) as dashboard_created_events,
        coalesce(email_daily.email_opens, 0) as email_opens,
        coalesce(email_daily.email_clicks, 0) as email_clicks,
        coalesce(email_daily.email_unsubscribes, 0) as email_unsubscribes,
        coalesce(ticket_daily.tickets_opened, 0) as tickets_opened,
        coalesce(ticket_daily.bad_satisfaction_tickets, 0) as bad_satisfaction_tickets,
        coalesce(ticket_daily.negative_tickets, 0) as negative_tickets,
        coalesce(ticket_daily.scored_tickets, 0) as scored_tickets,
        -- Sum, not mean: features average over any window as sum / scored_tickets.
        coalesce(ticket_daily.ticket_sentiment_sum, 0) as ticket_sentiment_sum,
        coalesce(order_daily.paid_orders, 0) as paid_orders,
        coalesce(order_daily.paid_revenue, 0) as paid_revenue,
        -- Activity = anything the person did (web, email engagement, ticket, order), not
        -- what was done to them (an email sent).
        (coalesce(web_daily.web_events, 0) + coalesce(email_daily.email_opens, 0)
            + coalesce(email_daily.email_clicks, 0) + coalesce(ticket_daily.tickets_opened, 0)
            + coalesce(order_daily.paid_orders, 0)) > 0 as is_active_day,
        coalesce(web_daily.web_events, 0) > 0 as is_web_active_day
    from customer_days
    left join web_daily
        on web_daily.customer_id = customer_days.customer_id
        and web_daily.activity_date = customer_days.activity_date
    left join session_daily
        on session_daily.customer_id = customer_days.customer_id
        and session_daily.activity_date = customer_days.activity_date
    left join email_daily
        on email_daily.customer_id = customer_days.customer_id
        and email_daily.activity_date = customer_days.activity_date
    left join ticket_daily
        on ticket_daily.customer_id = customer_days.customer_id
        and ticket_daily.activity_date = customer_days.activity_date
    left join order_daily
        on order_daily.customer_id = customer_days.customer_id
        and order_daily.activity_date = customer_days.activity_date
)

select * from final
