{#- The new-data window of an incremental run, on a `date` column of daily partitions.
    Dagster passes the run's partition window as vars partition_start/partition_end (end
    exclusive; a missing or equal end means the one day partition_start). Without vars (a
    plain `dbt build`) the window is every partition from `fallback_start` on: a SQL
    expression, typically the latest partition already in the model's table. -#}
{% macro in_partition_window(column, fallback_start) -%}
    {%- set start = var('partition_start') -%}
    {%- set end = var('partition_end') or start -%}
    {%- if start -%}
    (
        ({{ column }} >= cast('{{ start }}' as date) and {{ column }} < cast('{{ end }}' as date))
        or {{ column }} = cast('{{ start }}' as date)
    )
    {%- else -%}
    {{ column }} >= ({{ fallback_start }})
    {%- endif -%}
{%- endmacro %}

{#- The latest partition in `relation` (1900-01-01 when empty): the default start of the
    window of a plain `dbt build`, which so re-reads the last loaded day and anything newer. -#}
{% macro latest_partition(relation, column='_partition_date') -%}
    select coalesce(max({{ column }}), cast('1900-01-01' as date)) from {{ relation }}
{%- endmacro %}
