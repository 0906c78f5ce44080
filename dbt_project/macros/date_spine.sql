{#- One row per day `date_day` from start_date to end_date inclusive; both are scalar SQL
    expressions (e.g. subqueries), so the spine follows the data. dbt_utils is not available:
    the integers come from features_integer_series (up to 9,999 days by default). -#}
{% macro date_spine(start_date, end_date) -%}
    select cast({{ dbt.dateadd('day', 'series.n', '(' ~ start_date ~ ')') }} as date) as date_day
    from ({{ features_integer_series(dbt.datediff('(' ~ start_date ~ ')', '(' ~ end_date ~ ')', 'day')) }}) as series
{%- endmacro %}
