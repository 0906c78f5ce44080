-- The journey's vital signs per UTC day: one row per (metric, dimension, metric_date), every
-- day from the first to the last day with data present (zeros included: a day without
-- purchases is exactly what the anomaly baseline must see). Counts carry their value in
-- `numerator`; shares and ratios carry numerator and denominator; revenue is per currency
-- (amounts are never summed across currencies, as in dim_customers) with the paid orders as
-- denominator, so the average order amount is at hand.
with sessions as (
    select * from {{ ref('fct_sessions') }}
),

funnel as (
    select * from {{ ref('fct_customer_funnel') }}
),

orders as (
    select * from {{ ref('stg_billing__orders') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

-- Raw daily series: (series, dimension, day, amount). A series is a building block; the
-- metrics below are series or ratios of two series.
first_visits as (
    select anonymous_id, min(started_at) as first_started_at
    from sessions
    group by anonymous_id
),

series as (
    select 'sessions' as series, '(all)' as dimension, cast(started_at as date) as day,
        cast(count(*) as {{ dbt.type_numeric() }}) as amount
    from sessions group by cast(started_at as date)
    union all
    select 'channel_sessions', channel, cast(started_at as date), count(*)
    from sessions group by channel, cast(started_at as date)
    union all
    select 'new_visitors', '(all)', cast(first_started_at as date), count(*)
    from first_visits group by cast(first_started_at as date)
    union all
    select 'considerations', '(all)', cast(consideration_at as date), count(*)
    from funnel where consideration_at is not null group by cast(consideration_at as date)
    union all
    select 'evaluations', '(all)', cast(evaluation_at as date), count(*)
    from funnel where evaluation_at is not null group by cast(evaluation_at as date)
    union all
    select 'purchases', '(all)', cast(purchase_at as date), count(*)
    from funnel where purchase_at is not null group by cast(purchase_at as date)
    -- An order that went through (paid, or paid then refunded); failed ones are not orders.
    union all
    select 'orders', '(all)', cast(ordered_at as date), count(*)
    from orders where status in ('paid', 'refunded') group by cast(ordered_at as date)
    -- Payment attempts that failed: the first sign of a broken checkout.
    union all
    select 'failed_orders', '(all)', cast(ordered_at as date), count(*)
    from orders where status = 'failed' group by cast(ordered_at as date)
    union all
    select 'paid_orders', currency, cast(ordered_at as date), count(*)
    from orders where status = 'paid' and currency is not null
    group by currency, cast(ordered_at as date)
    -- Net revenue, as lifetime_revenue in dim_customers: orders still paid.
    union all
    select 'revenue', currency, cast(ordered_at as date), sum(amount)
    from orders where status = 'paid' and currency is not null
    group by currency, cast(ordered_at as date)
    union all
    select 'emails_delivered', '(all)', cast(occurred_at as date), count(*)
    from email_events where event_type = 'delivered' group by cast(occurred_at as date)
    union all
    select 'email_clicks', '(all)', cast(occurred_at as date), count(*)
    from email_events where event_type = 'click' group by cast(occurred_at as date)
    union all
    select 'tickets', '(all)', cast(created_at as date), count(*)
    from tickets group by cast(created_at as date)
),

bounds as (
    select min(day) as first_day, max(day) as last_day
    from series
    where day is not null
),

spine as (
    {{ date_spine('select first_day from bounds', 'select last_day from bounds') }}
),

series_keys as (
    select distinct series, dimension from series where day is not null
),

-- Every series on every day, zero where nothing happened.
filled as (
    select
        series_keys.series,
        series_keys.dimension,
        spine.date_day as day,
        coalesce(series.amount, 0) as amount
    from series_keys
    cross join spine
    left join series
        on series.series = series_keys.series
        and series.dimension = series_keys.dimension
        and series.day = spine.date_day
),

-- metric, dimension, kind, numerator series, denominator series (null for plain counts).
definitions as (
    select 'sessions' as metric, 'count' as metric_kind, 'sessions' as numerator_series,
        cast(null as {{ dbt.type_string() }}) as denominator_series, false as per_total
    union all select 'new_visitors', 'count', 'new_visitors', null, false
    union all select 'channel_sessions', 'count', 'channel_sessions', null, false
    union all select 'channel_share', 'share', 'channel_sessions', 'sessions', true
    union all select 'consideration_to_evaluation', 'ratio', 'evaluations', 'considerations', false
    union all select 'evaluation_to_purchase', 'ratio', 'purchases', 'evaluations', false
    union all select 'orders', 'count', 'orders', null, false
    union all select 'failed_orders', 'count', 'failed_orders', null, false
    union all select 'revenue', 'amount', 'revenue', 'paid_orders', false
    union all select 'email_click_rate', 'share', 'email_clicks', 'emails_delivered', false
    union all select 'tickets', 'count', 'tickets', null, false
),

metrics as (
    select
        definitions.metric,
        numerators.dimension,
        definitions.metric_kind,
        numerators.day as metric_date,
        numerators.amount as numerator,
        denominators.amount as denominator
    from definitions
    inner join filled as numerators
        on numerators.series = definitions.numerator_series
    -- A share of the total (channel_share) divides by the '(all)' series; a ratio divides by
    -- the same dimension of its denominator series (revenue per currency / paid orders).
    left join filled as denominators
        on denominators.series = definitions.denominator_series
        and denominators.day = numerators.day
        and denominators.dimension = case
            when definitions.per_total then '(all)' else numerators.dimension
        end
),

final as (
    select
        metric,
        dimension,
        metric_kind,
        metric_date,
        case
            when metric_kind = 'count' then numerator
            when metric_kind = 'amount' then numerator
            else numerator / nullif(denominator, 0)
        end as metric_value,
        numerator,
        denominator
    from metrics
)

select
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(metric_kind as {{ dbt.type_string() }}) as metric_kind,
    cast(metric_date as date) as metric_date,
    cast(metric_value as {{ features_type_double() }}) as metric_value,
    cast(numerator as {{ features_type_double() }}) as numerator,
    cast(denominator as {{ features_type_double() }}) as denominator
from final
