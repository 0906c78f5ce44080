-- Labels exist only for the population they describe and only when their window lies
-- within the data; feature rows never precede the customer's first sighting.
with features as (
    select * from {{ ref('customer_features') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
)

select features.customer_id, features.snapshot_date
from features
cross join bounds
where (features.churned_within_30d is not null
        and (not features.is_customer_at_snapshot or features.churn_label_window_end > bounds.latest_data_date))
    or (features.purchased_within_14d is not null
        and (features.is_customer_at_snapshot or features.purchase_label_window_end > bounds.latest_data_date))
    or (features.is_customer_at_snapshot and features.churn_label_window_end <= bounds.latest_data_date
        and features.churned_within_30d is null)
