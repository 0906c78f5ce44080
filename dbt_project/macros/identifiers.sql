{#- Identifier hygiene. Identity resolution merges profiles on shared identifiers, so a value
    shared by unrelated people ('unknown', test@example.com, a support desk's no-reply address)
    would glue them together. Such values become null here; the list is the editable seed
    `generic_identifiers` (match_type exact or like, compared case-insensitively). -#}

{% macro is_generic_identifier(expr) -%}
    exists (
        select 1
        from {{ ref('generic_identifiers') }} as generic
        where (generic.match_type = 'exact' and {{ expr }} = lower(generic.value))
           or (generic.match_type = 'like' and {{ expr }} like lower(generic.value))
    )
{%- endmacro %}

{#- trim whitespace; null when empty or generic. For ids whose case is significant (user_id, anonymous_id). -#}
{% macro normalize_identifier(column) -%}
    case
        when nullif({{ trim_whitespace(column) }}, '') is null then null
        when {{ is_generic_identifier('lower(' ~ trim_whitespace(column) ~ ')') }} then null
        else {{ trim_whitespace(column) }}
    end
{%- endmacro %}

{#- trim + lower; null when empty, without '@', or generic. Mail systems treat the address
    case-insensitively in practice, so 'Ann@X.com ' and 'ann@x.com' are one person. -#}
{% macro normalize_email(column) -%}
    case
        when nullif({{ trim_whitespace(column) }}, '') is null then null
        when lower({{ trim_whitespace(column) }}) not like '%_@_%' then null
        when {{ is_generic_identifier('lower(' ~ trim_whitespace(column) ~ ')') }} then null
        else lower({{ trim_whitespace(column) }})
    end
{%- endmacro %}

{#- Strip spaces, tabs, line breaks and no-break spaces from both ends: exports pad values
    with more than plain spaces (e.g. a trailing tab), and SQL trim() removes only spaces. -#}
{% macro trim_whitespace(column) -%}
    {{ return(adapter.dispatch('trim_whitespace', 'journey_warehouse')(column)) }}
{%- endmacro %}

{% macro default__trim_whitespace(column) -%}
    trim(both ' ' || chr(9) || chr(10) || chr(13) || chr(160) from {{ column }})
{%- endmacro %}

{% macro duckdb__trim_whitespace(column) -%}
    trim({{ column }}, ' ' || chr(9) || chr(10) || chr(13) || chr(160))
{%- endmacro %}
