-- One row per known customer: how their journey to a first purchase unfolded (channel mix,
-- channel bigrams, stage timing, engagement), the inputs of the journey segments
-- (ml/segments.py), and the outcomes the segment profiles report (converted, revenue,
-- churned, days_to_convert), which are never clustering inputs.
-- Every journey measure stops at the first paid order (int_segments_journey_touches).
--
-- Channel share columns: the channels below; any other marketing channel (a new seed rule)
-- goes to share_other_channels, so the shares of a customer with touches always sum to 1.
{%- set channels = [
    'direct', 'organic_search', 'paid_search', 'social', 'paid_social', 'email', 'referral',
    'video', 'display', 'affiliates', 'sms',
] %}
-- Bigram columns: consecutive marketing touches (previous channel → channel). A fixed list,
-- so that the columns never depend on the data: the 12 most common transitions of the demo
-- (the same twelve at 1,500 and at 5,000 people) and staying in each acquisition channel.
{%- set bigrams = [
    ('direct', 'direct'), ('email', 'email'), ('organic_search', 'direct'),
    ('direct', 'organic_search'), ('organic_search', 'organic_search'), ('email', 'direct'),
    ('direct', 'email'), ('referral', 'direct'), ('paid_search', 'direct'),
    ('organic_search', 'email'), ('direct', 'referral'), ('email', 'organic_search'),
    ('paid_search', 'paid_search'), ('social', 'social'), ('referral', 'referral'),
] %}

with customers as (
    select * from {{ ref('dim_customers') }}
),

journey_touches as (
    select * from {{ ref('int_segments_journey_touches') }}
),

stage_events as (
    select * from {{ ref('int_funnel_stage_events') }}
),

web_events as (
    select * from {{ ref('int_web_events_sessionized') }}
),

email_events as (
    select * from {{ ref('stg_esp__email_events') }}
),

emails as (
    select identifier as email, customer_id
    from {{ ref('int_customer_identifiers') }}
    where is_known and identifier_type = 'email'
),

bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

-- The end of each customer's journey window: the first paid order, else open-ended.
windows as (
    select customer_id, first_seen_at, first_purchase_at
    from customers
),

touch_mix as (
    select
        customer_id,
        count(*) as marketing_touches,
        count(distinct channel) as distinct_channels,
        -- The path's opening bigram, (start) → channel: the channel the journey entered by.
        min(case when journey_touch_number = 1 then channel end) as entry_channel,
        sum(case when touch_type = 'web_session' then 1 else 0 end) as web_sessions,
        sum(case when touch_type = 'email_open' then 1 else 0 end) as email_opens,
        count(distinct cast(touched_at as date)) as active_days,
        count(distinct {{ dbt.date_trunc('week', 'touched_at') }}) as active_weeks,
        {%- for channel in channels %}
        sum(case when channel = '{{ channel }}' then 1 else 0 end) as touches_{{ channel }},
        {%- endfor %}
        sum(case when channel not in ('{{ channels | join("', '") }}') then 1 else 0 end)
            as touches_other_channels,
        sum(case when previous_channel is not null then 1 else 0 end) as transitions,
        sum(case when previous_channel = channel then 1 else 0 end) as repeat_transitions,
        {%- for from_channel, to_channel in bigrams %}
        sum(case when previous_channel = '{{ from_channel }}' and channel = '{{ to_channel }}' then 1 else 0 end)
            as bigram_{{ from_channel }}__{{ to_channel }}{{ ',' if not loop.last }}
        {%- endfor %}
    from journey_touches
    group by customer_id
),

-- Funnel stages by the customer's own evidence before the first purchase (not back-filled
-- from the purchase, which would leak the outcome into the timing).
stage_times as (
    select
        stage_events.customer_id,
        min(case when stage_events.stage = 'consideration' then stage_events.reached_at end)
            as consideration_at,
        min(case when stage_events.stage = 'evaluation' then stage_events.reached_at end)
            as evaluation_at
    from stage_events
    inner join windows
        on windows.customer_id = stage_events.customer_id
    where windows.first_purchase_at is null or stage_events.reached_at < windows.first_purchase_at
    group by stage_events.customer_id
),

page_views as (
    select
        web_events.customer_id,
        sum(case when web_events.page_path like '/pricing%' then 1 else 0 end) as pricing_views,
        sum(case when web_events.page_path like '/docs%' then 1 else 0 end) as docs_views
    from web_events
    inner join windows
        on windows.customer_id = web_events.customer_id
    where web_events.event_type = 'page'
        and (windows.first_purchase_at is null or web_events.event_at < windows.first_purchase_at)
    group by web_events.customer_id
),

