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

{#- The values at several dot-separated `paths` as one list of text, 1-based (`[1]` is the
    first path): DuckDB parses the document once for all paths, which is much cheaper than
    one json_extract_string per path over every web event. -#}
{% macro json_extract_texts(column, paths) -%}
    {{ return(adapter.dispatch('json_extract_texts', 'journey_warehouse')(column, paths)) }}
{%- endmacro %}

{% macro default__json_extract_texts(column, paths) -%}
    array[
        {%- for path in paths %}{{ json_extract_text(column, path) }}{% if not loop.last %}, {% endif %}{% endfor -%}
    ]
{%- endmacro %}

{% macro duckdb__json_extract_texts(column, paths) -%}
    json_extract_string({{ column }}, [
        {%- for path in paths %}'$.{{ path }}'{% if not loop.last %}, {% endif %}{% endfor -%}
    ])
{%- endmacro %}
