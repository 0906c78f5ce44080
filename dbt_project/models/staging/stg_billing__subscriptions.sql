with source as (
    select * from {{ source('billing', 'subscriptions') }}
),

-- Subscriptions have no updated_at: the latest export of a subscription (then its last line) wins.
latest as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by trim(subscription_id)
                order by _partition_date desc, _line_number desc
            ) as version_rank
        from source
    ) as ranked
    where version_rank = 1
),

final as (
    select
        trim(subscription_id) as subscription_id,
        {{ normalize_identifier('contact_id') }} as contact_id,
        lower(nullif(trim(plan), '')) as plan,
        mrr,
        {{ to_utc_timestamp('started_at') }} as started_at,
        {{ to_utc_timestamp('canceled_at') }} as canceled_at,
        nullif(trim(cancel_reason), '') as cancel_reason,
        lower(nullif(trim(status), '')) as status,
        _partition_date
    from latest
    where nullif(trim(subscription_id), '') is not null
)

select * from final
