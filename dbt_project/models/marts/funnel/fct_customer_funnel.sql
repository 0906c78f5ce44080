-- One row per known customer: when each funnel stage was reached (monotonic, see
-- int_funnel_stages), the time between consecutive stages, and the dimensions used to
-- compare funnels. cohort_date is the UTC day the person was first seen; acquisition_channel is
-- dim_customers' with the non-marketing origins (support, billing) as 'non_marketing'.
with stages as (
    select * from {{ ref('int_funnel_stages') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        stages.customer_id,
        cast(customers.first_seen_at as date) as cohort_date,
        customers.segment,
        -- A customer first met through a ticket or an order (dim_customers falls back to the
        -- first touch of any kind) was not acquired by a marketing channel: one group.
        case
            when {{ is_marketing_channel('customers.acquisition_channel') }} then customers.acquisition_channel
            when customers.acquisition_channel is not null then 'non_marketing'
        end as acquisition_channel,
        stages.awareness_at,
        stages.consideration_at,
        stages.evaluation_at,
        stages.purchase_at,
        stages.retention_at,
        stages.furthest_stage,
        {{ features_seconds_between('stages.awareness_at', 'stages.consideration_at') }} / 86400.0
            as days_awareness_to_consideration,
        {{ features_seconds_between('stages.consideration_at', 'stages.evaluation_at') }} / 86400.0
            as days_consideration_to_evaluation,
        {{ features_seconds_between('stages.evaluation_at', 'stages.purchase_at') }} / 86400.0
            as days_evaluation_to_purchase,
        {{ features_seconds_between('stages.purchase_at', 'stages.retention_at') }} / 86400.0
            as days_purchase_to_retention
    from stages
    inner join customers
        on customers.customer_id = stages.customer_id
)

select
    customer_id,
    cohort_date,
    segment,
    acquisition_channel,
    awareness_at,
    consideration_at,
    evaluation_at,
    purchase_at,
    retention_at,
    furthest_stage,
    cast(days_awareness_to_consideration as {{ features_type_double() }}) as days_awareness_to_consideration,
    cast(days_consideration_to_evaluation as {{ features_type_double() }}) as days_consideration_to_evaluation,
    cast(days_evaluation_to_purchase as {{ features_type_double() }}) as days_evaluation_to_purchase,
    cast(days_purchase_to_retention as {{ features_type_double() }}) as days_purchase_to_retention
from final
