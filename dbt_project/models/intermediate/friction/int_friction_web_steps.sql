-- Every web event with its funnel step and its place in the session: the input of the web
-- friction detectors (fct_friction_events). The step of an event is the stage of the most
-- specific seed rule it matches (funnel_stage_rules: the longest page-path prefix for page
-- views, the event name for track calls); step_rank orders the steps (awareness 1,
-- consideration 2, evaluation 3). Pages matched only by the catch-all '/' are 'awareness'.
with events as (
    select * from {{ ref('int_web_events_sessionized') }}
),

rules as (
    select * from {{ ref('funnel_stage_rules') }}
),

rule_matches as (
    select
        events.message_id,
        rules.stage,
        row_number() over (
            partition by events.message_id
            order by {{ dbt.length('rules.match_value') }} desc, rules.stage desc
        ) as match_rank
    from events
    inner join rules
        on (
            rules.rule_type = 'event_name'
            and events.event_type = 'track'
            and events.event_name = rules.match_value
        )
        or (
            rules.rule_type = 'page_path_prefix'
            and events.event_type = 'page'
            and events.page_path like {{ dbt.concat(['rules.match_value', "'%'"]) }}
        )
),

stepped as (
    select
        events.message_id,
        events.session_id,
        events.customer_id,
        events.event_at,
        events.event_type,
        events.event_name,
        events.page_path,
        events.page_title,
        rule_matches.stage as funnel_step,
        case rule_matches.stage
            when 'awareness' then 1
            when 'consideration' then 2
            when 'evaluation' then 3
        end as step_rank
    from events
    left join rule_matches
        on rule_matches.message_id = events.message_id
        and rule_matches.match_rank = 1
),

final as (
    select
        message_id,
        session_id,
        customer_id,
        event_at,
        event_type,
        event_name,
        page_path,
        page_title,
        funnel_step,
        step_rank,
        row_number() over (
            partition by session_id order by event_at, message_id
        ) as event_number,
        count(*) over (partition by session_id) as session_events,
        min(event_at) over (partition by session_id) as session_started_at,
        case when event_type = 'page' then
            row_number() over (
                partition by session_id, event_type, page_path order by event_at, message_id
            )
        end as page_view_number,
        lead(event_at) over (partition by session_id order by event_at, message_id) as next_event_at,
        max(step_rank) over (
            partition by session_id order by event_at, message_id
            rows between unbounded preceding and 1 preceding
        ) as furthest_step_rank_before,
        max(step_rank) over (
            partition by session_id order by event_at, message_id
            rows between 1 following and unbounded following
        ) as furthest_step_rank_after
    from stepped
)

select * from final
