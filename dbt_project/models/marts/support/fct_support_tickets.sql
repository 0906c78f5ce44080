-- One row per support ticket (its latest version) with the sentiment of its text, resolved to
-- the known customer by the requester's email, as int_touchpoints resolves tickets. No free
-- text: subject and description stay in staging; the score says how the ticket reads.
with tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

sentiment as (
    select * from {{ ref('stg_support__ticket_sentiment') }}
),

emails as (
    select identifier as email, customer_id
    from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'email'
),

final as (
    select
        tickets.ticket_id,
        emails.customer_id,
        tickets.created_at,
        tickets.solved_at,
        tickets.channel,
        tickets.priority,
        tickets.status,
        lower(tickets.satisfaction) as satisfaction,
        sentiment.sentiment_score,
        sentiment.sentiment_label
    from tickets
    left join emails
        on emails.email = tickets.requester_email
    left join sentiment
        on sentiment.ticket_id = tickets.ticket_id
)

select
    ticket_id,
    customer_id,
    created_at,
    solved_at,
    channel,
    priority,
    status,
    satisfaction,
    sentiment_score,
    sentiment_label
from final
