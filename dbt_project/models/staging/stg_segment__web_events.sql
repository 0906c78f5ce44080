-- A table, not a view: JSON extraction, deduplication and identifier checks over every event
-- are the expensive part of staging, and a dozen models and tests read the result.
{{ config(materialized='table') }}

with source as (
    select * from {{ source('segment', 'web_events') }}
),

-- An event delivered twice (SDK retry, re-exported file) keeps its first delivery, so the
-- row chosen does not depend on which later files have been loaded.
deduplicated as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(message_id)
                order by _partition_date, _source_file, _line_number
            ) as delivery_number
        from source
    ) as numbered
    where delivery_number = 1
),

extracted as (
    select
        trim(message_id) as message_id,
        lower(trim(type)) as event_type,
        nullif(trim(event), '') as event_name,
        {{ normalize_identifier('anonymous_id') }} as anonymous_id,
        {{ normalize_identifier('user_id') }} as user_id,
        {{ to_utc_timestamp('event_timestamp') }} as event_at,
        {{ json_extract_text('payload', 'context.page.url') }} as page_url,
        {{ json_extract_text('payload', 'context.page.path') }} as raw_page_path,
        {{ json_extract_text('payload', 'context.page.title') }} as page_title,
        nullif(trim({{ json_extract_text('payload', 'context.page.referrer') }}), '') as referrer,
        {{ json_extract_text('payload', 'context.campaign.source') }} as campaign_source,
        {{ json_extract_text('payload', 'context.campaign.medium') }} as campaign_medium,
        {{ json_extract_text('payload', 'context.campaign.name') }} as campaign_name,
        {{ json_extract_text('payload', 'context.userAgent') }} as user_agent,
        coalesce(
            {{ json_extract_text('payload', 'traits.email') }},
            {{ json_extract_text('payload', 'context.traits.email') }}
        ) as traits_email,
        {{ json_extract_json('payload', 'properties') }} as properties,
        _partition_date
    from deduplicated
),

final as (
    select
        message_id,
        event_type,
        event_name,
        anonymous_id,
        user_id,
        event_at,
        page_url,
        coalesce(nullif(raw_page_path, ''), {{ url_path('page_url') }}) as page_path,
        page_title,
        referrer,
        {{ url_host('referrer') }} as referrer_host,
        {{ url_host('page_url') }} as page_host,
        -- context.campaign is what Segment's SDK parsed; fall back to the URL's own parameters.
        lower(nullif(trim(coalesce(campaign_source, {{ url_parameter('page_url', 'utm_source') }})), '')) as utm_source,
        lower(nullif(trim(coalesce(campaign_medium, {{ url_parameter('page_url', 'utm_medium') }})), '')) as utm_medium,
        nullif(trim(coalesce(campaign_name, {{ url_parameter('page_url', 'utm_campaign') }})), '') as utm_campaign,
        user_agent,
        {{ device_type('user_agent') }} as device_type,
        {{ normalize_email('traits_email') }} as identified_email,
        properties,
        _partition_date
    from extracted
)

select * from final
