-- Monthly first-purchase cohorts: of the customers whose first paid order fell in a month,
-- how many had a subscription active at any time in each later month, and the net revenue
-- (paid orders) they brought that month. Months run up to the month of the latest data day.
with orders as (
    select * from {{ ref('int_funnel_orders') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

first_purchases as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as cohort_month
    from orders
    where was_paid and paid_order_number = 1
),

cohorts as (
    select cohort_month, count(*) as cohort_size
    from first_purchases
    group by cohort_month
),

month_offsets as (
    {{ features_integer_series(
        "select coalesce(" ~ dbt.datediff('(select min(cohort_month) from first_purchases)',
        'latest_data_date', 'month') ~ ", 0) from bounds"
    ) }}
),

cohort_months as (
    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        month_offsets.n as months_since_first_purchase,
        cast({{ dbt.dateadd('month', 'month_offsets.n', 'cohorts.cohort_month') }} as date) as activity_month
    from cohorts
    cross join month_offsets
    cross join bounds
    where {{ dbt.dateadd('month', 'month_offsets.n', 'cohorts.cohort_month') }} <= bounds.latest_data_date
),

active as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since_first_purchase,
        count(distinct first_purchases.customer_id) as active_customers
    from cohort_months
    inner join first_purchases
        on first_purchases.cohort_month = cohort_months.cohort_month
    inner join subscriptions
        on subscriptions.customer_id = first_purchases.customer_id
        and subscriptions.started_at < {{ dbt.dateadd('month', 1, 'cohort_months.activity_month') }}
        and (subscriptions.canceled_at is null or subscriptions.canceled_at >= cohort_months.activity_month)
    group by cohort_months.cohort_month, cohort_months.months_since_first_purchase
),

revenue as (
    select
        first_purchases.cohort_month,
        cast({{ dbt.date_trunc('month', 'orders.ordered_at') }} as date) as activity_month,
        sum(case when orders.status = 'paid' then orders.amount else 0 end) as revenue
    from orders
    inner join first_purchases
        on first_purchases.customer_id = orders.customer_id
    group by 1, 2
),

final as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since_first_purchase,
        cohort_months.activity_month,
        cohort_months.cohort_size,
        coalesce(active.active_customers, 0) as active_customers,
        cast(coalesce(active.active_customers, 0) as {{ features_type_double() }}) / cohort_months.cohort_size
            as retention_rate,
        coalesce(revenue.revenue, 0) as revenue
    from cohort_months
    left join active
        on active.cohort_month = cohort_months.cohort_month
        and active.months_since_first_purchase = cohort_months.months_since_first_purchase
    left join revenue
        on revenue.cohort_month = cohort_months.cohort_month
        and revenue.activity_month = cohort_months.activity_month
)

select
    cohort_month,
    months_since_first_purchase,
    activity_month,
    cohort_size,
    active_customers,
    retention_rate,
    cast(revenue as decimal(18, 2)) as revenue
from final
