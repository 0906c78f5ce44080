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

{#- Channels of touches that are not marketing: a support ticket or a billing record is
    where a customer already is, not how they were reached. fct_touchpoints flags them with
    is_marketing = false and the funnel marts group them as 'non_marketing'. -#}
{% macro non_marketing_channels() -%}
    {{ return(['support', 'billing']) }}
{%- endmacro %}

{#- Whether `channel` is a marketing channel (SQL boolean expression). -#}
{% macro is_marketing_channel(channel) -%}
    ({{ channel }} not in ('{{ non_marketing_channels() | join("', '") }}'))
{%- endmacro %}
