{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}
-- Assigns every web event to a session. Per visitor (the anonymous_id, else the user_id for
-- server-side events without one), events are ordered by event_at, then events carrying campaign
-- parameters first, then message_id. A session starts at an event that is LATER than the
-- previous one (events sharing a timestamp always share a session: no zero-length sessions)
-- and either comes more than var('session_timeout_minutes') after it (exactly the timeout
-- continues the session) or, with var('session_split_on_campaign_change'), carries a campaign
-- (utm_source or utm_medium) whose source/medium pair differs from the last one seen in the
-- current session (or the session has seen none yet). Referrer-only traffic never splits.
-- session_id = hash(visitor, first message_id of the session).
--
-- Incremental runs re-sessionize, for each visitor with new events, every event from the
-- start of the latest existing session that began strictly before the visitor's earliest new
-- event. Events before that point cannot be affected (a session boundary depends only on
-- earlier events and on the events at the boundary's own timestamp), so the result equals a
-- full refresh however late an event arrives. New events are the partitions
-- [partition_start, partition_end) when Dagster passes them, else the last
-- var('session_lookback_days') days of loaded partitions plus any event not yet sessionized.
{%- set timeout_minutes = var('session_timeout_minutes') | int %}
{%- set split_on_campaign = var('session_split_on_campaign_change') %}
{#- Ties on event_at: an event with campaign parameters first, so that it lands the session. #}
{%- set event_order = web_event_order() %}

with events as (
    select
        message_id,
        anonymous_id,
        coalesce(anonymous_id, 'user_id:' || user_id) as visitor_id,
        event_at,
        {{ web_campaign_key('utm_source', 'utm_medium') }} as campaign_key,
        {{ web_campaign_rank('utm_source', 'utm_medium') }} as campaign_rank,
        _partition_date
    from {{ ref('int_web_events') }}
),

{% if is_incremental() %}

new_events as (
    select events.*
    from events
    {% if var('partition_start') %}
    where events._partition_date >= cast('{{ var("partition_start") }}' as date)
      and events._partition_date < cast('{{ var("partition_end") or var("partition_start") }}' as date)
        -- partition_end is exclusive (a Dagster time window); equal bounds mean one day.
        or events._partition_date = cast('{{ var("partition_start") }}' as date)
    {% else %}
    where events._partition_date >= (
            select {{ dbt.dateadd('day', -1 * var('session_lookback_days'), "coalesce(max(_partition_date), cast('1900-01-01' as date))") }}
            from {{ this }}
        )
        or not exists (select 1 from {{ this }} as existing where existing.message_id = events.message_id)
    {% endif %}
),

earliest_new as (
    select visitor_id, min(event_at) as event_at
    from new_events
    group by visitor_id
),

-- A session boundary sits strictly between two timestamps, so the latest session start
-- strictly before the earliest new event is a boundary that new events cannot move.
restart_points as (
    select
        earliest_new.visitor_id,
        coalesce(max(existing.event_at), min(earliest_new.event_at)) as restart_at
    from earliest_new
    left join {{ this }} as existing
        on existing.visitor_id = earliest_new.visitor_id
        and existing.is_session_start
        and existing.event_at < earliest_new.event_at
    group by earliest_new.visitor_id
),

to_sessionize as (
    select events.*
    from events
    inner join restart_points on restart_points.visitor_id = events.visitor_id
    where events.event_at >= restart_points.restart_at
),

{% else %}

to_sessionize as (
    select * from events
),

{% endif %}

with_previous as (
    select
        to_sessionize.*,
        lag(event_at) over (partition by visitor_id order by {{ event_order }}) as previous_event_at
    from to_sessionize
),

inactivity_splits as (
    select
        with_previous.*,
        case
            when previous_event_at is null then 1
            when event_at > {{ dbt.dateadd('minute', timeout_minutes, 'previous_event_at') }} then 1
            else 0
        end as starts_after_inactivity
    from with_previous
),

inactivity_sessions as (
    select
        inactivity_splits.*,
        sum(starts_after_inactivity) over (
            partition by visitor_id order by {{ event_order }} rows between unbounded preceding and current row
        ) as inactivity_session_number
    from inactivity_splits
),

-- Within an inactivity session, the last campaign seen before an event is also the last one
-- of its current session: any campaign split happens at an event that carries a campaign.
campaign_context as (
    select
        inactivity_sessions.*,
        {{ previous_non_null('campaign_key', 'visitor_id, inactivity_session_number', event_order) }} as previous_campaign_key
    from inactivity_sessions
),

session_starts as (
    select
        campaign_context.*,
        starts_after_inactivity = 1
        {%- if split_on_campaign %}
            -- No campaign seen yet in the session counts as different: a campaign landing
            -- right after a campaign-less visit is a new visit from that campaign. Never at
            -- an event sharing the previous one's timestamp (no zero-length sessions).
            or (
                campaign_key is not null
                and event_at > previous_event_at
                and (previous_campaign_key is null or campaign_key <> previous_campaign_key)
            )
        {%- endif %}
            as is_session_start
    from campaign_context
),

numbered as (
    select
        session_starts.*,
        sum(case when is_session_start then 1 else 0 end) over (
            partition by visitor_id order by {{ event_order }} rows between unbounded preceding and current row
        ) as session_number
    from session_starts
),

final as (
    select
        message_id,
        {{ dbt.hash("visitor_id || '|' || first_value(message_id) over (partition by visitor_id, session_number order by " ~ event_order ~ ")") }} as session_id,
        anonymous_id,
        visitor_id,
        event_at,
        is_session_start,
        first_value(event_at) over (partition by visitor_id, session_number order by {{ event_order }}) as session_started_at,
        _partition_date
    from numbered
)

select * from final
