{#- A JSON object from (key, column) pairs, e.g. [('order_id', 'tr_orderid')]. Null columns
    become JSON null. The builder function differs per engine. -#}
{% macro json_object_of(pairs) -%}
    {{ return(adapter.dispatch('json_object_of', 'journey_warehouse')(pairs)) }}
{%- endmacro %}

{% macro default__json_object_of(pairs) -%}
    json_build_object(
        {%- for key, column in pairs %}'{{ key }}', {{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{%- endmacro %}

{% macro duckdb__json_object_of(pairs) -%}
    json_object(
        {%- for key, column in pairs %}'{{ key }}', {{ column }}{% if not loop.last %}, {% endif %}{% endfor -%}
    )
{%- endmacro %}
