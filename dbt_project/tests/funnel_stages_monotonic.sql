-- A stage implies every earlier stage, reached no later than it.
select customer_id
from {{ ref('fct_customer_funnel') }}
where (consideration_at is not null and (awareness_at is null or awareness_at > consideration_at))
    or (evaluation_at is not null and (consideration_at is null or consideration_at > evaluation_at))
    or (purchase_at is not null and (evaluation_at is null or evaluation_at > purchase_at))
    or (retention_at is not null and (purchase_at is null or purchase_at > retention_at))
