with source as (
    select * from {{ source('crm', 'crm_contacts') }}
    -- Erased people (tombstone, macros/erasure.sql) never enter staging, even re-delivered.
    where {{ not_erased([('contact_id', 'contact_id'), ('email', 'email')]) }}
),

-- Every version of each record (identity uses them all: an address that was replaced is
-- still evidence), ranked newest first.
ranked as (
    select
        source.*,
        row_number() over (
            partition by trim(contact_id)
            order by updated_at desc nulls last, _partition_date desc, _line_number desc
        ) as version_rank
    from source
),

final as (
    select
        {{ normalize_identifier('contact_id') }} as contact_id,
        {{ normalize_email('email') }} as email,
        nullif(trim(first_name), '') as first_name,
        nullif(trim(last_name), '') as last_name,
        nullif(trim(company), '') as company,
        nullif(trim(segment), '') as segment,
        nullif(trim(country), '') as country,
        lower(nullif(trim(lifecycle_stage), '')) as lifecycle_stage,
        {{ to_utc_timestamp('created_at') }} as created_at,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        marketing_consent,
        _partition_date,
        version_rank
    from ranked
    where nullif(trim(contact_id), '') is not null
)

select * from final
