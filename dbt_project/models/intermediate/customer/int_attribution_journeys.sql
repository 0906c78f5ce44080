-- One row per journey × step: the channel sequences the data-driven attribution models
-- (Markov removal effect, Shapley) learn from, consecutive repeats collapsed.
-- A converting journey is a conversion's touches (int_attribution_touches: same lookback,
-- the synthetic 'direct' touch when there is none) and ends in a conversion. A
-- non-converting journey is a known customer without a conversion: their marketing touches
-- (web sessions, email opens and clicks) in the last var('attribution_lookback_days') days
-- before their latest one. Known customers without any marketing touch have no journey
-- (a start → null path changes neither removal effects nor Shapley values).
with attribution_touches as (
    select * from {{ ref('int_attribution_touches') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

customers as (
    select * from {{ ref('int_funnel_known_customers') }}
),

touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

non_converting_touches as (
    select
        touchpoints.customer_id,
        touchpoints.touchpoint_id,
        touchpoints.touched_at,
        coalesce(touchpoints.channel, 'direct') as channel,
        max(touchpoints.touched_at) over (partition by touchpoints.customer_id) as last_touched_at
    from touchpoints
    inner join customers
        on customers.customer_id = touchpoints.customer_id
    where touchpoints.touch_type in ('web_session', 'email_open', 'email_click')
        and not exists (
            select 1 from conversions where conversions.customer_id = touchpoints.customer_id
        )
),

touches as (
    select
        conversion_id as journey_id,
        customer_id,
        true as is_converting,
        touch_position,
        channel
    from attribution_touches
    union all
    select
        customer_id as journey_id,
        customer_id,
        false as is_converting,
        row_number() over (
            partition by customer_id order by touched_at, touchpoint_id
        ) as touch_position,
        channel
    from non_converting_touches
    where touched_at >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'last_touched_at') }}
),

with_previous as (
    select
        *,
        lag(channel) over (partition by journey_id, is_converting order by touch_position) as previous_channel
    from touches
),

collapsed as (
    select
        journey_id,
        customer_id,
        is_converting,
        channel,
        row_number() over (partition by journey_id, is_converting order by touch_position) as step_number
    from with_previous
    where previous_channel is null or previous_channel <> channel
),

distinct_channels as (
    select distinct journey_id, is_converting, channel
    from collapsed
),

channel_sets as (
    select
        journey_id,
        is_converting,
        {{ dbt.listagg('channel', "' + '", 'order by channel') }} as channel_set,
        count(*) as channels_count
    from distinct_channels
    group by journey_id, is_converting
),

final as (
    select
        collapsed.journey_id,
        collapsed.customer_id,
        collapsed.is_converting,
        collapsed.step_number,
        collapsed.channel,
        count(*) over (partition by collapsed.journey_id, collapsed.is_converting) as steps_count,
        channel_sets.channel_set,
        channel_sets.channels_count
    from collapsed
    inner join channel_sets
        on channel_sets.journey_id = collapsed.journey_id
        and channel_sets.is_converting = collapsed.is_converting
)

select
    journey_id,
    customer_id,
    is_converting,
    cast(step_number as {{ dbt.type_bigint() }}) as step_number,
    channel,
    cast(steps_count as {{ dbt.type_bigint() }}) as steps_count,
    channel_set,
    cast(channels_count as {{ dbt.type_bigint() }}) as channels_count
from final
