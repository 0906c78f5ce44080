-- The audit trail of privacy requests: what was applied when, and how many rows it removed
-- where. Counts only: an erased person's identifiers are gone, and this table never names
-- them (the request id is the data subject's reference). See docs/privacy.md.
with erasure_log as (
    select * from {{ source('erasure', 'erasure_log') }}
),

erasure_log_tables as (
    select * from {{ source('erasure', 'erasure_log_tables') }}
),

requests as (
    select * from {{ ref('stg_privacy__requests') }}
),

rows_by_table as (
    select
        request_id,
        {{ json_object_agg_of('table_name', 'rows_removed') }} as rows_removed_by_table
    from erasure_log_tables
    group by request_id
),

applied as (
    select
        erasure_log.request_id,
        erasure_log.request_type,
        erasure_log.received_at,
        erasure_log.applied_at,
        erasure_log.tables_touched,
        erasure_log.rows_removed,
        rows_by_table.rows_removed_by_table,
        erasure_log.landing_files_rewritten
    from erasure_log
    left join rows_by_table on rows_by_table.request_id = erasure_log.request_id
),

-- Requests loaded but not applied yet (the next run applies erasures and opt-outs), and
-- request types the pipeline does not act on (e.g. access): listed, never applied.
not_applied as (
    select
        requests.request_id,
        requests.request_type,
        requests.requested_at as received_at,
        cast(null as {{ dbt.type_timestamp() }}) as applied_at,
        0 as tables_touched,
        0 as rows_removed,
        cast(null as {{ dbt.type_string() }}) as rows_removed_by_table,
        0 as landing_files_rewritten
    from requests
    where requests.request_id not in (select request_id from erasure_log)
),

final as (
    select * from applied
    union all
    select * from not_applied
)

select
    request_id,
    request_type,
    received_at,
    applied_at,
    applied_at is not null as is_applied,
    cast(tables_touched as {{ dbt.type_int() }}) as tables_touched,
    cast(rows_removed as {{ dbt.type_bigint() }}) as rows_removed,
    cast(rows_removed_by_table as {{ dbt.type_string() }}) as rows_removed_by_table,
    cast(landing_files_rewritten as {{ dbt.type_int() }}) as landing_files_rewritten
from final
