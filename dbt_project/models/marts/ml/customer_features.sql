{{ config(materialized='table') }}
-- Point-in-time features and labels: one row per known customer × snapshot day, for
-- customers first seen on or before that day. A snapshot on day D sees exactly the data
-- that happened before D + 1 day 00:00 UTC (feature_cutoff_at), i.e. to the end of day D;
-- "last N days" means days D-N+1 … D. Labels look only after the cutoff and are null
-- when their window is not complete in the data (window end > latest data day).
with snapshots as (
    select * from {{ ref('int_features_snapshot_dates') }}
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

daily as (
    select * from {{ ref('int_features_daily_activity') }}
),

subscription_versions as (
    select * from {{ ref('int_subscription_versions') }}
),

subscriptions as (
    select * from {{ ref('int_funnel_subscriptions') }}
),

customer_snapshots as (
    select
        customers.customer_id,
        snapshots.snapshot_date,
        snapshots.feature_cutoff_at,
        customers.segment,
        -- The acquisition touch is only known once it has happened.
        case when customers.acquisition_at < snapshots.feature_cutoff_at then customers.acquisition_channel end
            as acquisition_channel,
        customers.first_seen_at,
        customers.first_purchase_at,
        -- The first paid order, when it happened before the cutoff: the start of the
        -- customer's own baseline for "usage now vs usage when they started".
        case when customers.first_purchase_at < snapshots.feature_cutoff_at
            then cast(customers.first_purchase_at as date)
        end as customer_start_date
    from customers
    inner join snapshots
        on customers.first_seen_at < snapshots.feature_cutoff_at
),

{%- set windows = [7, 14, 30, 90] %}
activity as (
    select
        customer_snapshots.customer_id as activity_customer_id,
        customer_snapshots.snapshot_date as activity_snapshot_date,
        max(case when daily.is_active_day then daily.activity_date end) as last_active_date,
        sum(daily.sessions) as sessions_total,
        sum(daily.paid_revenue) as paid_revenue_to_date,
        sum(daily.paid_orders) as paid_orders_to_date,
        sum(daily.pricing_page_views) as pricing_page_views_to_date,
        sum(daily.demo_requests) as demo_requests_to_date,
        sum(daily.trial_starts) as trial_starts_to_date,
        sum(daily.email_clicks) as email_clicks_to_date,
        sum(daily.email_unsubscribes) as email_unsubscribes_to_date,
        -- Recency per kind of event: rates and ages carry over across calendar time, where
        -- totals to date grow with it.
        max(case when daily.logged_in_events > 0 then daily.activity_date end) as last_login_date,
        max(case when daily.pricing_page_views > 0 then daily.activity_date end) as last_pricing_view_date,
        min(case when daily.demo_requests > 0 then daily.activity_date end) as first_demo_request_date,
        max(case when daily.trial_starts > 0 then daily.activity_date end) as last_trial_start_date,
        max(case when daily.email_unsubscribes > 0 then daily.activity_date end) as last_unsubscribe_date,
        max(case when daily.bad_satisfaction_tickets > 0 then daily.activity_date end)
            as last_bad_satisfaction_date,
        {%- for days in [7, 14] %}
        {%- set in_window = "daily.activity_date > " ~ dbt.dateadd('day', -days, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ in_window }} then daily.logged_in_events else 0 end) as logged_in_events_last_{{ days }}d,
        sum(case when {{ in_window }} then daily.pricing_page_views else 0 end) as pricing_page_views_last_{{ days }}d,
        {%- endfor %}
        {%- set last_14 = "daily.activity_date > " ~ dbt.dateadd('day', -14, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ last_14 }} then daily.bad_satisfaction_tickets else 0 end) as bad_satisfaction_tickets_last_14d,
        -- Ticket sentiment: negative tickets and mean score in the last 30 days vs before.
        {%- set last_30_days = "daily.activity_date > " ~ dbt.dateadd('day', -30, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ last_30_days }} then daily.negative_tickets else 0 end) as negative_tickets_last_30d,
        sum(case when {{ last_30_days }} then daily.scored_tickets else 0 end) as scored_tickets_last_30d,
        sum(case when {{ last_30_days }} then daily.ticket_sentiment_sum else 0 end) as ticket_sentiment_sum_last_30d,
        sum(case when not ({{ last_30_days }}) then daily.scored_tickets else 0 end) as scored_tickets_before_30d,
        sum(case when not ({{ last_30_days }}) then daily.ticket_sentiment_sum else 0 end)
            as ticket_sentiment_sum_before_30d,
        -- Logins in the customer's first 30 days (as far as seen by D) and in the last 30 days
        -- since becoming a customer: both as a rate per day so that they compare.
        {%- set first_30 = "daily.activity_date >= customer_snapshots.customer_start_date and daily.activity_date < "
            ~ dbt.dateadd('day', 30, 'customer_snapshots.customer_start_date') %}
        {%- set recent_30 = "daily.activity_date >= customer_snapshots.customer_start_date and daily.activity_date > "
            ~ dbt.dateadd('day', -30, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ first_30 }} then daily.logged_in_events else 0 end) as logins_first_30d_as_customer,
        sum(case when {{ recent_30 }} then daily.logged_in_events else 0 end) as logins_last_30d_as_customer,
        {%- set recent_14 = "daily.activity_date >= customer_snapshots.customer_start_date and daily.activity_date > "
            ~ dbt.dateadd('day', -14, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ recent_14 }} then daily.logged_in_events else 0 end) as logins_last_14d_as_customer,
        {%- for days in windows %}
        {%- set in_window = "daily.activity_date > " ~ dbt.dateadd('day', -days, 'customer_snapshots.snapshot_date') %}
        sum(case when {{ in_window }} then daily.sessions else 0 end) as sessions_last_{{ days }}d,
        sum(case when {{ in_window }} and daily.is_web_active_day then 1 else 0 end) as active_days_last_{{ days }}d,
        {%- endfor %}
        sum(
            case
                when daily.activity_date > {{ dbt.dateadd('day', -60, 'customer_snapshots.snapshot_date') }}
                    and daily.activity_date <= {{ dbt.dateadd('day', -30, 'customer_snapshots.snapshot_date') }}
                    then daily.sessions
                else 0
            end
        ) as sessions_prev_30d,
        {%- set last_30 = "daily.activity_date > " ~ dbt.dateadd('day', -30, 'customer_snapshots.snapshot_date') %}
        {%- set last_90 = "daily.activity_date > " ~ dbt.dateadd('day', -90, 'customer_snapshots.snapshot_date') %}
        {%- for column in ['logged_in_events', 'feature_used_events', 'report_exported_events',
                           'invite_sent_events', 'dashboard_created_events', 'pricing_page_views',
                           'demo_requests', 'trial_starts'] %}
        sum(case when {{ last_30 }} then daily.{{ column }} else 0 end) as {{ column }}_last_30d,
        {%- endfor %}
        {%- for column in ['email_opens', 'email_clicks', 'email_unsubscribes', 'tickets_opened',
                           'bad_satisfaction_tickets'] %}
        sum(case when {{ last_30 }} then daily.{{ column }} else 0 end) as {{ column }}_last_30d,
        sum(case when {{ last_90 }} then daily.{{ column }} else 0 end) as {{ column }}_last_90d
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from customer_snapshots
    inner join daily
        on daily.customer_id = customer_snapshots.customer_id
        and daily.activity_date <= customer_snapshots.snapshot_date
    group by customer_snapshots.customer_id, customer_snapshots.snapshot_date
),

