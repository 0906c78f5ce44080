-- Incremental: JSON extraction, deduplication and identifier checks over every event are the
-- expensive part of staging, so a run only processes the partitions of its window (Dagster
-- passes them as vars; a plain `dbt build` re-reads the latest loaded day and newer ones).
-- A re-run of a window replaces its partitions (pre_hook), so a re-ingested day leaves no
-- stale row behind.
{{
    config(
        materialized='incremental',
        unique_key='message_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        pre_hook="{% if is_incremental() and var('partition_start') %}delete from {{ this }} where {{ in_partition_window('_partition_date', '') }}{% endif %}",
    )
}}

with source as (
    select * from {{ source('segment', 'web_events') }}
    {% if is_incremental() %}
    where {{ in_partition_window('_partition_date', latest_partition(this)) }}
    {% endif %}
),

{% if is_incremental() %}
existing as (
    select message_id, _partition_date from {{ this }}
),
{% endif %}

-- An event delivered twice (SDK retry, re-exported file) keeps its first delivery, so the
-- row chosen does not depend on which later files have been loaded. In an incremental run a
-- delivery is new unless the table holds an earlier one; a later one (a day loaded out of
-- order) is replaced through unique_key, so the table equals a full refresh.
-- Ranked on the narrow key columns only, then joined back on the raw row's own key (file,
-- line): sorting whole rows with their JSON payloads made DuckDB spill gigabytes at 10x.
first_deliveries as (
    select _source_file, _line_number, message_id, _partition_date
    from (
        select
            _source_file,
            _line_number,
            trim(message_id) as message_id,
            _partition_date,
            row_number() over (
                partition by trim(message_id)
                order by _partition_date, _source_file, _line_number
            ) as delivery_number
        from source
    ) as numbered
    where delivery_number = 1
    {% if is_incremental() %}
      and not exists (
          select 1
          from existing
          where existing.message_id = numbered.message_id
            and existing._partition_date < numbered._partition_date
      )
    {% endif %}
),

deduplicated as (
    select source.*
    from source
    inner join first_deliveries
        on first_deliveries._source_file = source._source_file
        and first_deliveries._line_number = source._line_number
        and first_deliveries.message_id = trim(source.message_id)
),

-- One JSON parse per event for every text field (see json_extract_texts).
payload_fields as (
    select
        deduplicated.*,
        {{ json_extract_texts('payload', [
            'context.page.url',
            'context.page.path',
            'context.page.title',
            'context.page.referrer',
            'context.campaign.source',
            'context.campaign.medium',
            'context.campaign.name',
            'context.userAgent',
            'traits.email',
            'context.traits.email',
        ]) }} as payload_texts
    from deduplicated
),

extracted as (
    select
        trim(message_id) as message_id,
        lower(trim(type)) as event_type,
        nullif(trim(event), '') as event_name,
        {{ normalize_identifier('anonymous_id') }} as anonymous_id,
        {{ normalize_identifier('user_id') }} as user_id,
        {{ to_utc_timestamp('event_timestamp') }} as event_at,
        payload_texts[1] as page_url,
        payload_texts[2] as raw_page_path,
        payload_texts[3] as page_title,
        nullif(trim(payload_texts[4]), '') as referrer,
        payload_texts[5] as campaign_source,
        payload_texts[6] as campaign_medium,
        payload_texts[7] as campaign_name,
        payload_texts[8] as user_agent,
        coalesce(payload_texts[9], payload_texts[10]) as traits_email,
        {{ json_extract_json('payload', 'properties') }} as properties,
        _partition_date
    from payload_fields
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
-- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
where {{ not_erased([('anonymous_id', 'anonymous_id'), ('user_id', 'user_id'), ('email', 'identified_email')]) }}
