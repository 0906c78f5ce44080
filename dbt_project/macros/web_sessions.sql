{#- Helpers of the incremental models downstream of int_web_event_sessions. -#}

{#- Per visitor with events in the run's partition window: the time from which its sessions
    may differ from the previous run - the start of the session of its latest event before
    the earliest window event (or that event itself for a new visitor). Events before that
    session keep their sessions (sessionization only looks back), so rebuilding each such
    visitor's events and sessions from `restart_at` on equals a full refresh. Without a
    window (a plain `dbt build`) every visitor restarts at its first event. -#}
{% macro web_session_restart_points(sessions) -%}
    select
        earliest_new.visitor_id,
        coalesce(max(earlier.session_started_at), min(earliest_new.event_at)) as restart_at
    from (
        select visitor_id, event_at, message_id
        from (
            select
                visitor_id,
                event_at,
                message_id,
                row_number() over (partition by visitor_id order by event_at, message_id) as position
            from {{ sessions }}
            where {{ in_partition_window('_partition_date', "cast('1900-01-01' as date)") }}
        ) as ordered
        where position = 1
    ) as earliest_new
    left join {{ sessions }} as earlier
        on earlier.visitor_id = earliest_new.visitor_id
        and (
            earlier.event_at < earliest_new.event_at
            or (earlier.event_at = earliest_new.event_at and earlier.message_id < earliest_new.message_id)
        )
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
