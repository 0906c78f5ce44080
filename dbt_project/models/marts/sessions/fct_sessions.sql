-- One row per web session (the BI interface over int_sessions).
with sessions as (
    select * from {{ ref('int_sessions') }}
)

select
    session_id,
    anonymous_id,
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
