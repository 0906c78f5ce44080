-- Funnel by cohort (first-seen day) × segment × acquisition channel: people reaching each
-- stage, conversion from the previous stage, drop-off and median hours between stages.
-- Missing segment/channel are grouped as '(unknown)' / '(none)' so every customer of
-- fct_customer_funnel lands in exactly one row.
with funnel as (
    select * from {{ ref('fct_customer_funnel') }}
),

grouped as (
    select
        cohort_date,
        coalesce(segment, '(unknown)') as segment,
        coalesce(acquisition_channel, '(none)') as acquisition_channel,
        count(awareness_at) as awareness_customers,
        count(consideration_at) as consideration_customers,
        count(evaluation_at) as evaluation_customers,
        count(purchase_at) as purchase_customers,
        count(retention_at) as retention_customers,
        {{ funnel_median('days_awareness_to_consideration * 24') }} as median_hours_awareness_to_consideration,
        {{ funnel_median('days_consideration_to_evaluation * 24') }} as median_hours_consideration_to_evaluation,
        {{ funnel_median('days_evaluation_to_purchase * 24') }} as median_hours_evaluation_to_purchase,
        {{ funnel_median('days_purchase_to_retention * 24') }} as median_hours_purchase_to_retention
    from funnel
    group by cohort_date, coalesce(segment, '(unknown)'), coalesce(acquisition_channel, '(none)')
),

final as (
    select
        *,
        cast(consideration_customers as {{ features_type_double() }}) / nullif(awareness_customers, 0)
            as awareness_to_consideration_rate,
        cast(evaluation_customers as {{ features_type_double() }}) / nullif(consideration_customers, 0)
            as consideration_to_evaluation_rate,
        cast(purchase_customers as {{ features_type_double() }}) / nullif(evaluation_customers, 0)
            as evaluation_to_purchase_rate,
        cast(retention_customers as {{ features_type_double() }}) / nullif(purchase_customers, 0)
            as purchase_to_retention_rate,
        awareness_customers - consideration_customers as dropped_after_awareness,
        consideration_customers - evaluation_customers as dropped_after_consideration,
        evaluation_customers - purchase_customers as dropped_after_evaluation,
        purchase_customers - retention_customers as dropped_after_purchase
    from grouped
)

select
    cohort_date,
    segment,
    acquisition_channel,
    awareness_customers,
    consideration_customers,
    evaluation_customers,
    purchase_customers,
    retention_customers,
    awareness_to_consideration_rate,
    consideration_to_evaluation_rate,
    evaluation_to_purchase_rate,
    purchase_to_retention_rate,
    dropped_after_awareness,
    dropped_after_consideration,
    dropped_after_evaluation,
    dropped_after_purchase,
    cast(median_hours_awareness_to_consideration as {{ features_type_double() }}) as median_hours_awareness_to_consideration,
    cast(median_hours_consideration_to_evaluation as {{ features_type_double() }}) as median_hours_consideration_to_evaluation,
    cast(median_hours_evaluation_to_purchase as {{ features_type_double() }}) as median_hours_evaluation_to_purchase,
    cast(median_hours_purchase_to_retention as {{ features_type_double() }}) as median_hours_purchase_to_retention
from final
