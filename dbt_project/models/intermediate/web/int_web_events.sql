-- Every web event of every tracker in one shape: Segment and Snowplow staging share their
-- columns exactly, and `tracker` says where a row came from. Sessions, identity and features
-- read this model, so a second tracker needs only a staging model and one more union branch.
-- A view: both inputs are already cleaned, and the readers filter or aggregate it anyway.
{{ config(materialized='view') }}

{%- set columns = [
    'message_id', 'event_type', 'event_name', 'anonymous_id', 'user_id', 'event_at',
    'page_url', 'page_path', 'page_title', 'referrer', 'referrer_host', 'page_host',
    'utm_source', 'utm_medium', 'utm_campaign', 'user_agent', 'device_type',
    'identified_email', 'properties', '_partition_date',
] %}

with segment_events as (
    select * from {{ ref('stg_segment__web_events') }}
),

snowplow_events as (
    select * from {{ ref('stg_snowplow__events') }}
),

unioned as (
    select
        'segment' as tracker,
        {%- for column in columns %}
        {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from segment_events
    union all
    select
        'snowplow' as tracker,
        {%- for column in columns %}
        {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from snowplow_events
)

select * from unioned
