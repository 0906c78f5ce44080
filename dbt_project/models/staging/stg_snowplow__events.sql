-- Snowplow's canonical atomic.events, one row per event_id, in exactly the columns and types
-- of stg_segment__web_events so that int_web_events can union both trackers and everything
-- downstream (sessions, identity, features) reads one shape. Mapping decisions:
-- docs/identity_and_sessions.md ("Snowplow events").
with source as (
    select * from {{ source('snowplow', 'events') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered;
    -- a user_id may be the person's email (see identified_email below).
    where {{ not_erased([('anonymous_id', 'domain_userid'), ('user_id', 'user_id'), ('email', 'user_id')]) }}
),

-- An event delivered twice (collector retry, re-exported file) keeps its first delivery, as
-- in stg_segment__web_events.
deduplicated as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(event_id)
                order by _partition_date, _source_file, _line_number
            ) as delivery_number
        from source
    ) as numbered
    where delivery_number = 1
),

cleaned as (
    select
        trim(event_id) as event_id,
        lower(trim(event)) as snowplow_event,
        nullif(trim(event_name), '') as snowplow_event_name,
        nullif(trim(se_category), '') as se_category,
        nullif(trim(se_action), '') as se_action,
        nullif(trim(se_label), '') as se_label,
        nullif(trim(tr_orderid), '') as tr_orderid,
        tr_total,
        {{ normalize_identifier('domain_userid') }} as anonymous_id,
        {{ normalize_identifier('user_id') }} as user_id,
        -- derived_tstamp corrects the device clock; collector_tstamp is always set.
        {{ to_utc_timestamp('coalesce(derived_tstamp, collector_tstamp)') }} as event_at,
        nullif(trim(page_url), '') as page_url,
        nullif(trim(page_urlpath), '') as page_urlpath,
        nullif(trim(page_title), '') as page_title,
        nullif(trim(page_referrer), '') as referrer,
        nullif(trim(refr_urlhost), '') as refr_urlhost,
        nullif(trim(mkt_source), '') as mkt_source,
        nullif(trim(mkt_medium), '') as mkt_medium,
        nullif(trim(mkt_campaign), '') as mkt_campaign,
        nullif(trim(useragent), '') as user_agent,
        _partition_date
    from deduplicated
    where nullif(trim(event_id), '') is not null
),

final as (
    select
        event_id as message_id,
        -- Segment's call types: a page view is a page call; Snowplow has no identify call
        -- (setUserId stamps user_id on every event); everything else is a track call.
        case when snowplow_event = 'page_view' then 'page' else 'track' end as event_type,
        case
            when snowplow_event = 'page_view' then null
            -- Segment's e-commerce spec name, so sessions count the purchase as a conversion.
            when snowplow_event = 'transaction' then 'Order Completed'
            when snowplow_event = 'struct' then coalesce(se_action, snowplow_event_name, snowplow_event)
            else coalesce(snowplow_event_name, snowplow_event)
        end as event_name,
        anonymous_id,
        user_id,
        event_at,
        page_url,
        coalesce(page_urlpath, {{ url_path('page_url') }}) as page_path,
        page_title,
        referrer,
        -- refr_urlhost (the enrichment's parse) only when page_referrer is not a URL;
        -- url_host lower-cases and drops 'www.' either way.
        coalesce({{ url_host('referrer') }}, {{ url_host("'https://' || refr_urlhost") }}) as referrer_host,
        {{ url_host('page_url') }} as page_host,
        -- mkt_* is what the campaign enrichment parsed; fall back to the URL's own parameters.
        lower(nullif(trim(coalesce(mkt_source, {{ url_parameter('page_url', 'utm_source') }})), '')) as utm_source,
        lower(nullif(trim(coalesce(mkt_medium, {{ url_parameter('page_url', 'utm_medium') }})), '')) as utm_medium,
        nullif(trim(coalesce(mkt_campaign, {{ url_parameter('page_url', 'utm_campaign') }})), '') as utm_campaign,
        user_agent,
        {{ device_type('user_agent') }} as device_type,
        -- No traits in Snowplow: a user_id that is an email address is the identified email
        -- (normalize_email is null for anything without '@' and for generic values).
        {{ normalize_email('user_id') }} as identified_email,
        case
            when coalesce(se_category, se_action, se_label, tr_orderid, cast(tr_total as {{ dbt.type_string() }})) is not null
                then {{ json_object_of([
                    ('category', 'se_category'),
                    ('action', 'se_action'),
                    ('label', 'se_label'),
                    ('order_id', 'tr_orderid'),
                    ('total', 'tr_total'),
                ]) }}
        end as properties,
        _partition_date
    from cleaned
)

select * from final
