with source as (
    select * from {{ source('support', 'support_tickets') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
    where {{ not_erased([('email', 'requester_email'), ('user_id', 'user_id'), ('anonymous_id', 'anonymous_id')]) }}
),

-- Each export holds the tickets created or updated that day: keep the latest version.
latest as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(ticket_id)
                order by updated_at desc nulls last, _partition_date desc, _line_number desc
            ) as version_rank
        from source
    ) as ranked
    where version_rank = 1
),

final as (
    select
        trim(ticket_id) as ticket_id,
        {{ normalize_email('requester_email') }} as requester_email,
        {{ normalize_identifier('user_id') }} as user_id,
        {{ normalize_identifier('anonymous_id') }} as anonymous_id,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        {{ to_utc_timestamp('solved_at') }} as solved_at,
        lower(nullif(trim(channel), '')) as channel,
        lower(nullif(trim(priority), '')) as priority,
        lower(nullif(trim(status), '')) as status,
        nullif(trim(satisfaction), '') as satisfaction,
        nullif(trim(subject), '') as subject,
        nullif(trim(description), '') as description,
        _partition_date
    from latest
    where nullif(trim(ticket_id), '') is not null
)

select * from final
