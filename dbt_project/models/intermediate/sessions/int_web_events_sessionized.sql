-- Web events with their session and resolved customer. Rebuilt in full on every run (cheap)
-- because customer_id of old events changes when identities merge; the expensive, ordered part
-- (sessionization) is the incremental int_web_event_sessions.
with events as (
    select * from {{ ref('int_web_events') }}
),

sessions as (
    select * from {{ ref('int_web_event_sessions') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

final as (
    select
        events.message_id,
        sessions.session_id,
        events.anonymous_id,
        events.user_id,
        -- Only resolved people (a component with a known identifier) count as customers.
        case
            when coalesce(by_device.is_known, by_user.is_known)
                then coalesce(by_device.customer_id, by_user.customer_id)
        end as customer_id,
        events.event_at,
        events.event_type,
        events.event_name,
        events.page_path,
        events.page_title,
        events.referrer_host,
        events.page_host,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.device_type,
        events.properties
    from events
    inner join sessions on sessions.message_id = events.message_id
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id'
        and by_device.identifier = events.anonymous_id
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id'
        and by_user.identifier = events.user_id
)

select * from final
