{#- Half-width of the 95 % Wald (normal approximation) interval of the difference of two
    proportions: 1.96 * sqrt(p_a (1 - p_a) / n_a + p_b (1 - p_b) / n_b); null when a group
    is empty. Used for friction conversion gaps and action uplift. -#}
{% macro wald_difference_margin(rate_a, n_a, rate_b, n_b) -%}
    1.96 * sqrt(
        {{ rate_a }} * (1 - {{ rate_a }}) / nullif({{ n_a }}, 0)
        + {{ rate_b }} * (1 - {{ rate_b }}) / nullif({{ n_b }}, 0)
    )
{%- endmacro %}
