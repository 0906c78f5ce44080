-- Snapshot days for point-in-time features: every var('snapshot_cadence_days') days from
-- the first data day, plus the latest data day.
with bounds as (
    select * from {{ ref('int_features_data_bounds') }}
),

offsets as (
    {{ features_integer_series(
        "select floor(" ~ dbt.datediff('first_data_date', 'latest_data_date', 'day')
        ~ " / " ~ var('snapshot_cadence_days') ~ ") from bounds"
    ) }}
),

cadence as (
    select cast({{ dbt.dateadd('day', 'offsets.n * ' ~ var('snapshot_cadence_days'), 'bounds.first_data_date') }} as date)
        as snapshot_date
    from offsets
    cross join bounds
),

unioned as (
    select snapshot_date from cadence
    union
    select latest_data_date from bounds
),

final as (
    select
        unioned.snapshot_date,
        -- Features see everything that happened before the end of the snapshot day (UTC).
        {{ dbt.dateadd('day', 1, 'unioned.snapshot_date') }} as feature_cutoff_at
    from unioned
    cross join bounds
    where unioned.snapshot_date <= bounds.latest_data_date
)

select * from final
