-- Each known customer's channel path: the sequence of marketing-touch channels (web
-- sessions, email opens and clicks) with consecutive repeats collapsed, keeping the last
-- var('paths_max_touches') steps. A converting customer's path ends at the conversion
-- (touches after it are ignored); a non-converting customer's path is every touch so far.
-- Customers without any marketing touch have the path '(none)'. agg_paths counts these
-- paths; agg_ltv_by_channel_path values them.
with customers as (
    select * from {{ ref('int_funnel_known_customers') }}
),

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

conversions as (
    select * from {{ ref('int_attribution_conversions') }}
),

eligible_touches as (
    select
        touchpoints.customer_id,
        touchpoints.touchpoint_id,
        touchpoints.touched_at,
        coalesce(touchpoints.channel, 'direct') as channel
    from touchpoints
    left join conversions
        on conversions.customer_id = touchpoints.customer_id
    where touchpoints.touch_type in ('web_session', 'email_open', 'email_click')
        and (conversions.converted_at is null or touchpoints.touched_at <= conversions.converted_at)
),

with_previous as (
    select
        *,
        lag(channel) over (partition by customer_id order by touched_at, touchpoint_id) as previous_channel
    from eligible_touches
),

collapsed as (
    select
        customer_id,
        touched_at,
        touchpoint_id,
        channel,
        row_number() over (
            partition by customer_id order by touched_at desc, touchpoint_id desc
        ) as steps_from_end
    from with_previous
    where previous_channel is null or previous_channel <> channel
),

paths as (
    select
        customer_id,
        {{ dbt.listagg('channel', "' > '", 'order by touched_at, touchpoint_id') }} as path,
        count(*) as path_length
    from collapsed
    where steps_from_end <= {{ var('paths_max_touches') }}
    group by customer_id
),

final as (
    select
        customers.customer_id,
        coalesce(paths.path, '(none)') as path,
        coalesce(paths.path_length, 0) as path_length,
        conversions.conversion_id is not null as is_converting
    from customers
    left join paths
        on paths.customer_id = customers.customer_id
    left join conversions
        on conversions.customer_id = customers.customer_id
)

select
    customer_id,
    path,
    cast(path_length as {{ dbt.type_bigint() }}) as path_length,
    is_converting
from final
