with source as (
    select * from {{ source('privacy', 'privacy_requests') }}
    -- An erased person's requests go with them (privacy.erasure_log keeps the audit trail).
    where {{ not_erased([('email', 'email')]) }}
),

deduplicated as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(request_id)
                order by _partition_date, _line_number
            ) as delivery_number
        from source
    ) as numbered
    where delivery_number = 1
),

final as (
    select
        trim(request_id) as request_id,
        {{ normalize_email('email') }} as email,
        lower(nullif(trim(request_type), '')) as request_type,
        {{ to_utc_timestamp('requested_at') }} as requested_at,
        _partition_date
    from deduplicated
    where nullif(trim(request_id), '') is not null
)

select * from final
