{#- Engine-specific SQL used by the customer, funnel, attribution and feature marts.
    Each macro dispatches on the adapter (namespace journey_warehouse) with a portable
    ANSI-ish default and a DuckDB implementation. -#}

{#- Lower-case hex SHA-256 of a text expression (pseudonymous key that BI tools can join on
    without ever seeing the email). -#}
{% macro features_sha256(expr) -%}
    {{ return(adapter.dispatch('features_sha256', 'journey_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__features_sha256(expr) -%}
    lower(encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex'))
{%- endmacro %}

{% macro duckdb__features_sha256(expr) -%}
    sha256({{ expr }})
{%- endmacro %}

{#- Median of a numeric expression, as an aggregate. -#}
{% macro funnel_median(expr) -%}
    {{ return(adapter.dispatch('funnel_median', 'journey_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__funnel_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__funnel_median(expr) -%}
    quantile_cont({{ expr }}, 0.5)
{%- endmacro %}

{#- A one-column relation `n` holding the integers 0..upper_bound, where upper_bound is a
    scalar SQL expression (e.g. a subquery), so spines can follow the data without a
    compile-time query. The default supports up to 9,999. -#}
{% macro features_integer_series(upper_bound) -%}
    {{ return(adapter.dispatch('features_integer_series', 'journey_warehouse')(upper_bound)) }}
{%- endmacro %}

{% macro default__features_integer_series(upper_bound) -%}
    select d0.n + 10 * d1.n + 100 * d2.n + 1000 * d3.n as n
    from (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d0 (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d1 (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d2 (n)
    cross join (values (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) as d3 (n)
    where d0.n + 10 * d1.n + 100 * d2.n + 1000 * d3.n <= ({{ upper_bound }})
{%- endmacro %}

{% macro duckdb__features_integer_series(upper_bound) -%}
    select cast(range as integer) as n
    from range(0, cast(({{ upper_bound }}) as bigint) + 1)
{%- endmacro %}

{#- Exact seconds between two timestamps (the cross-database datediff counts boundary
    crossings, which is too coarse for ages in fractional days). -#}
{% macro features_seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('features_seconds_between', 'journey_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__features_seconds_between(start_ts, end_ts) -%}
    extract(epoch from (cast({{ end_ts }} as {{ dbt.type_timestamp() }}) - cast({{ start_ts }} as {{ dbt.type_timestamp() }})))
{%- endmacro %}

{% macro duckdb__features_seconds_between(start_ts, end_ts) -%}
    (epoch(cast({{ end_ts }} as timestamp)) - epoch(cast({{ start_ts }} as timestamp)))
{%- endmacro %}

{#- A 64-bit float type (dbt.type_float() is 32-bit on some engines, too coarse for credit
    shares that must add up to 1 within 1e-9). -#}
{% macro features_type_double() -%}
    {{ return(adapter.dispatch('features_type_double', 'journey_warehouse')()) }}
{%- endmacro %}

{% macro default__features_type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__features_type_double() -%}
    double
{%- endmacro %}
