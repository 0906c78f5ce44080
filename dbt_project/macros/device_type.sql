{#- desktop / mobile / tablet from a user agent. Tablets first: iPad and Android tablets
    also contain 'mobile'-like tokens in some browsers. -#}
{% macro device_type(user_agent) -%}
    case
        when {{ user_agent }} is null then null
        when lower({{ user_agent }}) like '%ipad%'
            or lower({{ user_agent }}) like '%tablet%'
            or (lower({{ user_agent }}) like '%android%' and lower({{ user_agent }}) not like '%mobile%')
            then 'tablet'
        when lower({{ user_agent }}) like '%mobi%'
            or lower({{ user_agent }}) like '%iphone%'
            or lower({{ user_agent }}) like '%ipod%'
            or lower({{ user_agent }}) like '%android%'
            then 'mobile'
        else 'desktop'
    end
{%- endmacro %}
