-- Anomaly score of every daily journey metric: the value against a seasonal, robust baseline.
-- A business that grows (or shrinks) makes a plain same-weekday median lag by weeks, so the
-- baseline is level + weekday effect: level = median of the previous `anomaly_level_days`
-- days, residual = value - level; expected = today's level + the median residual of the same
-- weekday in the previous `anomaly_baseline_weeks` weeks (the day itself excluded); spread =
-- 1.4826 x their median absolute deviation (the normal-consistent MAD), floored by the noise a
-- metric of that size has anyway (a count's Poisson sqrt(expected), a share's binomial
-- standard error, ...) so that a flat history of small counts does not turn every wobble
-- into an alert. score = (value - expected) / scale; |score| >= anomaly_warn_k is a warning,
-- >= anomaly_critical_k critical. A day with fewer than anomaly_min_history_weeks comparable
-- days is not scored. anomaly_level_days = 0 turns the level off (plain weekday median).
{%- set weeks = var('anomaly_baseline_weeks') | int %}
{%- set level_days = var('anomaly_level_days') | int %}
{%- set lags = [] %}
{%- for w in range(1, weeks + 1) %}{% do lags.append(7 * w) %}{% endfor %}
with metrics as (
    select * from {{ ref('int_journey_daily_metrics') }}
),

{% if level_days > 0 -%}
levels as (
    select
        current_day.metric,
        current_day.dimension,
        current_day.metric_date,
        {{ funnel_median('previous.metric_value') }} as level_value
    from metrics as current_day
    inner join metrics as previous
        on previous.metric = current_day.metric
        and previous.dimension = current_day.dimension
        and {{ dbt.datediff('previous.metric_date', 'current_day.metric_date', 'day') }}
            between 1 and {{ level_days }}
    group by current_day.metric, current_day.dimension, current_day.metric_date
    -- A level needs the whole window (the first days of the data have none).
    having count(*) = {{ level_days }}
),
{%- endif %}

leveled as (
    select
        metrics.*,
        {%- if level_days > 0 %}
        levels.level_value,
        {%- else %}
        cast(0 as {{ features_type_double() }}) as level_value,
        {%- endif %}
        metrics.metric_value - {{ 'levels.level_value' if level_days > 0 else '0' }} as residual
    from metrics
    {%- if level_days > 0 %}
    left join levels
        on levels.metric = metrics.metric
        and levels.dimension = metrics.dimension
        and levels.metric_date = metrics.metric_date
    {%- endif %}
),

history as (
    select
        current_day.metric,
        current_day.dimension,
        current_day.metric_date,
        past.residual as past_residual,
        past.numerator / nullif(past.denominator, 0) as past_unit_value
    from leveled as current_day
    inner join leveled as past
        on past.metric = current_day.metric
        and past.dimension = current_day.dimension
        and {{ dbt.datediff('past.metric_date', 'current_day.metric_date', 'day') }}
            in ({{ lags | join(', ') }})
    where past.residual is not null
),

baseline as (
    select
        metric,
        dimension,
        metric_date,
        count(*) as history_days,
        {{ funnel_median('past_residual') }} as expected_residual,
        {{ funnel_median('past_unit_value') }} as expected_unit_value,
        max(past_unit_value) as high_unit_value
    from history
    group by metric, dimension, metric_date
),

deviations as (
    select
        history.metric,
        history.dimension,
        history.metric_date,
        {{ funnel_median('abs(history.past_residual - baseline.expected_residual)') }} as mad
    from history
    inner join baseline
        on baseline.metric = history.metric
        and baseline.dimension = history.dimension
        and baseline.metric_date = history.metric_date
    group by history.metric, history.dimension, history.metric_date
),

expected as (
    select
        leveled.metric,
        leveled.dimension,
        leveled.metric_kind,
        leveled.metric_date,
        leveled.metric_value,
        leveled.numerator,
        leveled.denominator,
        coalesce(baseline.history_days, 0) as history_days,
        -- Every metric is non-negative; a share is at most 1. (greatest/least skip nulls on
        -- some engines: no baseline must stay null.)
        case
            when leveled.level_value is null or baseline.expected_residual is null then null
            when leveled.metric_kind = 'share'
                then least(greatest(leveled.level_value + baseline.expected_residual, 0), 1)
            else greatest(leveled.level_value + baseline.expected_residual, 0)
        end as expected_value,
        coalesce(
            baseline.expected_unit_value,
            leveled.numerator / nullif(leveled.denominator, 0),
            1.0
        ) as expected_unit_value,
        coalesce(
            baseline.high_unit_value,
            leveled.numerator / nullif(leveled.denominator, 0),
            1.0
        ) as high_unit_value,
        1.4826 * deviations.mad as mad_scale
    from leveled
    left join baseline
        on baseline.metric = leveled.metric
        and baseline.dimension = leveled.dimension
        and baseline.metric_date = leveled.metric_date
    left join deviations
        on deviations.metric = leveled.metric
        and deviations.dimension = leveled.dimension
        and deviations.metric_date = leveled.metric_date
),

