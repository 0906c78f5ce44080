{#- marts.customer_scores is written by the scoring step (orchestration/ml/assets.py
    SCORES_DDL / SCORES_ADDED_COLUMNS) AFTER dbt builds; marts.agg_action_uplift reads the
    scores of earlier runs from it. on-run-start creates it empty when no scoring ever ran
    (first run) and adds the holdout columns to a table scored before holdouts existed, so
    the model always finds the columns it reads. Same columns and types as the writer. -#}
{% macro create_scores_table() -%}
    create schema if not exists marts;
    create table if not exists marts.customer_scores (
        customer_id {{ dbt.type_string() }} not null,
        score_date date not null,
        feature_snapshot_date date not null,
        churn_probability {{ features_type_double() }},
        churn_risk_band {{ dbt.type_string() }},
        purchase_propensity {{ features_type_double() }},
        propensity_band {{ dbt.type_string() }},
        churn_model_version {{ dbt.type_string() }},
        propensity_model_version {{ dbt.type_string() }},
        top_reasons {{ dbt.type_string() }},
        next_best_action {{ dbt.type_string() }} not null,
        scored_at timestamp with time zone not null,
        intended_action {{ dbt.type_string() }},
        is_holdout {{ dbt.type_boolean() }},
        predicted_ltv_12m {{ features_type_double() }}
    );
    alter table marts.customer_scores add column if not exists intended_action {{ dbt.type_string() }};
    alter table marts.customer_scores add column if not exists is_holdout {{ dbt.type_boolean() }};
    alter table marts.customer_scores add column if not exists predicted_ltv_12m {{ features_type_double() }}
{%- endmacro %}
