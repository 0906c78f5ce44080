{#- A sum whose result does not depend on the order of its rows.

    Floating-point addition is not associative: summing the same doubles in another order
    can change the last bits, and DuckDB's threads (and a table's physical order, which
    changes on every build) decide that order. Two builds of the same data then differ. Each
    value is rounded to a fixed decimal first (a deterministic, per-row step) and the decimals
    are added exactly; cast the result back to a double where a double is wanted.
    18 decimals keep credit shares exact to 1e-18; 20 integer digits hold any revenue. -#}
{% macro exact_sum(expression) -%}
    {{ return(adapter.dispatch('exact_sum', 'journey_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__exact_sum(expression) -%}
    sum(cast({{ expression }} as decimal(38, 18)))
{%- endmacro %}
