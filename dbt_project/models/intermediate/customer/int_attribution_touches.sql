-- The marketing touches that can take credit for each conversion: the customer's web
-- sessions, email opens and email clicks at or before the conversion and at most
-- var('attribution_lookback_days') days before it. Billing and support touches are not
-- marketing (an order cannot cause itself; a ticket is not an acquisition channel).
-- A conversion without any touch in the window gets one synthetic 'direct' / '(none)'
-- touch at the conversion time so every conversion hands out exactly one unit of credit.
with conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

in_window as (
    select
        conversions.conversion_id,
        conversions.customer_id,
        conversions.converted_at,
        conversions.revenue,
        touchpoints.touchpoint_id,
        touchpoints.touched_at,
        touchpoints.touch_type,
        coalesce(touchpoints.channel, 'direct') as channel,
        coalesce(touchpoints.campaign, '(none)') as campaign,
        false as is_synthetic
    from conversions
    inner join touchpoints
        on touchpoints.customer_id = conversions.customer_id
        and touchpoints.touch_type in ('web_session', 'email_open', 'email_click')
        and touchpoints.touched_at <= conversions.converted_at
        and touchpoints.touched_at >= {{ dbt.dateadd('day', -1 * var('attribution_lookback_days'), 'conversions.converted_at') }}
),

synthetic as (
    select
        conversions.conversion_id,
        conversions.customer_id,
        conversions.converted_at,
        conversions.revenue,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        conversions.converted_at as touched_at,
        'synthetic_direct' as touch_type,
        'direct' as channel,
        '(none)' as campaign,
        true as is_synthetic
    from conversions
    where not exists (
        select 1 from in_window where in_window.conversion_id = conversions.conversion_id
    )
),

unioned as (
    select * from in_window
    union all
    select * from synthetic
),

final as (
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
        row_number() over (
            partition by conversion_id order by touched_at, touchpoint_id
        ) as touch_position,
        count(*) over (partition by conversion_id) as touches_count,
        {{ features_seconds_between('touched_at', 'converted_at') }} / 86400.0 as age_days
    from unioned
)

select * from final
