-- Orders resolved to known customers. The order's contact_id links first (a billing system
-- key is more reliable than a typed email), then its email, then the web ids the export may
-- carry (user_id, then anonymous_id): a checkout known only by its device still resolves
-- through that device's web identity (identity makes a device seen on an order known).
with orders as (
    select * from {{ ref('stg_billing__orders') }}
),

identifiers as (
    select * from {{ ref('int_customer_identifiers') }}
    where is_known
),

resolved as (
    select
        orders.order_id,
        coalesce(
            by_contact.customer_id, by_email.customer_id, by_user.customer_id, by_device.customer_id
        ) as customer_id,
        orders.ordered_at,
        orders.status,
        orders.amount,
        orders.currency,
        orders.plan,
        orders.order_type
    from orders
    left join identifiers as by_contact
        on by_contact.identifier_type = 'contact_id'
        and by_contact.identifier = orders.contact_id
    left join identifiers as by_email
        on by_email.identifier_type = 'email'
        and by_email.identifier = orders.email
    left join identifiers as by_user
        on by_user.identifier_type = 'user_id'
        and by_user.identifier = orders.user_id
    left join identifiers as by_device
        on by_device.identifier_type = 'anonymous_id'
        and by_device.identifier = orders.anonymous_id
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        amount,
        currency,
        plan,
        order_type,
        -- A refunded order was paid when it was placed: counting it as paid at ordered_at
        -- keeps history stable when the refund arrives later (no look-ahead in features).
        status in ('paid', 'refunded') as was_paid,
        row_number() over (
            partition by customer_id, status in ('paid', 'refunded')
            order by ordered_at, order_id
        ) as paid_order_number
    from resolved
    where customer_id is not null
)

select * from final
