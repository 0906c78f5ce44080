-- Resolved people: identity components holding at least one known identifier (user_id,
-- email or contact_id). Anonymous-only devices are visitors, not customers.
with identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
),

final as (
    select
        customer_id,
        min(first_seen_at) as identifiers_first_seen_at,
        count(distinct case when identifier_type = 'anonymous_id' then identifier end) as devices_count,
        count(distinct case when identifier_type = 'email' then identifier end) as emails_count,
        count(distinct case when identifier_type = 'contact_id' then identifier end) as crm_contacts_count,
        count(distinct case when identifier_type = 'user_id' then identifier end) as user_ids_count
    from identifiers
    where is_known
    group by customer_id
)

select * from final