scaled as (
    select
        metrics.metric,
        metrics.dimension,
        metrics.metric_kind,
        metrics.metric_date,
        metrics.metric_value,
        metrics.numerator,
        metrics.denominator,
        metrics.history_days,
        metrics.expected_value,
        metrics.mad_scale,
        -- The noise floor per kind; d = today's denominator (at least 1).
        case metrics.metric_kind
            when 'count' then sqrt(greatest(metrics.expected_value, 1.0))
            when 'share' then sqrt(
                ((metrics.expected_value * greatest(metrics.denominator, 1) + 1) / (greatest(metrics.denominator, 1) + 2))
                * (1 - (metrics.expected_value * greatest(metrics.denominator, 1) + 1) / (greatest(metrics.denominator, 1) + 2))
                / greatest(metrics.denominator, 1)
            )
            when 'ratio' then sqrt(
                (metrics.expected_value + 1.0 / greatest(metrics.denominator, 1))
                * (1 + metrics.expected_value) / greatest(metrics.denominator, 1)
            )
            -- Revenue: a compound Poisson sum of orders of different amounts, spread
            -- sqrt(orders x E[amount^2]); bounded with the highest daily average amount of
            -- the comparable days or today, and at least one such order's worth (one big
            -- order is no incident).
            when 'amount' then greatest(
                metrics.high_unit_value,
                coalesce(metrics.numerator / nullif(metrics.denominator, 0), 0)
            ) * sqrt(greatest(
                metrics.expected_value / greatest(metrics.expected_unit_value, 1e-9), 1.0
            ))
        end as floor_scale
    from expected as metrics
),

scored as (
    select
        *,
        greatest(
            mad_scale,
            floor_scale,
            {{ var('anomaly_min_relative_scale') }} * abs(expected_value),
            1e-9
        ) as baseline_scale,
        history_days >= {{ var('anomaly_min_history_weeks') }}
            and metric_value is not null
            and expected_value is not null as is_scored
    from scaled
),

final as (
    select
        *,
        case when is_scored then (metric_value - expected_value) / baseline_scale end as anomaly_score
    from scored
)

select
    cast(metric as {{ dbt.type_string() }}) as metric,
    cast(dimension as {{ dbt.type_string() }}) as dimension,
    cast(metric_kind as {{ dbt.type_string() }}) as metric_kind,
    metric_date,
    metric_value,
    numerator,
    denominator,
    cast(history_days as integer) as history_days,
    cast(expected_value as {{ features_type_double() }}) as expected_value,
    cast(case when expected_value is not null then greatest(expected_value - {{ var('anomaly_warn_k') }} * baseline_scale, 0) end
        as {{ features_type_double() }}) as lower_bound,
    cast(case
        when expected_value is null then null
        when metric_kind = 'share' then least(expected_value + {{ var('anomaly_warn_k') }} * baseline_scale, 1)
        else expected_value + {{ var('anomaly_warn_k') }} * baseline_scale
    end as {{ features_type_double() }}) as upper_bound,
    cast(case when expected_value is not null then baseline_scale end as {{ features_type_double() }}) as baseline_scale,
    cast(anomaly_score as {{ features_type_double() }}) as anomaly_score,
    cast(case
        when not is_scored then 'not_scored'
        when abs(anomaly_score) >= {{ var('anomaly_critical_k') }} then 'critical'
        when abs(anomaly_score) >= {{ var('anomaly_warn_k') }} then 'warn'
        else 'normal'
    end as {{ dbt.type_string() }}) as severity,
    cast(case
        when anomaly_score > 0 then 'up'
        when anomaly_score < 0 then 'down'
        when anomaly_score = 0 then 'flat'
    end as {{ dbt.type_string() }}) as direction,
    coalesce(is_scored and abs(anomaly_score) >= {{ var('anomaly_warn_k') }}, false) as is_anomaly
from final
