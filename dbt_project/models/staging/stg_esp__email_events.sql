with source as (
    select * from {{ source('esp', 'email_events') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
    where {{ not_erased([('email', 'email')]) }}
),

-- Re-delivered events keep their first delivery.
deduplicated as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(event_id)
                order by _partition_date, _line_number
            ) as delivery_number
        from source
    ) as numbered
    where delivery_number = 1
),

final as (
    select
        trim(event_id) as event_id,
        {{ normalize_email('email') }} as email,
        nullif(trim(campaign_id), '') as campaign_id,
        nullif(trim(campaign_name), '') as campaign_name,
        lower(trim(event_type)) as event_type,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        _partition_date
    from deduplicated
    where nullif(trim(event_id), '') is not null
)

select * from final
