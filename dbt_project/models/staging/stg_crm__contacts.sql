-- The latest version of each contact (see stg_crm__contact_versions for the ordering).
with versions as (
    select * from {{ ref('stg_crm__contact_versions') }}
)

select
    contact_id,
    email,
    first_name,
    last_name,
    company,
    segment,
    country,
    lifecycle_stage,
    created_at,
    updated_at,
    marketing_consent,
    _partition_date
from versions
where version_rank = 1
