{#- Helpers of the incremental models downstream of int_web_event_sessions. -#}

{#- Per visitor with events in the run's partition window: the time from which its sessions
    may differ from the previous run - the start of the session of its latest event strictly
    before the earliest window event (or that event's time for a new visitor). Session
    boundaries sit strictly between timestamps (events sharing one share a session) and depend
    only on earlier events, so rebuilding each such visitor's events and sessions from
    `restart_at` on equals a full refresh. Without a window (a plain `dbt build`) every visitor
    restarts at its first event. -#}
{% macro web_session_restart_points(sessions) -%}
    select
        earliest_new.visitor_id,
        coalesce(max(earlier.session_started_at), min(earliest_new.event_at)) as restart_at
    from (
        select visitor_id, min(event_at) as event_at
        from {{ sessions }}
        where {{ in_partition_window('_partition_date', "cast('1900-01-01' as date)") }}
        group by visitor_id
    ) as earliest_new
    left join {{ sessions }} as earlier
        on earlier.visitor_id = earliest_new.visitor_id
        and earlier.event_at < earliest_new.event_at
    group by earliest_new.visitor_id
{%- endmacro %}

{#- The resolved customer of a web event from its identifier rows by anonymous_id and by
    user_id (left-joined int_customer_identifiers): only resolved people (a component with a
    known identifier) count as customers; the device decides when it is known to identity. -#}
{% macro web_event_customer_id(by_device, by_user) -%}
    case
        when coalesce({{ by_device }}.is_known, {{ by_user }}.is_known)
            then coalesce({{ by_device }}.customer_id, {{ by_user }}.customer_id)
    end
{%- endmacro %}

{#- A web event's campaign for the session rules: its utm_source / utm_medium pair (both
    lower-cased and trimmed in staging), null when it carries neither. A change of source OR
    medium (google/organic -> google/cpc) is a new campaign; utm_campaign is not compared. -#}
{% macro web_campaign_key(source, medium) -%}
    case
        when {{ source }} is not null or {{ medium }} is not null
            then coalesce({{ source }}, '(none)') || ' / ' || coalesce({{ medium }}, '(none)')
    end
{%- endmacro %}

{#- 0 for an event carrying campaign parameters, else 1: among events sharing a timestamp the
    campaign event comes first, so it lands the session (and gives it its channel). -#}
{% macro web_campaign_rank(source, medium) -%}
    case when {{ source }} is null and {{ medium }} is null then 1 else 0 end
{%- endmacro %}

{#- The order of a visitor's web events everywhere sessions are built or read (first event,
    landing and exit pages). Expects columns event_at, campaign_rank and message_id; `desc`
    reverses it. -#}
{% macro web_event_order(prefix='', descending=false) -%}
    {%- set direction = ' desc' if descending else '' -%}
    {{ prefix }}event_at{{ direction }}, {{ prefix }}campaign_rank{{ direction }}, {{ prefix }}message_id{{ direction }}
{%- endmacro %}
