-- A conversion is a customer's first paid order of type 'new' (a refunded order still
-- counts: it was paid when placed). One per customer at most.
with orders as (
    select * from {{ ref('int_funnel_orders') }}
),

ranked as (
    select
        order_id,
        customer_id,
        ordered_at,
        amount,
        currency,
        plan,
        row_number() over (partition by customer_id order by ordered_at, order_id) as new_order_number
    from orders
    where was_paid and order_type = 'new'
),

final as (
    select
        order_id as conversion_id,
        customer_id,
        ordered_at as converted_at,
        amount as revenue,
        currency,
        plan
    from ranked
    where new_order_number = 1
)

select * from final
