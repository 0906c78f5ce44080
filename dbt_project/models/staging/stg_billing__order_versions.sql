with source as (
    select * from {{ source('billing', 'orders') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
    where {{ not_erased([('contact_id', 'contact_id'), ('email', 'email'), ('user_id', 'user_id'), ('anonymous_id', 'anonymous_id')]) }}
),

-- Every version of each record (identity uses them all: an address that was replaced is
-- still evidence), ranked newest first.
ranked as (
    select
        source.*,
        row_number() over (
            partition by trim(order_id)
            order by _partition_date desc, _line_number desc
        ) as version_rank
    from source
),

final as (
    select
        trim(order_id) as order_id,
        {{ normalize_identifier('contact_id') }} as contact_id,
        {{ normalize_email('email') }} as email,
        -- Web ids of the buyer (optional export columns): link a checkout to its sessions.
        {{ normalize_identifier('user_id') }} as user_id,
        {{ normalize_identifier('anonymous_id') }} as anonymous_id,
        {{ to_utc_timestamp('ordered_at') }} as ordered_at,
        lower(nullif(trim(status), '')) as status,
        amount,
        upper(nullif(trim(currency), '')) as currency,
        lower(nullif(trim(plan), '')) as plan,
        lower(nullif(trim(order_type), '')) as order_type,
        _partition_date,
        version_rank
    from ranked
    where nullif(trim(order_id), '') is not null
)

select * from final
