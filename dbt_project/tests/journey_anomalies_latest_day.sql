-- Journey metrics outside their expected range on the days this run alerts on: the days of
-- the run's partition window, or the latest day of a plain `dbt build` (anomaly_alert_days).
-- A warning, not an error: the data loaded fine, the business moved (or tracking broke).
-- Each failing row names the metric, its value and the expected range.
-- store_failures keeps the rows (schema audit) so the Dagster check can show them, not just a count.
{{ config(
    severity='warn',
    store_failures=true,
    schema='audit',
    meta={'dagster': {'ref': {'name': 'agg_journey_anomalies'}}},
) }}
with anomalies as (
    select * from {{ ref('agg_journey_anomalies') }}
)

select
    metric,
    dimension,
    metric_date,
    severity,
    direction,
    metric_value,
    expected_value,
    lower_bound,
    upper_bound,
    anomaly_score,
    {{ dbt.concat([
        'metric', "' ('", 'dimension', "') on '", dbt.cast('metric_date', dbt.type_string()),
        "': '", dbt.cast('round(metric_value, 4)', dbt.type_string()),
        "', expected '", dbt.cast('round(lower_bound, 4)', dbt.type_string()),
        "' to '", dbt.cast('round(upper_bound, 4)', dbt.type_string()),
        "' (score '", dbt.cast('round(anomaly_score, 1)', dbt.type_string()), "')'"
    ]) }} as alert
from anomalies
where is_anomaly
    and {{ anomaly_alert_days('metric_date', ref('agg_journey_anomalies')) }}
