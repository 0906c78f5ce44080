-- One row per customer with the time each funnel stage was reached, made monotonic: a later
-- stage implies the earlier ones, so an earlier stage's time is back-filled as
-- min(own time, next stage's time). A buyer who never hit a consideration page is thus
-- considered at the latest when they evaluated or bought. Retention is never back-filled
-- into (it is defined relative to the purchase).
with stage_events as (
    select * from {{ ref('int_funnel_stage_events') }}
),

pivoted as (
    select
        customer_id,
        min(case when stage = 'awareness' then reached_at end) as own_awareness_at,
        min(case when stage = 'consideration' then reached_at end) as own_consideration_at,
        min(case when stage = 'evaluation' then reached_at end) as own_evaluation_at,
        min(case when stage = 'purchase' then reached_at end) as purchase_at,
        min(case when stage = 'retention' then reached_at end) as retention_at
    from stage_events
    group by customer_id
),

-- Back-fill from the end of the funnel towards its start; `least` ignores nulls only on
-- some engines, hence the explicit coalesce.
backfilled_evaluation as (
    select
        *,
        case
            when own_evaluation_at is null then purchase_at
            when purchase_at is null then own_evaluation_at
            when purchase_at < own_evaluation_at then purchase_at
            else own_evaluation_at
        end as evaluation_at
    from pivoted
),

backfilled_consideration as (
    select
        *,
        case
            when own_consideration_at is null then evaluation_at
            when evaluation_at is null then own_consideration_at
            when evaluation_at < own_consideration_at then evaluation_at
            else own_consideration_at
        end as consideration_at
    from backfilled_evaluation
),

backfilled_awareness as (
    select
        *,
        case
            when own_awareness_at is null then consideration_at
            when consideration_at is null then own_awareness_at
            when consideration_at < own_awareness_at then consideration_at
            else own_awareness_at
        end as awareness_at
    from backfilled_consideration
),

final as (
    select
        customer_id,
        awareness_at,
        consideration_at,
        evaluation_at,
        purchase_at,
        retention_at,
        case
            when retention_at is not null then 'retention'
            when purchase_at is not null then 'purchase'
            when evaluation_at is not null then 'evaluation'
            when consideration_at is not null then 'consideration'
            else 'awareness'
        end as furthest_stage
    from backfilled_awareness
)

select * from final
