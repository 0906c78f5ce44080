-- One row per touch of a known customer across web, email, support and billing.
with touchpoints as (
    select * from {{ ref('int_touchpoints') }}
)

select
    touchpoint_id,
    customer_id,
    touched_at,
    touch_type,
    channel,
    is_marketing,
    campaign,
    -- A ticket subject is typed by the customer: contact details never reach the mart.
    {{ redact_contact_details('detail') }} as detail,
    source_id,
    cast(revenue as decimal(12, 2)) as revenue,
    cast(touch_number as bigint) as touch_number,
    previous_touch_type,
    previous_channel,
    cast(seconds_since_previous as bigint) as seconds_since_previous
from touchpoints
