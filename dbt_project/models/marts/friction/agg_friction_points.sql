-- Friction points per ISO week (Monday start): for each page and web friction type, the sessions
-- at that page, how many had the friction, their conversion against the others', the gap
-- with its 95 % Wald interval and the revenue at risk; friction_rank 1 = most revenue at
-- risk within the week. Logic and definitions: int_friction_point_stats.
with stats as (
    select * from {{ ref('int_friction_point_stats') }}
    where period = 'week'
)

select
    friction_rank,
    week_start,
    page_path,
    funnel_step,
    friction_type,
    cast(sessions_at_step as {{ dbt.type_bigint() }}) as sessions_at_step,
    cast(sessions_affected as {{ dbt.type_bigint() }}) as sessions_affected,
    cast(sessions_unaffected as {{ dbt.type_bigint() }}) as sessions_unaffected,
    cast(conversions_affected as {{ dbt.type_bigint() }}) as conversions_affected,
    cast(conversions_unaffected as {{ dbt.type_bigint() }}) as conversions_unaffected,
    conversion_rate_affected,
    conversion_rate_unaffected,
    conversion_gap,
    gap_ci_low,
    gap_ci_high,
    average_order_value,
    revenue_at_risk
from stats
