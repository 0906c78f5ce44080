{#- JSON access differs per engine; `path` is dot-separated, e.g. 'context.page.url'. -#}

{#- The value at `path` as text (null when absent or JSON null). -#}
{% macro json_extract_text(column, path) -%}
    {{ return(adapter.dispatch('json_extract_text', 'journey_warehouse')(column, path)) }}
{%- endmacro %}

{% macro default__json_extract_text(column, path) -%}
    json_value({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro duckdb__json_extract_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path }}')
{%- endmacro %}

{#- The JSON value (object, array…) at `path`, still typed as JSON. -#}
{% macro json_extract_json(column, path) -%}
    {{ return(adapter.dispatch('json_extract_json', 'journey_warehouse')(column, path)) }}
{%- endmacro %}

{% macro default__json_extract_json(column, path) -%}
    json_query({{ column }}, '$.{{ path }}')
{%- endmacro %}

{% macro duckdb__json_extract_json(column, path) -%}
    json_extract({{ column }}, '$.{{ path }}')
{%- endmacro %}
