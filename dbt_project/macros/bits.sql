{#- Bit tests on integers, used to enumerate the subsets of a small set (Shapley attribution).
    `>>` and `&` work on DuckDB and PostgreSQL; Spark spells the shift as a function. -#}

{#- True when bit `position` (0 = least significant) of the integer `value` is set. -#}
{% macro bits_is_set(value, position) -%}
    {{ return(adapter.dispatch('bits_is_set', 'journey_warehouse')(value, position)) }}
{%- endmacro %}

{% macro default__bits_is_set(value, position) -%}
    ((({{ value }}) >> ({{ position }})) & 1) = 1
{%- endmacro %}

{% macro spark__bits_is_set(value, position) -%}
    (shiftright({{ value }}, {{ position }}) & 1) = 1
{%- endmacro %}

{#- 2^position as a bigint: the mask with only bit `position` set. -#}
{% macro bits_single(position) -%}
    {{ return(adapter.dispatch('bits_single', 'journey_warehouse')(position)) }}
{%- endmacro %}

{% macro default__bits_single(position) -%}
    (cast(1 as {{ dbt.type_bigint() }}) << ({{ position }}))
{%- endmacro %}

{% macro spark__bits_single(position) -%}
    shiftleft(cast(1 as bigint), {{ position }})
{%- endmacro %}