-- Each subscription as the warehouse knew it on the snapshot day: the export version with
-- known_from <= D < known_until. A later upgrade or cancellation export then does not change
-- earlier snapshots' plan, mrr or is_customer_at_snapshot.
known_subscriptions as (
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        customer_snapshots.feature_cutoff_at,
        subscription_versions.subscription_id,
        subscription_versions.plan,
        subscription_versions.mrr,
        subscription_versions.started_at,
        subscription_versions.canceled_at
    from customer_snapshots
    inner join subscription_versions
        on subscription_versions.customer_id = customer_snapshots.customer_id
        and subscription_versions.known_from <= customer_snapshots.snapshot_date
        and (subscription_versions.known_until is null
            or subscription_versions.known_until > customer_snapshots.snapshot_date)
),

-- What actually happened: the latest export of each subscription (labels only).
latest_subscriptions as (
    select subscription_id, canceled_at
    from subscriptions
),

-- Subscriptions running at the cutoff as known on D: started before the cutoff and not
-- canceled before it according to the version known on D. A cancellation dated before the
-- cutoff but first exported after D (late delivery) is not known on D, so the subscription
-- still counts as running, exactly as it would look when scoring on D. The churn label asks
-- whether one of them is canceled, per its latest export, before the end of the
-- var('churn_label_days')-day window; such a late-delivered cancellation counts as churn
-- (the customer looked active on D and was gone by the window end).
active_subscriptions as (
    select
        known_subscriptions.customer_id,
        known_subscriptions.snapshot_date,
        known_subscriptions.subscription_id,
        known_subscriptions.plan,
        known_subscriptions.mrr,
        known_subscriptions.started_at,
        latest_subscriptions.canceled_at
            < {{ dbt.dateadd('day', var('churn_label_days'), 'known_subscriptions.feature_cutoff_at') }}
            as is_canceled_in_label_window
    from known_subscriptions
    inner join latest_subscriptions
        on latest_subscriptions.subscription_id = known_subscriptions.subscription_id
    where known_subscriptions.started_at < known_subscriptions.feature_cutoff_at
        and (known_subscriptions.canceled_at is null
            or known_subscriptions.canceled_at >= known_subscriptions.feature_cutoff_at)
),

