-- Conversions and revenue credited per channel, campaign and attribution model. Within a
-- model the credited conversions over all channels add up to the number of conversions.
with attribution as (
    select * from {{ ref('fct_attribution') }}
),

final as (
    select
        channel,
        campaign,
        attribution_model,
        -- Exact sums: a float sum's last bits follow row order, which changes every build.
        {{ exact_sum('credit') }} as conversions_credited,
        {{ exact_sum('revenue_credited') }} as revenue_credited,
        count(distinct case when credit > 0 then conversion_id end) as conversions_touched,
        count(case when credit > 0 then 1 end) as touches_credited
    from attribution
    group by channel, campaign, attribution_model
)

select
    channel,
    campaign,
    attribution_model,
    cast(conversions_credited as {{ features_type_double() }}) as conversions_credited,
    cast(revenue_credited as {{ features_type_double() }}) as revenue_credited,
    conversions_touched,
    touches_credited
from final
