{{
    config(
        materialized='incremental',
        unique_key='session_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where session_id not in (select session_id from {{ ref('int_web_events_sessionized') }}){% endif %}",
    )
}}
-- depends_on: {{ ref('int_web_event_sessions') }}
-- depends_on: {{ ref('int_customer_identifiers') }}
-- One row per web session: its span, landing and exit pages, acquisition (from the landing
-- event) and marketing channel (seed channel_rules, first matching rule by priority).
-- Incremental like int_web_events_sessionized: a run rebuilds the sessions of each visitor
-- with events in the partition window from its restart point on, and the sessions whose
-- resolved customer changed; the pre_hook drops sessions a late event merged into another.
with sessionized as (
    select * from {{ ref('int_web_events_sessionized') }}
),

channel_rules as (
    select * from {{ ref('channel_rules') }}
),

{% if is_incremental() %}

restart_points as (
    {{ web_session_restart_points(ref('int_web_event_sessions')) }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

-- A session's customer is its visitor's (every event of a visitor resolves alike: each
-- anonymous_id is an identifier, int_identity_observations).
customer_changed as (
    select existing.session_id
    from {{ this }} as existing
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id'
        and by_device.identifier = existing.visitor_id
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id'
        and {{ dbt.concat(["'user_id:'", 'by_user.identifier']) }} = existing.visitor_id
    where existing.customer_id is distinct from {{ web_event_customer_id('by_device', 'by_user') }}
),

to_build as (
    select sessionized.session_id
    from sessionized
    inner join restart_points
        on restart_points.visitor_id = sessionized.visitor_id
        and sessionized.event_at >= restart_points.restart_at
    union
    select session_id from customer_changed
),

events as (
    select sessionized.*
    from sessionized
    where sessionized.session_id in (select session_id from to_build)
),

{% else %}

events as (
    select * from sessionized
),

{% endif %}

-- Events sharing a timestamp: the one with campaign parameters first (web_event_order), as
-- int_web_event_sessions orders them, so it is the landing event and gives the channel.
ordered as (
    select
        ranked.*,
        row_number() over (partition by session_id order by {{ web_event_order() }}) as position
    from (
        select events.*, {{ web_campaign_rank('utm_source', 'utm_medium') }} as campaign_rank
        from events
    ) as ranked
),

page_views as (
    select
        session_id,
        row_number() over (partition by session_id order by {{ web_event_order() }}) as page_position,
        row_number() over (partition by session_id order by {{ web_event_order(descending=true) }}) as page_reverse_position,
        page_path
    from ordered
    where event_type = 'page'
),

landing as (
    select
        session_id,
        anonymous_id,
        visitor_id,
        event_at as started_at,
        device_type,
        -- A referrer on the site itself (e.g. from the app to the marketing site) is not a source.
        case when referrer_host <> coalesce(page_host, '') then referrer_host end as referrer_host,
        utm_source as source,
        utm_medium as medium,
        utm_campaign as campaign,
        page_path as first_event_path
    from ordered
    where position = 1
),

aggregated as (
    select
        session_id,
        max(event_at) as ended_at,
        -- The session's customer: the device's resolved person (all events of a device share it).
        max(customer_id) as customer_id,
        count(*) as events,
        sum(case when event_type = 'page' then 1 else 0 end) as page_views,
        max(
            case
                when lower(replace(replace(event_name, ' ', '_'), '-', '_'))
                    in ('signed_up', 'signup', 'sign_up', 'trial_started', 'order_completed', 'purchase', 'purchased', 'checkout_completed')
                    then 1
                else 0
            end
        ) as converted
    from events
    group by session_id
),

-- Rules are matched once per distinct (source, medium, referrer host), a few hundred, rather
-- than per session: the seed has ~200 LIKE rules.
acquisition_channels as (
    select source, medium, referrer_host, channel
    from (
        select
            acquisitions.source,
            acquisitions.medium,
            acquisitions.referrer_host,
            channel_rules.channel,
            row_number() over (
                partition by acquisitions.source, acquisitions.medium, acquisitions.referrer_host
                order by channel_rules.priority
            ) as rule_rank
        from (select distinct source, medium, referrer_host from landing) as acquisitions
        inner join channel_rules
            on {{ channel_rule_matches('channel_rules', 'acquisitions.source', 'acquisitions.medium', 'acquisitions.referrer_host') }}
    ) as matched
    where rule_rank = 1
),

channels as (
    select landing.session_id, acquisition_channels.channel
    from landing
    inner join acquisition_channels
        on acquisition_channels.source is not distinct from landing.source
        and acquisition_channels.medium is not distinct from landing.medium
        and acquisition_channels.referrer_host is not distinct from landing.referrer_host
),

final as (
    select
        landing.session_id,
        landing.anonymous_id,
        landing.visitor_id,
        aggregated.customer_id,
        landing.started_at,
        aggregated.ended_at,
        {{ dbt.datediff('landing.started_at', 'aggregated.ended_at', 'second') }} as duration_seconds,
        aggregated.page_views,
        aggregated.events,
        coalesce(landing_page.page_path, landing.first_event_path) as landing_path,
        coalesce(exit_page.page_path, landing.first_event_path) as exit_path,
        landing.referrer_host,
        landing.source,
        landing.medium,
        landing.campaign,
        coalesce(channels.channel, 'other') as channel,
        landing.device_type,
        aggregated.page_views = 1 and aggregated.events = 1 as is_bounce,
        aggregated.page_views >= 2
            or {{ dbt.datediff('landing.started_at', 'aggregated.ended_at', 'second') }} >= 10
            or aggregated.converted = 1 as is_engaged,
        aggregated.converted = 1 as converted
    from landing
    inner join aggregated on aggregated.session_id = landing.session_id
    left join channels on channels.session_id = landing.session_id
    left join page_views as landing_page
        on landing_page.session_id = landing.session_id and landing_page.page_position = 1
    left join page_views as exit_page
        on exit_page.session_id = landing.session_id and exit_page.page_reverse_position = 1
)

select * from final