subscription_state as (
    select
        customer_id,
        snapshot_date,
        sum(mrr) as mrr,
        max(case when is_canceled_in_label_window then 1 else 0 end) = 1 as has_cancellation_in_window
    from active_subscriptions
    group by customer_id, snapshot_date
),

latest_plan as (
    select customer_id, snapshot_date, plan
    from (
        select
            customer_id,
            snapshot_date,
            plan,
            row_number() over (
                partition by customer_id, snapshot_date order by started_at desc, subscription_id desc
            ) as plan_rank
        from active_subscriptions
    ) as ranked
    where plan_rank = 1
),

joined as (
    select
        customer_snapshots.customer_id,
        customer_snapshots.snapshot_date,
        customer_snapshots.feature_cutoff_at,
        customer_snapshots.segment,
        customer_snapshots.acquisition_channel,
        {{ dbt.datediff('customer_snapshots.first_seen_at', 'customer_snapshots.snapshot_date', 'day') }}
            as days_since_first_seen,
        {{ dbt.datediff('activity.last_active_date', 'customer_snapshots.snapshot_date', 'day') }} as recency_days,
        activity.*,
        customer_snapshots.customer_start_date,
        case
            when customer_snapshots.first_purchase_at < customer_snapshots.feature_cutoff_at
                then {{ dbt.datediff('customer_snapshots.first_purchase_at', 'customer_snapshots.snapshot_date', 'day') }}
        end as tenure_days,
        coalesce(customer_snapshots.first_purchase_at < customer_snapshots.feature_cutoff_at, false)
            as has_purchased_at_snapshot,
        customer_snapshots.first_purchase_at,
        subscription_state.customer_id is not null as is_customer_at_snapshot,
        latest_plan.plan,
        coalesce(subscription_state.mrr, 0) as mrr,
        subscription_state.has_cancellation_in_window,
        cast({{ dbt.dateadd('day', var('churn_label_days'), 'customer_snapshots.snapshot_date') }} as date)
            as churn_label_window_end,
        cast({{ dbt.dateadd('day', var('purchase_label_days'), 'customer_snapshots.snapshot_date') }} as date)
            as purchase_label_window_end,
        bounds.latest_data_date
    from customer_snapshots
    cross join bounds
    left join activity
        on activity.activity_customer_id = customer_snapshots.customer_id
        and activity.activity_snapshot_date = customer_snapshots.snapshot_date
    left join subscription_state
        on subscription_state.customer_id = customer_snapshots.customer_id
        and subscription_state.snapshot_date = customer_snapshots.snapshot_date
    left join latest_plan
        on latest_plan.customer_id = customer_snapshots.customer_id
        and latest_plan.snapshot_date = customer_snapshots.snapshot_date
),

