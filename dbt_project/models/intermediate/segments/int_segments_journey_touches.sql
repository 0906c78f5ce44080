-- The marketing touches of each known customer's journey up to their first purchase, in time
-- order, with the previous touch's channel (for channel bigrams). A journey segment describes
-- how someone got to a purchase (or has not yet), so everything from the first paid order on
-- is left out: otherwise buyers' app sessions and billing touches would make "converted" the
-- main thing the clusters separate.
-- Marketing touches: web sessions (their channel) and email opens. Email clicks are not
-- counted again (the click's web session is already a touch); support and billing never are.
with touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

stages as (
    select * from {{ ref('int_funnel_stages') }}
),

marketing as (
    select
        touchpoints.customer_id,
        touchpoints.touched_at,
        touchpoints.touch_type,
        touchpoints.channel,
        touchpoints.source_id
    from touchpoints
    left join stages
        on stages.customer_id = touchpoints.customer_id
    where touchpoints.touch_type in ('web_session', 'email_open')
        and touchpoints.channel not in ('support', 'billing')
        and (stages.purchase_at is null or touchpoints.touched_at < stages.purchase_at)
),

final as (
    select
        customer_id,
        touched_at,
        touch_type,
        channel,
        source_id,
        row_number() over (
            partition by customer_id order by touched_at, touch_type, source_id
        ) as journey_touch_number,
        lag(channel) over (
            partition by customer_id order by touched_at, touch_type, source_id
        ) as previous_channel
    from marketing
)

select * from final
