-- Every conversion hands out exactly one unit of credit under every attribution model.
select
    conversion_id,
    attribution_model,
    sum(credit) as total_credit
from {{ ref('fct_attribution') }}
group by conversion_id, attribution_model
having abs(sum(credit) - 1) > 1e-9
