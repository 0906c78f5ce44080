-- One row per channel set of a converting journey × channel in it: the channel's Shapley
-- value in that set, as Snowplow's fractribution computes it. The value of a set S of
-- channels, v(S), is the conversion rate of the journeys whose distinct channels are exactly
-- S (int_attribution_journeys; 0 for a set never observed, v(empty) = 0). Channel c of S gets
--   phi_c = sum over T in S \ {c} of |T|! (|S| - |T| - 1)! / |S|! * (v(T + c) - v(T)).
-- shapley_share: phi clipped at 0 (values under 1e-12 count as 0) and normalised to sum 1
-- over S (equal shares when no channel has a positive value). The subsets of S are
-- enumerated as bitmasks over the channels' ranks in S, so a set of k channels costs 2^k
-- rows; sets of more than var('shapley_max_channels') channels get equal shares instead.
{%- set max_channels = var('shapley_max_channels', 10) %}
with journeys as (
    select * from {{ ref('int_attribution_journeys') }}
),

journey_sets as (
    select distinct journey_id, is_converting, channel_set
    from journeys
),

set_values as (
    select
        channel_set,
        cast(sum(case when is_converting then 1 else 0 end) as {{ features_type_double() }})
            / count(*) as conversion_rate
    from journey_sets
    group by channel_set
),

members as (
    select distinct channel_set, channels_count, channel
    from journeys
    where is_converting
),

ranked_members as (
    select
        channel_set,
        channels_count,
        channel,
        row_number() over (partition by channel_set order by channel) - 1 as member_index
    from members
),

converting_sets as (
    select distinct channel_set, channels_count
    from members
),

subset_masks as (
    {{ features_integer_series(2 ** max_channels - 1) }}
),

-- Every subset T of every converting set S small enough to enumerate (mask 0 = empty set).
subsets as (
    select
        converting_sets.channel_set,
        converting_sets.channels_count,
        cast(subset_masks.n as {{ dbt.type_bigint() }}) as subset_mask
    from converting_sets
    inner join subset_masks
        on subset_masks.n < {{ bits_single('converting_sets.channels_count') }}
    where converting_sets.channels_count <= {{ max_channels }}
),

subset_keys as (
    select
        subsets.channel_set,
        subsets.subset_mask,
        {{ dbt.listagg('ranked_members.channel', "' + '", 'order by ranked_members.channel') }} as subset_key,
        count(*) as subset_size
    from subsets
    inner join ranked_members
        on ranked_members.channel_set = subsets.channel_set
        and {{ bits_is_set('subsets.subset_mask', 'ranked_members.member_index') }}
    group by subsets.channel_set, subsets.subset_mask
),

subset_values as (
    select
        subsets.channel_set,
        subsets.channels_count,
        subsets.subset_mask,
        coalesce(subset_keys.subset_size, 0) as subset_size,
        coalesce(set_values.conversion_rate, 0) as subset_value
    from subsets
    left join subset_keys
        on subset_keys.channel_set = subsets.channel_set
        and subset_keys.subset_mask = subsets.subset_mask
    left join set_values
        on set_values.channel_set = subset_keys.subset_key
),

-- The Shapley weight |T|! (|S| - |T| - 1)! / |S|! as 1 / an integer (|S| times the binomial
-- coefficient C(|S| - 1, |T|)), computed at compile time: dividing by an exact integer keeps
-- each term correctly rounded.
shapley_weights as (
    {%- set factorials = [1] %}
    {%- for n in range(1, max_channels + 1) %}{% do factorials.append(factorials[-1] * n) %}{% endfor %}
    {%- for set_size in range(1, max_channels + 1) %}
    {%- for subset_size in range(0, set_size) %}
    select
        {{ set_size }} as set_size,
        {{ subset_size }} as subset_size,
        {{ factorials[set_size] // (factorials[subset_size] * factorials[set_size - subset_size - 1]) }} as weight_denominator
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

-- For every subset T and channel c of S outside T: the weighted gain v(T + c) - v(T).
marginals as (
    select
        without_channel.channel_set,
        ranked_members.channel,
        (with_channel.subset_value - without_channel.subset_value) / shapley_weights.weight_denominator as weighted_gain
    from subset_values as without_channel
    inner join ranked_members
        on ranked_members.channel_set = without_channel.channel_set
        and not {{ bits_is_set('without_channel.subset_mask', 'ranked_members.member_index') }}
    inner join subset_values as with_channel
        on with_channel.channel_set = without_channel.channel_set
        and with_channel.subset_mask = without_channel.subset_mask + {{ bits_single('ranked_members.member_index') }}
    inner join shapley_weights
        on shapley_weights.set_size = without_channel.channels_count
        and shapley_weights.subset_size = without_channel.subset_size
),

shapley as (
    select
        channel_set,
        channel,
        -- Exact: a float sum's last bits would follow the row order.
        cast({{ exact_sum('weighted_gain') }} as {{ features_type_double() }}) as shapley_value
    from marginals
    group by channel_set, channel
),

clipped as (
    select
        ranked_members.channel_set,
        ranked_members.channel,
        ranked_members.channels_count,
        shapley.shapley_value,
        -- Below 1e-12 is rounding noise of a value that is 0 (the sums are exact only to 1e-18
        -- per term): it must not earn a share.
        case when shapley.shapley_value > 1e-12 then shapley.shapley_value else 0 end as positive_value
    from ranked_members
    left join shapley
        on shapley.channel_set = ranked_members.channel_set
        and shapley.channel = ranked_members.channel
),

totals as (
    select
        *,
        cast({{ exact_sum('positive_value') }} over (partition by channel_set) as {{ features_type_double() }}) as positive_total
    from clipped
),

final as (
    select
        totals.channel_set,
        totals.channel,
        totals.channels_count,
        set_values.conversion_rate as set_conversion_rate,
        totals.shapley_value,
        case
            when totals.shapley_value is null then 1.0 / totals.channels_count
            when totals.positive_total > 0 then totals.positive_value / totals.positive_total
            else 1.0 / totals.channels_count
        end as shapley_share,
        case
            when totals.shapley_value is null then 'equal_split_too_many_channels'
            when totals.positive_total > 0 then 'shapley'
            else 'equal_split_no_positive_value'
        end as share_method
    from totals
    inner join set_values
        on set_values.channel_set = totals.channel_set
)

select
    channel_set,
    channel,
    cast(channels_count as {{ dbt.type_bigint() }}) as channels_count,
    cast(set_conversion_rate as {{ features_type_double() }}) as set_conversion_rate,
    cast(shapley_value as {{ features_type_double() }}) as shapley_value,
    cast(shapley_share as {{ features_type_double() }}) as shapley_share,
    share_method
from final
