{#- Generic test on agg_friction_points(_all_time): rows whose arithmetic does not hold.
    Affected + unaffected sessions = sessions at the step, conversions never exceed
    sessions, the gap lies inside its confidence interval, revenue at risk is never
    negative and is zero when the friction does not lower conversion. -#}
{% test friction_points_consistent(model) %}
select *
from {{ model }}
where sessions_affected + sessions_unaffected <> sessions_at_step
    or sessions_affected < 1
    or conversions_affected > sessions_affected
    or conversions_unaffected > sessions_unaffected
    or (conversion_gap is not null and not (gap_ci_low <= conversion_gap + 1e-12 and conversion_gap <= gap_ci_high + 1e-12))
    or revenue_at_risk < 0
    or (conversion_gap <= 0 and revenue_at_risk <> 0)
{% endtest %}
