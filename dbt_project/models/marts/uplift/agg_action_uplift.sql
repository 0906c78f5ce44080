-- Built after scoring (tag after_scores: its own dbt invocation in Dagster), so it reads
-- this run's scores.
{{ config(tags=['after_scores']) }}
-- Did acting on the scores work? Per next best action and month of the score day: the
-- outcome of the customers who got the action (treated) against those held out of it
-- (ml/actions.py apply_holdouts), and the difference with a 95 % two-proportion Wald
-- interval: uplift -/+ 1.96 * sqrt(t (1 - t) / n_t + h (1 - h) / n_h).
-- Outcome (windows as customer_features' labels, from the end of the score day):
--   churn population (a churn score): retained_30d = a subscription started before the
--     cutoff still runs var('churn_label_days') days later;
--   leads (a propensity score): purchased_14d = first paid order within var('purchase_label_days').
-- One exposure per customer, action and month (the first score day in the month the rules
-- chose the action): daily scoring repeats the same customers, and counting customer-days
-- would overstate the sample. Outcomes whose window is not complete in the data are unknown
-- and left out of the rates; outcome_complete_share says how much of the month is known.
-- Scored customers no longer in dim_customers are left out (no outcome can be observed).
with scores as (
    select * from {{ source('scores', 'customer_scores') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

scored as (
    select
        customer_id,
        score_date,
        -- Rows written before holdouts existed: the recorded action was the intended one.
        coalesce(intended_action, next_best_action) as intended_action,
        coalesce(is_holdout, false) as is_holdout,
        case
            when churn_probability is not null then 'retained_30d'
            when purchase_propensity is not null then 'purchased_14d'
        end as outcome
    from scores
),

ranked as (
    select
        scored.*,
        cast({{ dbt.date_trunc('month', 'score_date') }} as date) as score_month,
        row_number() over (
            partition by customer_id, intended_action, {{ dbt.date_trunc('month', 'score_date') }}
            order by score_date
        ) as exposure_number
    from scored
    where outcome is not null
),

exposures as (
    select
        ranked.customer_id,
        ranked.score_date,
        ranked.score_month,
        ranked.intended_action,
        ranked.is_holdout,
        ranked.outcome,
        {{ dbt.dateadd('day', 1, 'ranked.score_date') }} as cutoff_at,
        cast(case
            when ranked.outcome = 'retained_30d'
                then {{ dbt.dateadd('day', var('churn_label_days'), 'ranked.score_date') }}
            else {{ dbt.dateadd('day', var('purchase_label_days'), 'ranked.score_date') }}
        end as date) as outcome_window_end,
        bounds.latest_data_date,
        customers.first_purchase_at
    from ranked
    cross join bounds
    -- A scored customer_id no longer known (identity resolution merged it into another
    -- customer with later data, or the person was erased) has no observable outcome.
    inner join customers
        on customers.customer_id = ranked.customer_id
    where ranked.exposure_number = 1
),

retained as (
    select distinct exposures.customer_id, exposures.score_date
    from exposures
    inner join subscriptions
        on subscriptions.customer_id = exposures.customer_id
        and subscriptions.started_at < exposures.cutoff_at
        and (subscriptions.canceled_at is null
            or subscriptions.canceled_at >= {{ dbt.dateadd('day', var('churn_label_days'), 'exposures.cutoff_at') }})
    where exposures.outcome = 'retained_30d'
),

outcomes as (
    select
        exposures.*,
        exposures.outcome_window_end <= exposures.latest_data_date as is_outcome_known,
        case
            when exposures.outcome_window_end > exposures.latest_data_date then null
            when exposures.outcome = 'retained_30d' then retained.customer_id is not null
            else coalesce(
                exposures.first_purchase_at
                    < {{ dbt.dateadd('day', var('purchase_label_days'), 'exposures.cutoff_at') }},
                false
            )
        end as has_outcome
    from exposures
    left join retained
        on retained.customer_id = exposures.customer_id
        and retained.score_date = exposures.score_date
),

counts as (
    select
        score_month,
        intended_action,
        outcome,
        count(case when not is_holdout then 1 end) as treated_customers,
        count(case when is_holdout then 1 end) as holdout_customers,
        count(case when not is_holdout and is_outcome_known then 1 end) as treated_known,
        count(case when is_holdout and is_outcome_known then 1 end) as holdout_known,
        count(case when not is_holdout and has_outcome then 1 end) as treated_successes,
        count(case when is_holdout and has_outcome then 1 end) as holdout_successes
    from outcomes
    group by score_month, intended_action, outcome
),

rates as (
    select
        counts.*,
        cast(treated_successes as {{ features_type_double() }}) / nullif(treated_known, 0)
            as treated_rate,
        cast(holdout_successes as {{ features_type_double() }}) / nullif(holdout_known, 0)
            as holdout_rate,
        cast(treated_known + holdout_known as {{ features_type_double() }})
            / (treated_customers + holdout_customers) as outcome_complete_share
    from counts
),

intervals as (
    select
        rates.*,
        treated_rate - holdout_rate as uplift,
        {{ wald_difference_margin('treated_rate', 'treated_known', 'holdout_rate', 'holdout_known') }}
            as uplift_margin
    from rates
),

final as (
    select
        score_month,
        intended_action,
        outcome,
        treated_customers,
        holdout_customers,
        treated_known,
        holdout_known,
        treated_successes,
        holdout_successes,
        treated_rate,
        holdout_rate,
        uplift,
        uplift - uplift_margin as uplift_ci_lower,
        uplift + uplift_margin as uplift_ci_upper,
        outcome_complete_share,
        outcome_complete_share = 1 as is_complete
    from intervals
)

select * from final
