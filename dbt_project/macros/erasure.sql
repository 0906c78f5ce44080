{#- Erasure tombstones (issue 12, docs/privacy.md). The privacy_erasure asset
    (orchestration/privacy) writes privacy.erased_identifiers: one keyed hash per identifier
    of each erased person, keyed_hash(identifier_type || ':' || normalised value). Staging
    drops every row carrying one, so a re-delivered old export cannot bring an erased person
    back. -#}

{#- on-run-start: dbt works before the privacy asset ever ran (a plain `dbt build`). The
    same tables as orchestration/privacy/erasure.py PRIVACY_DDL. -#}
{% macro create_privacy_tables() -%}
    create schema if not exists privacy;
    create table if not exists privacy.erased_identifiers (
        identifier_type {{ dbt.type_string() }} not null,
        identifier_key {{ dbt.type_string() }} not null,
        request_id {{ dbt.type_string() }} not null,
        erased_at {{ dbt.type_timestamp() }} not null
    );
    create table if not exists privacy.erasure_log (
        request_id {{ dbt.type_string() }} not null,
        request_type {{ dbt.type_string() }} not null,
        received_at {{ dbt.type_timestamp() }},
        applied_at {{ dbt.type_timestamp() }} not null,
        tables_touched {{ dbt.type_int() }} not null,
        rows_removed {{ dbt.type_bigint() }} not null,
        landing_files_rewritten {{ dbt.type_int() }} not null
    );
    create table if not exists privacy.erasure_log_tables (
        request_id {{ dbt.type_string() }} not null,
        table_name {{ dbt.type_string() }} not null,
        rows_removed {{ dbt.type_bigint() }} not null
    )
{%- endmacro %}

{#- The tombstone key of a raw value, normalised as identity resolution does it (staging's
    normalize_email / normalize_identifier): trimmed, and lower-cased for emails. Generic
    values are never tombstoned, so they need no special case here. -#}
{% macro erased_identifier_key(identifier_type, expr) -%}
    {%- set value = trim_whitespace('cast(' ~ expr ~ ' as ' ~ dbt.type_string() ~ ')') -%}
    {%- if identifier_type == 'email' -%}{%- set value = 'lower(' ~ value ~ ')' -%}{%- endif -%}
    {{ keyed_hash(dbt.concat([dbt.string_literal(identifier_type ~ ':'), value])) }}
{%- endmacro %}

{#- A where-clause condition: true unless one of the row's identifiers is tombstoned.
    `identifiers` is a list of (identifier_type, column expression) pairs, e.g.
    [('email', 'email'), ('contact_id', 'contact_id')]. An anti-join per identifier against
    a table that is empty until the first erasure: a hash of each value, nothing more. -#}
{% macro not_erased(identifiers) -%}
    (
    {%- for identifier_type, expr in identifiers %}
        {{ 'and ' if not loop.first }}coalesce({{ erased_identifier_key(identifier_type, expr) }} not in (
            select identifier_key from {{ source('erasure', 'erased_identifiers') }}
        ), true)
    {%- endfor %}
    )
{%- endmacro %}

{#- A JSON object {"key": number} aggregated from one key and one numeric value per row, keys
    in order (the same text whatever the row order). Keys must not need JSON escaping (table
    names do not). dbt.listagg is the cross-database ordered string aggregate. -#}
{% macro json_object_agg_of(key_column, value_column) -%}
    {%- set member = dbt.concat(["'\"'", key_column, "'\":'", "cast(" ~ value_column ~ " as " ~ dbt.type_string() ~ ")"]) -%}
    {{ dbt.concat(["'{'", dbt.listagg(member, "','", "order by " ~ key_column), "'}'"]) }}
{%- endmacro %}
