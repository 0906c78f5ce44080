with source as (
    select * from {{ source('billing', 'subscriptions') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
    where {{ not_erased([('contact_id', 'contact_id'), ('user_id', 'user_id'), ('anonymous_id', 'anonymous_id')]) }}
),

-- Subscriptions have no updated_at: the billing export re-sends the whole row (same
-- subscription_id and started_at) when the plan changes and when it is canceled, and
-- sometimes re-sends it unchanged. Fields are normalised first so that re-sends differing
-- only in padding or case compare equal.
normalised as (
    select
        trim(subscription_id) as subscription_id,
        {{ normalize_identifier('contact_id') }} as contact_id,
        {{ normalize_identifier('user_id') }} as user_id,
        {{ normalize_identifier('anonymous_id') }} as anonymous_id,
        lower(nullif(trim(plan), '')) as plan,
        mrr,
        {{ to_utc_timestamp('started_at') }} as started_at,
        {{ to_utc_timestamp('canceled_at') }} as canceled_at,
        nullif(trim(cancel_reason), '') as cancel_reason,
        lower(nullif(trim(status), '')) as status,
        _partition_date,
        _line_number
    from source
    where nullif(trim(subscription_id), '') is not null
),

-- Within one export day its last line wins.
per_day as (
    select *
    from (
        select
            normalised.*,
            row_number() over (
                partition by subscription_id, _partition_date
                order by _line_number desc
            ) as line_rank
        from normalised
    ) as ranked
    where line_rank = 1
),

{%- set content = ['contact_id', 'user_id', 'anonymous_id', 'plan', 'mrr', 'started_at', 'canceled_at', 'cancel_reason', 'status'] %}

-- A new version starts wherever the content differs from the previous export day's; an
-- unchanged re-send extends the version it repeats.
flagged as (
    select
        per_day.*,
        case
            when row_number() over by_day = 1 then 1
            {%- for column in content %}
            when lag({{ column }}) over by_day is distinct from {{ column }} then 1
            {%- endfor %}
            else 0
        end as is_new_version
    from per_day
    window by_day as (partition by subscription_id order by _partition_date)
),

numbered as (
    select
        flagged.*,
        sum(is_new_version) over (
            partition by subscription_id order by _partition_date
            rows between unbounded preceding and current row
        ) as version_number
    from flagged
),

versions as (
    select
        subscription_id,
        version_number,
        -- (the content is identical within a version)
        {%- for column in content %}
        max({{ column }}) as {{ column }},
        {%- endfor %}
        min(_partition_date) as known_from,
        max(_partition_date) as _partition_date
    from numbered
    group by subscription_id, version_number
),

final as (
    select
        subscription_id,
        {%- for column in content %}
        {{ column }},
        {%- endfor %}
        known_from,
        lead(known_from) over (partition by subscription_id order by known_from) as known_until,
        row_number() over (partition by subscription_id order by known_from desc) as version_rank,
        _partition_date
    from versions
)

select * from final
