-- The latest version of each subscription (see stg_billing__subscription_versions for the
-- ordering): its latest export day, then its last line on that day.
with versions as (
    select * from {{ ref('stg_billing__subscription_versions') }}
)

select
    subscription_id,
    contact_id,
    user_id,
    anonymous_id,
    plan,
    mrr,
    started_at,
    canceled_at,
    cancel_reason,
    status,
    _partition_date
from versions
where version_rank = 1
