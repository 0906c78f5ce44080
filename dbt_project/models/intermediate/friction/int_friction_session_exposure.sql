-- The comparison behind agg_friction_points: one row per (session, page, web friction type
-- detected anywhere on that page) for every session that viewed the page while its person had
-- not yet purchased. is_affected says whether this session had that friction on that page;
-- converted whether the session's person made a first paid order within
-- var('friction_conversion_days') days of the session start. Sessions of people who had
-- already purchased cannot convert and are left out; anonymous sessions count as not converted
-- (no purchase can be linked to them).
with steps as (
    select * from {{ ref('int_friction_web_steps') }}
),

frictions as (
    select * from {{ ref('fct_friction_events') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

session_pages as (
    select
        session_id,
        max(customer_id) as customer_id,
        page_path,
        max(funnel_step) as funnel_step,
        min(session_started_at) as session_started_at,
        min(event_at) as first_viewed_at
    from steps
    where event_type = 'page' and page_path is not null
    group by session_id, page_path
),

first_purchases as (
    select customer_id, ordered_at as purchased_at
    from orders
    where was_paid and paid_order_number = 1
),

web_frictions as (
    select distinct session_id, page_path, friction_type
    from frictions
    where session_id is not null and page_path is not null
),

friction_points as (
    select distinct page_path, friction_type
    from web_frictions
),

at_risk as (
    select
        session_pages.session_id,
        session_pages.customer_id,
        session_pages.page_path,
        session_pages.funnel_step,
        session_pages.session_started_at,
        session_pages.first_viewed_at,
        first_purchases.purchased_at
    from session_pages
    left join first_purchases on first_purchases.customer_id = session_pages.customer_id
    where first_purchases.purchased_at is null
        or first_purchases.purchased_at > session_pages.session_started_at
),

final as (
    select
        at_risk.session_id,
        at_risk.customer_id,
        at_risk.page_path,
        at_risk.funnel_step,
        friction_points.friction_type,
        cast({{ dbt.date_trunc('week', 'at_risk.first_viewed_at') }} as date) as week_start,
        at_risk.session_started_at,
        web_frictions.session_id is not null as is_affected,
        coalesce(
            at_risk.purchased_at <= {{ dbt.dateadd('day', var('friction_conversion_days', 30), 'at_risk.session_started_at') }},
            false
        ) as converted
    from at_risk
    inner join friction_points on friction_points.page_path = at_risk.page_path
    left join web_frictions
        on web_frictions.session_id = at_risk.session_id
        and web_frictions.page_path = at_risk.page_path
        and web_frictions.friction_type = friction_points.friction_type
)

select * from final
