-- agg_funnel_daily adds up to fct_customer_funnel: per stage, the people counted over all
-- cohort × segment × channel rows equal the customers with that stage's timestamp.
with daily as (
    select
        sum(awareness_customers) as awareness,
        sum(consideration_customers) as consideration,
        sum(evaluation_customers) as evaluation,
        sum(purchase_customers) as purchase,
        sum(retention_customers) as retention
    from {{ ref('agg_funnel_daily') }}
),

funnel as (
    select
        count(awareness_at) as awareness,
        count(consideration_at) as consideration,
        count(evaluation_at) as evaluation,
        count(purchase_at) as purchase,
        count(retention_at) as retention
    from {{ ref('fct_customer_funnel') }}
)

select daily.*, funnel.*
from daily
cross join funnel
where daily.awareness <> funnel.awareness
    or daily.consideration <> funnel.consideration
    or daily.evaluation <> funnel.evaluation
    or daily.purchase <> funnel.purchase
    or daily.retention <> funnel.retention
