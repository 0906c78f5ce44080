-- First and latest day with data (UTC). Snapshots start on the first day; a label window
-- is complete only when it ends on or before the latest day. Subscription dates are left
-- out: a cancellation can be scheduled for a future period end.
-- int_web_events is a view over the (table) Segment staging and the Snowplow staging.
with web_events as (
    select * from {{ ref('int_web_events') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

orders as (
    select * from {{ ref('stg_billing__orders') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

moments as (
    select event_at as happened_at from web_events
    union all
    select occurred_at from email_events
    union all
    select ordered_at from orders
    union all
    select created_at from tickets
),

final as (
    select
        cast(min(happened_at) as date) as first_data_date,
        cast(max(happened_at) as date) as latest_data_date
    from moments
    where happened_at is not null
)

select * from final
