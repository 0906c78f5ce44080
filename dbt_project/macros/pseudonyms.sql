{#- Keyed pseudonyms (issue 12). customer_id, email_hash and the erasure tombstones hash an
    identifier together with a secret key (var hash_key, from JOURNEY_HASH_KEY; see
    orchestration.settings.hash_key), so that holding an email is not enough to find its row.
    keyed_hash(x) = md5(key || x): the same value in Python is
    orchestration.privacy.pseudonyms.keyed_hash, used to write tombstones. -#}

{% macro hash_key() -%}
    {%- set key = var('hash_key', '') -%}
    {%- if execute and not key -%}
        {{ exceptions.raise_compiler_error(
            "var hash_key is empty: set JOURNEY_HASH_KEY (the journey commands and the Dagster "
            ~ "assets set it from <data dir>/hash.key; see docs/privacy.md)") }}
    {%- endif -%}
    {{ return(key) }}
{%- endmacro %}

{#- md5 of the key followed by the expression's text: 32 hex characters. -#}
{% macro keyed_hash(expr) -%}
    {{ dbt.hash(dbt.concat([dbt.string_literal(hash_key()), expr])) }}
{%- endmacro %}

{#- SHA-256 of the key followed by the expression's text: 64 hex characters, for email_hash
    (the longer digest leaves no room for collisions between a warehouse's emails). -#}
{% macro keyed_sha256(expr) -%}
    {{ features_sha256(dbt.concat([dbt.string_literal(hash_key()), expr])) }}
{%- endmacro %}

{#- Free text a person typed (a ticket subject) with email addresses and phone numbers
    replaced by '***': marts show the topic, not the contact details (docs/privacy.md). Names
    cannot be recognised this way; keep such columns out of marts when they may hold them. -#}
{% macro redact_contact_details(expr) -%}
    {{ return(adapter.dispatch('redact_contact_details', 'journey_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__redact_contact_details(expr) -%}
    regexp_replace(
        regexp_replace({{ expr }}, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+', '***', 'g'),
        '(\+[0-9]{1,3}[ .-]?)?\(?[0-9]{2,4}\)?[ .-]?[0-9]{3,4}[ .-]?[0-9]{3,5}', '***', 'g')
{%- endmacro %}
