{#- Which days of agg_journey_anomalies a run alerts on: the days of the run's partition
    window when Dagster passes one (a backfill reports every day it rebuilt), else the
    latest day of the table (a plain `dbt build` alerts on today only). -#}
{% macro anomaly_alert_days(column, relation) -%}
    {%- if var('partition_start') -%}
    {{ in_partition_window(column, none) }}
    {%- else -%}
    {{ column }} = (select max({{ column }}) from {{ relation }})
    {%- endif -%}
{%- endmacro %}
