-- Built after scoring (tag after_scores: its own dbt invocation in Dagster), so it reads
-- this run's scores.
{{ config(tags=['after_scores']) }}
-- Predicted 12-month value by acquisition channel and channel path: which journeys bring
-- the most valuable customers. Reads the latest score day in marts.customer_scores (built
-- after scoring, see the tag above; a plain `dbt build` reads whatever scores exist, none
-- before the first scoring). Every scored person with a value counts:
-- paying customers (mrr × expected renewals) and leads (purchase propensity × a new
-- customer's value); ml/ltv.py and docs/models.md define the value.
with scores as (
    select * from {{ source('scores', 'customer_scores') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

customer_paths as (
    select * from {{ ref('int_customer_paths') }}
),

paths as (
    select * from {{ ref('agg_paths') }}
),

latest_day as (
    select max(score_date) as score_date
    from scores
    where predicted_ltv_12m is not null
),

latest_scores as (
    select
        scores.customer_id,
        scores.score_date,
        scores.predicted_ltv_12m,
        scores.churn_probability is not null as is_paying
    from scores
    inner join latest_day
        on latest_day.score_date = scores.score_date
    where scores.predicted_ltv_12m is not null
),

valued as (
    select
        coalesce(customers.acquisition_channel, '(unknown)') as acquisition_channel,
        coalesce(customer_paths.path, '(none)') as path,
        latest_scores.score_date,
        latest_scores.predicted_ltv_12m,
        latest_scores.is_paying,
        customers.lifetime_revenue
    from latest_scores
    -- Erased people have left dim_customers (and the scores): they are not valued.
    inner join customers
        on customers.customer_id = latest_scores.customer_id
    left join customer_paths
        on customer_paths.customer_id = latest_scores.customer_id
),

final as (
    select
        valued.acquisition_channel,
        valued.path,
        max(valued.score_date) as score_date,
        count(*) as customers,
        sum(case when valued.is_paying then 1 else 0 end) as paying_customers,
        sum(case when valued.is_paying then 0 else 1 end) as leads,
        -- Exact sums: a float sum's last bits follow the row order, which changes per build.
        {{ exact_sum('valued.predicted_ltv_12m') }} / count(*) as mean_predicted_ltv_12m,
        {{ funnel_median('valued.predicted_ltv_12m') }} as median_predicted_ltv_12m,
        {{ exact_sum('valued.predicted_ltv_12m') }} as total_predicted_ltv_12m,
        sum(valued.lifetime_revenue) as realised_revenue_to_date
    from valued
    group by valued.acquisition_channel, valued.path
)

select
    final.acquisition_channel,
    final.path,
    paths.path_rank,
    final.score_date,
    cast(final.customers as {{ dbt.type_bigint() }}) as customers,
    cast(final.paying_customers as {{ dbt.type_bigint() }}) as paying_customers,
    cast(final.leads as {{ dbt.type_bigint() }}) as leads,
    cast(final.mean_predicted_ltv_12m as {{ features_type_double() }}) as mean_predicted_ltv_12m,
    cast(final.median_predicted_ltv_12m as {{ features_type_double() }}) as median_predicted_ltv_12m,
    cast(final.total_predicted_ltv_12m as {{ features_type_double() }}) as total_predicted_ltv_12m,
    cast(final.realised_revenue_to_date as {{ features_type_double() }}) as realised_revenue_to_date
from final
left join paths
    on paths.path = final.path
