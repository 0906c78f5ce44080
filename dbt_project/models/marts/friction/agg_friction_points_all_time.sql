-- Friction points over all time (one row per page and web friction type), ranked by revenue
-- at risk: the chart of the top friction points reads this. Logic: int_friction_point_stats.
with stats as (
    select * from {{ ref('int_friction_point_stats') }}
    where period = 'all_time'
)

select
    friction_rank,
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
