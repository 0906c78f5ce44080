-- First and latest day with data (UTC). Snapshots start on the first day; a label window
-- is complete only when it ends on or before the latest day. Subscription dates are left
-- out: a cancellation can be scheduled for a future period end.
-- int_web_events is a view over the (table) Segment staging and the Snowplow staging.
--
-- Never the raw min/max: one event dated 1970 and one dated 2099 once made 6,754 weekly
-- snapshots (issue 12). A moment counts only inside the plausible window around the day of
-- the file that delivered it, the window ingestion enforces on event streams
-- (JOURNEY_MAX_EVENT_AGE_DAYS before, JOURNEY_MAX_FUTURE_DAYS after; docs/ingestion.md), so
-- the bounds stay within the partitions loaded. Older order and ticket dates (re-exported
-- records) still count as history in the features; they just do not move the first snapshot.
{%- set max_age_days = var('max_event_age_days', env_var('JOURNEY_MAX_EVENT_AGE_DAYS', '') or 30) | int %}
{%- set future_days = var('max_future_days', env_var('JOURNEY_MAX_FUTURE_DAYS', '') or 1) | int %}

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
    select event_at as happened_at, _partition_date from web_events
    union all
    select occurred_at, _partition_date from email_events
    union all
    select ordered_at, _partition_date from orders
    union all
    select created_at, _partition_date from tickets
),

plausible as (
    select happened_at
    from moments
    where happened_at >= {{ dbt.dateadd('day', -max_age_days, '_partition_date') }}
        -- up to the end of the day `future_days` after the file's day
        and happened_at < {{ dbt.dateadd('day', future_days + 1, '_partition_date') }}
),

final as (
    select
        cast(min(happened_at) as date) as first_data_date,
        cast(max(happened_at) as date) as latest_data_date
    from plausible
)

select * from final
