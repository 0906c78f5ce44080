-- Conversion of sessions with and without a friction at the same page, per ISO week
-- (period 'week') and over all time (period 'all_time', week_start null), with the gap's 95 %
-- Wald confidence interval (two-proportion normal approximation) and the revenue at risk.
-- agg_friction_points and agg_friction_points_all_time select their period from here.
--   conversion_gap   rate unaffected - rate affected (> 0: the friction costs conversions)
--   gap_ci_low/high  gap -/+ 1.96 * sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0); null when a
--                    group is empty; zero width when both rates are 0 or 1 (Wald's weakness)
--   revenue_at_risk  sessions_affected * max(gap, 0) * average first-order amount (amounts
--                    as recorded, whatever their currency: int_funnel_orders does not convert)
with exposure as (
    select * from {{ ref('int_friction_session_exposure') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

average_order as (
    select
        cast({{ exact_sum('amount') }} / nullif(count(*), 0) as {{ features_type_double() }})
            as average_order_value
    from orders
    where was_paid and paid_order_number = 1
),

counts as (
    {%- for period in ['week', 'all_time'] %}
    select
        '{{ period }}' as period,
        {{ 'week_start' if period == 'week' else 'cast(null as date)' }} as week_start,
        page_path,
        funnel_step,
        friction_type,
        count(*) as sessions_at_step,
        sum(case when is_affected then 1 else 0 end) as sessions_affected,
        sum(case when is_affected then 0 else 1 end) as sessions_unaffected,
        sum(case when is_affected and converted then 1 else 0 end) as conversions_affected,
        sum(case when not is_affected and converted then 1 else 0 end) as conversions_unaffected
    from exposure
    group by {{ 'week_start, ' if period == 'week' }}page_path, funnel_step, friction_type
    -- A friction seen on the page in other weeks only is no friction point of this week.
    having sum(case when is_affected then 1 else 0 end) > 0
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

rates as (
    select
        counts.*,
        cast(conversions_affected as {{ features_type_double() }}) / nullif(sessions_affected, 0)
            as conversion_rate_affected,
        cast(conversions_unaffected as {{ features_type_double() }}) / nullif(sessions_unaffected, 0)
            as conversion_rate_unaffected
    from counts
),

gaps as (
    select
        rates.*,
        conversion_rate_unaffected - conversion_rate_affected as conversion_gap,
        {{ wald_difference_margin(
            'conversion_rate_affected', 'sessions_affected',
            'conversion_rate_unaffected', 'sessions_unaffected',
        ) }} as gap_margin
    from rates
),

final as (
    select
        gaps.period,
        gaps.week_start,
        gaps.page_path,
        gaps.funnel_step,
        gaps.friction_type,
        gaps.sessions_at_step,
        gaps.sessions_affected,
        gaps.sessions_unaffected,
        gaps.conversions_affected,
        gaps.conversions_unaffected,
        gaps.conversion_rate_affected,
        gaps.conversion_rate_unaffected,
        gaps.conversion_gap,
        gaps.conversion_gap - gaps.gap_margin as gap_ci_low,
        gaps.conversion_gap + gaps.gap_margin as gap_ci_high,
        average_order.average_order_value,
        gaps.sessions_affected
            * case
                when gaps.conversion_gap is null then null
                when gaps.conversion_gap > 0 then gaps.conversion_gap
                else 0
            end
            * coalesce(average_order.average_order_value, 0) as revenue_at_risk
    from gaps
    cross join average_order
)

select
    final.*,
    row_number() over (
        partition by period, week_start
        order by
            coalesce(revenue_at_risk, 0) desc,
            sessions_affected desc,
            page_path,
            friction_type
    ) as friction_rank
from final