-- Email engagement per campaign: a campaign delivered, opened, clicked (repeat opens of one
-- campaign count once, so rates stay within 0..1).
email_engagement as (
    select
        emails.customer_id,
        count(distinct case when email_events.event_type = 'delivered' then email_events.campaign_id end)
            as campaigns_delivered,
        count(distinct case when email_events.event_type = 'open' then email_events.campaign_id end)
            as campaigns_opened,
        count(distinct case when email_events.event_type = 'click' then email_events.campaign_id end)
            as campaigns_clicked
    from email_events
    inner join emails
        on emails.email = email_events.email
    inner join windows
        on windows.customer_id = emails.customer_id
    where windows.first_purchase_at is null or email_events.occurred_at < windows.first_purchase_at
    group by emails.customer_id
),

final as (
    select
        customers.customer_id,
        bounds.latest_data_date as as_of_date,
        coalesce(touch_mix.marketing_touches, 0) as marketing_touches,
        touch_mix.entry_channel,
        {%- for channel in channels %}
        coalesce(touch_mix.touches_{{ channel }} * 1.0 / touch_mix.marketing_touches, 0)
            as share_{{ channel }},
        {%- endfor %}
        coalesce(touch_mix.touches_other_channels * 1.0 / touch_mix.marketing_touches, 0)
            as share_other_channels,
        coalesce(touch_mix.distinct_channels, 0) as distinct_channels,
        coalesce(touch_mix.repeat_transitions * 1.0 / nullif(touch_mix.transitions, 0), 0)
            as channel_repeat_rate,
        {%- for from_channel, to_channel in bigrams %}
        coalesce(touch_mix.bigram_{{ from_channel }}__{{ to_channel }}, 0)
            as bigram_{{ from_channel }}__{{ to_channel }},
        {%- endfor %}
        {{ features_seconds_between('customers.first_seen_at', 'stage_times.consideration_at') }} / 86400.0
            as days_to_consideration,
        {{ features_seconds_between('customers.first_seen_at', 'stage_times.evaluation_at') }} / 86400.0
            as days_to_evaluation,
        coalesce(touch_mix.web_sessions, 0) as web_sessions,
        coalesce(touch_mix.active_days, 0) as active_days,
        coalesce(touch_mix.active_weeks, 0) as active_weeks,
        coalesce(touch_mix.web_sessions * 1.0 / nullif(touch_mix.active_weeks, 0), 0)
            as sessions_per_active_week,
        coalesce(touch_mix.email_opens, 0) as email_opens,
        coalesce(email_engagement.campaigns_delivered, 0) as email_campaigns_delivered,
        coalesce(
            email_engagement.campaigns_opened * 1.0 / nullif(email_engagement.campaigns_delivered, 0), 0
        ) as email_open_rate,
        coalesce(
            email_engagement.campaigns_clicked * 1.0 / nullif(email_engagement.campaigns_delivered, 0), 0
        ) as email_click_rate,
        coalesce(page_views.pricing_views, 0) as pricing_views,
        coalesce(page_views.docs_views, 0) as docs_views,
        customers.first_purchase_at is not null as converted,
        customers.lifetime_revenue as revenue,
        customers.subscription_status = 'canceled' as churned,
        {{ features_seconds_between('customers.first_seen_at', 'customers.first_purchase_at') }} / 86400.0
            as days_to_convert
    from customers
    cross join bounds
    left join touch_mix
        on touch_mix.customer_id = customers.customer_id
    left join stage_times
        on stage_times.customer_id = customers.customer_id
    left join page_views
        on page_views.customer_id = customers.customer_id
    left join email_engagement
        on email_engagement.customer_id = customers.customer_id
)

select
    customer_id,
    as_of_date,
    cast(marketing_touches as bigint) as marketing_touches,
    entry_channel,
    {%- for channel in channels %}
    cast(share_{{ channel }} as {{ features_type_double() }}) as share_{{ channel }},
    {%- endfor %}
    cast(share_other_channels as {{ features_type_double() }}) as share_other_channels,
    cast(distinct_channels as bigint) as distinct_channels,
    cast(channel_repeat_rate as {{ features_type_double() }}) as channel_repeat_rate,
    {%- for from_channel, to_channel in bigrams %}
    cast(bigram_{{ from_channel }}__{{ to_channel }} as bigint) as bigram_{{ from_channel }}__{{ to_channel }},
    {%- endfor %}
    cast(days_to_consideration as {{ features_type_double() }}) as days_to_consideration,
    cast(days_to_evaluation as {{ features_type_double() }}) as days_to_evaluation,
    cast(web_sessions as bigint) as web_sessions,
    cast(active_days as bigint) as active_days,
    cast(active_weeks as bigint) as active_weeks,
    cast(sessions_per_active_week as {{ features_type_double() }}) as sessions_per_active_week,
    cast(email_opens as bigint) as email_opens,
    cast(email_campaigns_delivered as bigint) as email_campaigns_delivered,
    cast(email_open_rate as {{ features_type_double() }}) as email_open_rate,
    cast(email_click_rate as {{ features_type_double() }}) as email_click_rate,
    cast(pricing_views as bigint) as pricing_views,
    cast(docs_views as bigint) as docs_views,
    converted,
    cast(revenue as decimal(18, 2)) as revenue,
    churned,
    cast(days_to_convert as {{ features_type_double() }}) as days_to_convert
from final
