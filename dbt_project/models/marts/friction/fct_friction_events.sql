-- One row per detected friction: where a journey loops, goes back, stalls, ends in a dead
-- end, keeps needing support or fails to pay. Web types (loop, backtrack, stall, dead_end)
-- come from the session's events (int_friction_web_steps); repeated_support_contact and
-- failed_payment from tickets and orders of known customers (session_id null).
--   loop                      the same page viewed >= 3 times in a session (one row per
--                             session and page, at the 3rd view)
--   backtrack                 a page view at a step (consideration or later) before the
--                             furthest step the session had already reached
--   stall                     >= var('friction_stall_minutes') on a page, after which the
--                             session reaches no later step
--   dead_end                  an error / not-found page, or a session whose last event is a
--                             view of a form page (var('friction_form_paths')): left unsent
--   repeated_support_contact  a ticket created <= 7 days after the customer's previous one
--   failed_payment            a failed order
{%- set form_paths = var('friction_form_paths', ['/signup', '/demo-request', '/checkout']) %}
with steps as (
    select * from {{ ref('int_friction_web_steps') }}
),

touchpoints as (
    select * from {{ ref('int_touchpoints') }}
),

orders as (
    select * from {{ ref('int_funnel_orders') }}
),

loops as (
    select
        'loop' as friction_type,
        steps.message_id as source_id,
        steps.session_id,
        steps.customer_id,
        steps.page_path,
        steps.funnel_step,
        steps.event_at as detected_at,
        {{ dbt.concat([dbt.string_literal('viewed '), 'cast(views.views as ' ~ dbt.type_string() ~ ')', dbt.string_literal(' times in the session')]) }} as details
    from steps
    inner join (
        select session_id, page_path, max(page_view_number) as views
        from steps
        where event_type = 'page'
        group by session_id, page_path
    ) as views
        on views.session_id = steps.session_id
        and views.page_path = steps.page_path
    where steps.page_view_number = 3
),

backtracks as (
    select
        'backtrack' as friction_type,
        message_id as source_id,
        session_id,
        customer_id,
        page_path,
        funnel_step,
        event_at as detected_at,
        {{ dbt.concat([dbt.string_literal('back to '), 'funnel_step', dbt.string_literal(' after reaching step '), 'cast(furthest_step_rank_before as ' ~ dbt.type_string() ~ ')']) }} as details
    from steps
    where event_type = 'page'
        and step_rank >= 2
        and step_rank < furthest_step_rank_before
),

stalls as (
    select
        'stall' as friction_type,
        message_id as source_id,
        session_id,
        customer_id,
        page_path,
        funnel_step,
        next_event_at as detected_at,
        {{ dbt.concat([
            'cast(' ~ dbt.datediff('event_at', 'next_event_at', 'minute') ~ ' as ' ~ dbt.type_string() ~ ')',
            dbt.string_literal(' minutes on the page, no later step after it'),
        ]) }} as details
    from steps
    where event_type = 'page'
        and funnel_step is not null
        and next_event_at is not null
        and {{ dbt.datediff('event_at', 'next_event_at', 'second') }} >= 60 * {{ var('friction_stall_minutes', 10) }}
        and coalesce(furthest_step_rank_after, 0) <= step_rank
),

dead_ends as (
    select
        'dead_end' as friction_type,
        message_id as source_id,
        session_id,
        customer_id,
        page_path,
        funnel_step,
        event_at as detected_at,
        case
            when event_number = session_events then 'session left on a form page'
            else 'error or not-found page'
        end as details
    from steps
    where event_type = 'page'
        and (
            lower(coalesce(page_title, '')) like '%not found%'
            or lower(coalesce(page_title, '')) like '%404%'
            or lower(coalesce(page_title, '')) like '%error%'
            or page_path like '/404%'
            or page_path like '%/error%'
            or (
                event_number = session_events
                and (
                    {%- for path in form_paths %}
                    page_path like '{{ path }}%'{% if not loop.last %} or{% endif %}
                    {%- endfor %}
                )
            )
        )
),

tickets as (
    select
        source_id as ticket_id,
        customer_id,
        touched_at as created_at,
        lag(touched_at) over (
            partition by customer_id order by touched_at, source_id
        ) as previous_created_at
    from touchpoints
    where touch_type = 'support_ticket'
),

repeated_support as (
    select
        'repeated_support_contact' as friction_type,
        ticket_id as source_id,
        cast(null as {{ dbt.type_string() }}) as session_id,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as page_path,
        'support' as funnel_step,
        created_at as detected_at,
        {{ dbt.concat([
            dbt.string_literal('ticket '),
            'cast(' ~ dbt.datediff('previous_created_at', 'created_at', 'hour') ~ ' as ' ~ dbt.type_string() ~ ')',
            dbt.string_literal(' hours after the previous one'),
        ]) }} as details
    from tickets
    where previous_created_at is not null
        and {{ dbt.datediff('previous_created_at', 'created_at', 'second') }} <= 7 * 86400
),

failed_payments as (
    select
        'failed_payment' as friction_type,
        order_id as source_id,
        cast(null as {{ dbt.type_string() }}) as session_id,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as page_path,
        'billing' as funnel_step,
        ordered_at as detected_at,
        {{ dbt.concat([
            'coalesce(order_type, ' ~ dbt.string_literal('order') ~ ')',
            dbt.string_literal(' payment failed: '),
            'coalesce(cast(amount as ' ~ dbt.type_string() ~ '), ' ~ dbt.string_literal('?') ~ ')',
            dbt.string_literal(' '),
            'coalesce(currency, ' ~ dbt.string_literal('') ~ ')',
        ]) }} as details
    from orders
    where status = 'failed'
),

unioned as (
    select * from loops
    union all
    select * from backtracks
    union all
    select * from stalls
    union all
    select * from dead_ends
    union all
    select * from repeated_support
    union all
    select * from failed_payments
),

final as (
    select
        {{ dbt.hash(dbt.concat(['friction_type', "':'", 'source_id'])) }} as friction_id,
        session_id,
        customer_id,
        friction_type,
        page_path,
        funnel_step,
        detected_at,
        details
    from unioned
)

select
    friction_id,
    session_id,
    customer_id,
    friction_type,
    page_path,
    funnel_step,
    detected_at,
    details
from final
