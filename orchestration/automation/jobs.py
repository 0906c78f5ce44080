"""The jobs a data engineer runs, schedules or backfills.

Only ingestion is partitioned (by month of export files): its partitions say which exports are
loaded and a backfill reloads months. dbt, training and scoring are whole-table assets; a run
hands them its window through config (the command line, the schedule) or, for a partitioned
run launched from the UI or the sensor, through the run's partitions.
"""

from __future__ import annotations

import functools

import dagster as dg

from orchestration.ingest.assets import INGESTION_GROUP

MODEL_ASSETS = dg.AssetSelection.assets("churn_model", "purchase_propensity_model")
# Journey segments are refitted with the models: after a build, weekly and in `journey run`.
SEGMENT_ASSETS = dg.AssetSelection.groups("segments")
# The drift gate runs before scoring in every job that scores (its blocking check stops it).
# ... and the marts that read the day's scores (dbt tag after_scores, their own dbt step).
SCORE_ASSETS = dg.AssetSelection.assets(
    ["score_drift_gate"], ["marts", "customer_scores"], ["serving", "serving_database"]
) | dg.AssetSelection.tag("after_scores", "")
DBT_ASSETS = dg.AssetSelection.groups("seeds", "staging", "intermediate", "marts")
# Erasure requests are applied before every dbt build, so they are part of every job that
# builds: the build that follows rebuilds the models without the erased people.
PRIVACY_ASSETS = dg.AssetSelection.groups("privacy")
INGESTION_ASSETS = dg.AssetSelection.groups(INGESTION_GROUP)


@functools.cache
def ingest_exports_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "ingest_exports",
        selection=INGESTION_ASSETS,
        description=(
            "Load the export files of the month(s) into raw.* (a backfill of many months is one "
            "run; each day's rows are replaced as a whole)."
        ),
    )


@functools.cache
def daily_refresh_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "daily_refresh",
        selection=INGESTION_ASSETS | PRIVACY_ASSETS | DBT_ASSETS | SCORE_ASSETS,
        description=(
            "Ingest the month's new exports → apply privacy requests (erasure) → dbt build "
            "(incremental over the run's days) → score with the champion models → publish the "
            "serving copy for BI tools."
        ),
    )


@functools.cache
def weekly_retrain_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "weekly_retrain",
        selection=MODEL_ASSETS | SEGMENT_ASSETS,
        description=(
            "Retrain churn and purchase-propensity models (promote if at least as good) and "
            "refit the journey segments."
        ),
    )


@functools.cache
def dbt_build_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "dbt_build",
        selection=PRIVACY_ASSETS | DBT_ASSETS,
        description=(
            "Apply pending privacy requests (erasure), then one `dbt build` of every model and "
            "test. Config `partition_start`/`partition_end` narrow the incremental models to "
            "those days; without them they process what is "
            "new since their last build."
        ),
    )


@functools.cache
def train_and_score_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "train_and_score",
        selection=MODEL_ASSETS | SEGMENT_ASSETS | SCORE_ASSETS,
        description=(
            "Train and register both models, refit the journey segments, score the last day, "
            "publish the serving copy."
        ),
    )


@functools.cache
def score_customers_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "score_customers",
        selection=SCORE_ASSETS,
        description="Score customers with the champion models, publish the serving copy.",
    )


def all_jobs() -> list[dg.UnresolvedAssetJobDefinition]:
    return [
        ingest_exports_job(),
        dbt_build_job(),
        train_and_score_job(),
        score_customers_job(),
        daily_refresh_job(),
        weekly_retrain_job(),
    ]
