-- The latest version of each order (see stg_billing__order_versions for the ordering).
with versions as (
    select * from {{ ref('stg_billing__order_versions') }}
)

select
    order_id,
    contact_id,
    email,
    user_id,
    anonymous_id,
    ordered_at,
    status,
    amount,
    currency,
    plan,
    order_type,
    _partition_date
from versions
where version_rank = 1