final as (
    select
        *,
        case
            when not is_customer_at_snapshot then null
            when churn_label_window_end > latest_data_date then null
            else has_cancellation_in_window
        end as churned_within_30d,
        -- Only people who have never bought can "purchase"; a lapsed customer's comeback is
        -- not a first purchase.
        case
            when has_purchased_at_snapshot or is_customer_at_snapshot then null
            when purchase_label_window_end > latest_data_date then null
            else coalesce(
                first_purchase_at < {{ dbt.dateadd('day', var('purchase_label_days'), 'feature_cutoff_at') }},
                false
            )
        end as purchased_within_14d
    from joined
)

select
    {{ dbt.hash(dbt.concat(['customer_id', "'|'", dbt.cast('snapshot_date', dbt.type_string())])) }} as customer_snapshot_id,
    customer_id,
    snapshot_date,
    feature_cutoff_at,
    segment,
    acquisition_channel,
    cast(days_since_first_seen as {{ dbt.type_bigint() }}) as days_since_first_seen,
    cast(recency_days as {{ dbt.type_bigint() }}) as recency_days,
    cast(coalesce(sessions_total, 0) as {{ dbt.type_bigint() }}) as frequency_sessions,
    cast(coalesce(paid_revenue_to_date, 0) as {{ features_type_double() }}) as monetary_paid_revenue,
    cast(coalesce(paid_orders_to_date, 0) as {{ dbt.type_bigint() }}) as paid_orders_to_date,
    {%- for days in windows %}
    cast(coalesce(sessions_last_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as sessions_last_{{ days }}d,
    cast(coalesce(active_days_last_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as active_days_last_{{ days }}d,
    {%- endfor %}
    cast(coalesce(sessions_prev_30d, 0) as {{ dbt.type_bigint() }}) as sessions_prev_30d,
    cast(coalesce(sessions_last_30d, 0) - coalesce(sessions_prev_30d, 0) as {{ dbt.type_bigint() }})
        as sessions_trend_30d,
    cast(coalesce(sessions_last_30d, 0) + 1 as {{ features_type_double() }}) / (coalesce(sessions_prev_30d, 0) + 1)
        as sessions_trend_ratio_30d,
    {%- for column in ['logged_in_events', 'feature_used_events', 'report_exported_events',
                       'invite_sent_events', 'dashboard_created_events'] %}
    cast(coalesce({{ column }}_last_30d, 0) as {{ dbt.type_bigint() }}) as {{ column }}_last_30d,
    {%- endfor %}
    {%- for column in ['pricing_page_views', 'demo_requests', 'trial_starts'] %}
    cast(coalesce({{ column }}_to_date, 0) as {{ dbt.type_bigint() }}) as {{ column }}_to_date,
    cast(coalesce({{ column }}_last_30d, 0) as {{ dbt.type_bigint() }}) as {{ column }}_last_30d,
    {%- endfor %}
    {%- for column in ['email_opens', 'email_clicks', 'email_unsubscribes', 'tickets_opened',
                       'bad_satisfaction_tickets'] %}
    cast(coalesce({{ column }}_last_30d, 0) as {{ dbt.type_bigint() }}) as {{ column }}_last_30d,
    cast(coalesce({{ column }}_last_90d, 0) as {{ dbt.type_bigint() }}) as {{ column }}_last_90d,
    {%- endfor %}
    cast(tenure_days as {{ dbt.type_bigint() }}) as tenure_days,
    {%- for days in [7, 14] %}
    cast(coalesce(logged_in_events_last_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as logged_in_events_last_{{ days }}d,
    cast(coalesce(pricing_page_views_last_{{ days }}d, 0) as {{ dbt.type_bigint() }}) as pricing_page_views_last_{{ days }}d,
    {%- endfor %}
    cast(coalesce(bad_satisfaction_tickets_last_14d, 0) as {{ dbt.type_bigint() }}) as bad_satisfaction_tickets_last_14d,
    cast(coalesce(negative_tickets_last_30d, 0) as {{ dbt.type_bigint() }}) as negative_tickets_last_30d,
    -- Mean sentiment of the tickets opened in the last 30 days minus that of the tickets
    -- opened before (below 0: the customer's tickets read worse than they used to).
    case when scored_tickets_last_30d > 0 and scored_tickets_before_30d > 0
        then cast(ticket_sentiment_sum_last_30d as {{ features_type_double() }}) / scored_tickets_last_30d
            - cast(ticket_sentiment_sum_before_30d as {{ features_type_double() }}) / scored_tickets_before_30d
    end as sentiment_trend,
    cast(coalesce(email_clicks_to_date, 0) as {{ dbt.type_bigint() }}) as email_clicks_to_date,
    coalesce(email_unsubscribes_to_date, 0) > 0 as has_unsubscribed,
    {%- for name, column in [
        ('last_login', 'last_login_date'),
        ('last_pricing_view', 'last_pricing_view_date'),
        ('first_demo_request', 'first_demo_request_date'),
        ('last_trial_start', 'last_trial_start_date'),
        ('last_unsubscribe', 'last_unsubscribe_date'),
        ('last_bad_satisfaction', 'last_bad_satisfaction_date'),
    ] %}
    cast({{ dbt.datediff(column, 'snapshot_date', 'day') }} as {{ dbt.type_bigint() }}) as days_since_{{ name }},
    {%- endfor %}
    {%- set observed_days = "least(30, " ~ dbt.datediff('customer_start_date', 'snapshot_date', 'day') ~ " + 1)" %}
    case when customer_start_date is not null
        then cast(coalesce(logins_first_30d_as_customer, 0) as {{ features_type_double() }}) / {{ observed_days }}
    end as logins_per_day_first_30d_as_customer,
    case when customer_start_date is not null
        then cast(coalesce(logins_last_30d_as_customer, 0) as {{ features_type_double() }}) / {{ observed_days }}
    end as logins_per_day_last_30d_as_customer,
    {%- set observed_days_14 = "least(14, " ~ dbt.datediff('customer_start_date', 'snapshot_date', 'day') ~ " + 1)" %}
    case when customer_start_date is not null
        then cast(coalesce(logins_last_14d_as_customer, 0) as {{ features_type_double() }}) / {{ observed_days_14 }}
    end as logins_per_day_last_14d_as_customer,
    -- Usage now against the customer's own start (1 = unchanged, below 1 = declining). Counts
    -- are scaled to 30 days and smoothed by one login so that zero usage stays finite.
    case when customer_start_date is not null
        then (30.0 * coalesce(logins_last_30d_as_customer, 0) / {{ observed_days }} + 1)
            / (30.0 * coalesce(logins_first_30d_as_customer, 0) / {{ observed_days }} + 1)
    end as login_rate_vs_first_30d,
    is_customer_at_snapshot,
    plan,
    cast(mrr as {{ features_type_double() }}) as mrr,
    churned_within_30d,
    churn_label_window_end,
    purchased_within_14d,
    purchase_label_window_end
from final
