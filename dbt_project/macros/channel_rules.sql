{#- Whether a row of the seed `channel_rules` (alias `rule`) matches a session's source,
    medium and referrer host. A null pattern matches anything; '(none)' matches only a
    missing value; otherwise a case-insensitive LIKE pattern. -#}
{% macro channel_rule_matches(rule, source, medium, referrer_host) -%}
    {{ _channel_pattern_matches(rule ~ '.source_pattern', source) }}
    and {{ _channel_pattern_matches(rule ~ '.medium_pattern', medium) }}
    and {{ _channel_pattern_matches(rule ~ '.referrer_host_pattern', referrer_host) }}
{%- endmacro %}

{% macro _channel_pattern_matches(pattern, value) -%}
    (
        {{ pattern }} is null
        or ({{ pattern }} = '(none)' and {{ value }} is null)
        or ({{ pattern }} <> '(none)' and lower({{ value }}) like lower({{ pattern }}))
    )
{%- endmacro %}
