with source as (
    select * from {{ source('support', 'support_ticket_sentiment') }}
),

-- One score per ticket: the version stg_support__tickets keeps (latest updated_at, then the
-- latest file), so the score belongs to the text of the ticket's current version.
latest as (
    select *
    from (
        select
            source.*,
            row_number() over (
                partition by ticket_id
                order by updated_at desc nulls last, _partition_date desc, text_hash desc
            ) as version_rank
        from source
    ) as ranked
    where version_rank = 1
),

final as (
    select
        ticket_id,
        {{ to_utc_timestamp('updated_at') }} as updated_at,
        text_hash,
        cast(sentiment_score as {{ features_type_double() }}) as sentiment_score,
        sentiment_label,
        scorer_version,
        _partition_date
    from latest
    where ticket_id is not null
)

select * from final
