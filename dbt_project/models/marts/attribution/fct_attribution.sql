-- One row per conversion × touch × attribution model with the share of the conversion
-- (credit, summing to 1 per conversion and model) and of its revenue given to the touch.
with touches as (
    select * from {{ ref('int_attribution_touches') }}
),

weighted as (
    select
        *,
        max(case when channel <> 'direct' then touch_position end)
            over (partition by conversion_id) as last_non_direct_position,
        -- Half-life decay: a touch half_life days older than another gets half its weight.
        power(2.0, -1.0 * age_days / {{ var('time_decay_half_life_days') }}) as decay_weight
    from touches
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
        end as position_based_credit
    from weighted
),

unpivoted as (
    {% set models = ['first_touch', 'last_touch', 'last_non_direct', 'linear', 'time_decay', 'position_based'] %}
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
