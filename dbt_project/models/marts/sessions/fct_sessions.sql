-- One row per web session (the BI interface over int_sessions). The device's cookie id is a
-- keyed pseudonym here (macros/pseudonyms.sql): BI can still count and follow visitors, but
-- a cookie value read from a browser or an ad platform does not find its sessions.
with sessions as (
    select * from {{ ref('int_sessions') }}
)

select
    session_id,
    {{ keyed_hash('anonymous_id') }} as anonymous_id,
    customer_id,
    started_at,
    ended_at,
    cast(duration_seconds as bigint) as duration_seconds,
    cast(page_views as bigint) as page_views,
    cast(events as bigint) as events,
    landing_path,
    exit_path,
    referrer_host,
    source,
    medium,
    campaign,
    channel,
    device_type,
    is_bounce,
    is_engaged,
    converted
from sessions
