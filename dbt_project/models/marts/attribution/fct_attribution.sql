-- One row per conversion × touch × attribution model with the share of the conversion
-- (credit, summing to 1 per conversion and model) and of its revenue given to the touch.
-- The data-driven models (markov, shapley) give each channel of the path a share and split
-- it equally over that channel's touches.
with touches as (
    select * from {{ ref('int_attribution_touches') }}
),

journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

removal_effects as (
    select * from {{ ref('int_attribution_removal_effects') }}
),

shapley_values as (
    select * from {{ ref('int_attribution_shapley_values') }}
),

conversion_channel_sets as (
    select distinct journey_id as conversion_id, channel_set
    from journeys
    where is_converting
),

channel_touches as (
    select conversion_id, channel, count(*) as channel_touches
    from touches
    group by conversion_id, channel
),

-- One row per conversion × channel on its path, with the channel's data-driven shares.
conversion_channels as (
    select
        channel_touches.conversion_id,
        channel_touches.channel,
        channel_touches.channel_touches,
        coalesce(removal_effects.removal_effect, 0) as removal_effect,
        coalesce(shapley_values.shapley_share, 0) as shapley_share
    from channel_touches
    inner join conversion_channel_sets
        on conversion_channel_sets.conversion_id = channel_touches.conversion_id
    left join removal_effects
        on removal_effects.channel = channel_touches.channel
    left join shapley_values
        on shapley_values.channel_set = conversion_channel_sets.channel_set
        and shapley_values.channel = channel_touches.channel
),

path_removal_effects as (
    select
        *,
        cast(
            {{ exact_sum('removal_effect') }} over (partition by conversion_id) as {{ features_type_double() }}
        ) as path_removal_effect
    from conversion_channels
),

weighted as (
    select
        touches.*,
        path_removal_effects.removal_effect,
        path_removal_effects.path_removal_effect,
        path_removal_effects.shapley_share,
        path_removal_effects.channel_touches,
        max(case when touches.channel <> 'direct' then touches.touch_position end)
            over (partition by touches.conversion_id) as last_non_direct_position,
        -- Half-life decay: a touch half_life days older than another gets half its weight.
        power(2.0, -1.0 * touches.age_days / {{ var('time_decay_half_life_days') }}) as decay_weight
    from touches
    inner join path_removal_effects
        on path_removal_effects.conversion_id = touches.conversion_id
        and path_removal_effects.channel = touches.channel
),

credits as (
    select
        *,
        case when touch_position = 1 then 1.0 else 0.0 end as first_touch_credit,
        case when touch_position = touches_count then 1.0 else 0.0 end as last_touch_credit,
        case
            when touch_position = coalesce(last_non_direct_position, touches_count) then 1.0
            else 0.0
        end as last_non_direct_credit,
        1.0 / touches_count as linear_credit,
        -- The weights' total as an exact sum: a float sum over the partition would depend on
        -- the order DuckDB happens to read the touches in.
        decay_weight / cast(
            {{ exact_sum('decay_weight') }} over (partition by conversion_id) as {{ features_type_double() }}
        ) as time_decay_credit,
        -- 40/20/40: first and last get 0.4 each, the middle touches share 0.2.
        case
            when touches_count = 1 then 1.0
            when touches_count = 2 then 0.5
            when touch_position = 1 or touch_position = touches_count then 0.4
            else 0.2 / (touches_count - 2)
        end as position_based_credit,
        -- Removal effect of the touch's channel over the sum of the path's distinct channels';
        -- a path whose channels all have a removal effect of 0 falls back to linear.
        case
            when path_removal_effect > 0 then removal_effect / path_removal_effect / channel_touches
            else 1.0 / touches_count
        end as markov_credit,
        shapley_share / channel_touches as shapley_credit
    from weighted
),

unpivoted as (
    {% set models = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based', 'markov', 'shapley'] %}
    {% for model in models %}
    select
        conversion_id,
        customer_id,
        converted_at,
        revenue,
        touchpoint_id,
        touched_at,
        touch_type,
        channel,
        campaign,
        is_synthetic,
        touch_position,
        touches_count,
        age_days,
        '{{ model }}' as attribution_model,
        {{ model }}_credit as credit
    from credits
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            'conversion_id', "'|'", dbt.cast('touch_position', dbt.type_string()), "'|'", 'attribution_model'
        ])) }} as attribution_id,
        conversion_id,
        customer_id,
        converted_at,
        attribution_model,
        touchpoint_id,
        touched_at,
        touch_type,
        channel,
        campaign,
        is_synthetic,
        touch_position,
        touches_count,
        cast(age_days as {{ features_type_double() }}) as touch_age_days,
        cast(credit as {{ features_type_double() }}) as credit,
        cast(credit * revenue as {{ features_type_double() }}) as revenue_credited
    from unpivoted
)

select * from final
