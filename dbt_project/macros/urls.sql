{#- URL parsing needs regular expressions, whose function names differ per engine. -#}

{#- Lower-cased host of an absolute URL, without a leading 'www.'; null when not a URL. -#}
{% macro url_host(column) -%}
    {{ return(adapter.dispatch('url_host', 'journey_warehouse')(column)) }}
{%- endmacro %}

{% macro default__url_host(column) -%}
    nullif(regexp_replace(lower(substring({{ column }} from '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)')), '^www\.', ''), '')
{%- endmacro %}

{% macro duckdb__url_host(column) -%}
    nullif(regexp_replace(lower(regexp_extract({{ column }}, '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)', 1)), '^www\.', ''), '')
{%- endmacro %}

{#- Path of a URL ('/pricing'), without query string or fragment. -#}
{% macro url_path(column) -%}
    {{ return(adapter.dispatch('url_path', 'journey_warehouse')(column)) }}
{%- endmacro %}

{% macro default__url_path(column) -%}
    nullif(substring({{ column }} from '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^?#]*)'), '')
{%- endmacro %}

{% macro duckdb__url_path(column) -%}
    nullif(regexp_extract({{ column }}, '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*(/[^?#]*)', 1), '')
{%- endmacro %}

{#- Value of query parameter `name` (e.g. utm_source); null when absent or empty. -#}
{% macro url_parameter(column, name) -%}
    {{ return(adapter.dispatch('url_parameter', 'journey_warehouse')(column, name)) }}
{%- endmacro %}

{% macro default__url_parameter(column, name) -%}
    nullif(substring({{ column }} from '[?&]{{ name }}=([^&#]*)'), '')
{%- endmacro %}

{% macro duckdb__url_parameter(column, name) -%}
    nullif(regexp_extract({{ column }}, '[?&]{{ name }}=([^&#]*)', 1), '')
{%- endmacro %}
