{#- The last non-null value of `expr` in the rows before the current one of the window.
    `ignore nulls` is not available on every engine, hence the dispatch. -#}
{% macro previous_non_null(expr, partition_by, order_by) -%}
    {{ return(adapter.dispatch('previous_non_null', 'journey_warehouse')(expr, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__previous_non_null(expr, partition_by, order_by) -%}
    last_value({{ expr }} ignore nulls) over (
        partition by {{ partition_by }} order by {{ order_by }}
        rows between unbounded preceding and 1 preceding
    )
{%- endmacro %}
