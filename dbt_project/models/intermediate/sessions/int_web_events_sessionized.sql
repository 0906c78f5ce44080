{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
-- Web events with their session and resolved customer. Incremental: a run rebuilds the events
-- whose session may have changed (each visitor with events in the partition window, from its
-- restart point - see web_session_restart_points) and the events whose resolved customer
-- changed because identities merged or split (a join of the table with the identifiers, far
-- cheaper than rebuilding it). The result equals a full refresh.
with events as (
    select * from {{ ref('int_web_events') }}
),

sessions as (
    select * from {{ ref('int_web_event_sessions') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

{% if is_incremental() %}

restart_points as (
    {{ web_session_restart_points(ref('int_web_event_sessions')) }}
),

resessionized as (
    select sessions.message_id
    from sessions
    inner join restart_points
        on restart_points.visitor_id = sessions.visitor_id
        and sessions.event_at >= restart_points.restart_at
),

customer_changed as (
    select existing.message_id
    from {{ this }} as existing
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id'
        and by_device.identifier = existing.anonymous_id
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id'
        and by_user.identifier = existing.user_id
    where existing.customer_id is distinct from {{ web_event_customer_id('by_device', 'by_user') }}
),

to_build as (
    select message_id from resessionized
    union
    select message_id from customer_changed
),

{% else %}

to_build as (
    select message_id from sessions
),

{% endif %}

final as (
    select
        events.message_id,
        sessions.session_id,
        sessions.visitor_id,
        events.anonymous_id,
        events.user_id,
        {{ web_event_customer_id('by_device', 'by_user') }} as customer_id,
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
    from to_build
    inner join sessions on sessions.message_id = to_build.message_id
    inner join events on events.message_id = to_build.message_id
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id'
        and by_device.identifier = events.anonymous_id
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id'
        and by_user.identifier = events.user_id
)

select * from final
