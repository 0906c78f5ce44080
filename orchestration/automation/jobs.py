"""The jobs a data engineer runs, schedules or backfills."""

from __future__ import annotations

import functools

import dagster as dg

from orchestration.ingest.assets import INGESTION_GROUP, daily_partitions

MODEL_ASSETS = dg.AssetSelection.assets("churn_model", "purchase_propensity_model")
SCORE_ASSETS = dg.AssetSelection.assets(
    ["marts", "customer_scores"], ["serving", "serving_database"]
)
DBT_ASSETS = dg.AssetSelection.groups("seeds", "staging", "intermediate", "marts")
INGESTION_ASSETS = dg.AssetSelection.groups(INGESTION_GROUP)


@functools.cache
def ingest_exports_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "ingest_exports",
        selection=INGESTION_ASSETS,
        partitions_def=daily_partitions(),
        description="Load the day's export files into raw.* (what the landing-file sensor runs).",
    )


@functools.cache
def daily_refresh_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "daily_refresh",
        selection=INGESTION_ASSETS | DBT_ASSETS | SCORE_ASSETS,
        partitions_def=daily_partitions(),
        description=(
            "Ingest the day → dbt build (incremental) → score with the champion models → "
            "publish the serving copy for BI tools."
        ),
    )


@functools.cache
def weekly_retrain_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "weekly_retrain",
        selection=MODEL_ASSETS,
        description="Retrain churn and purchase-propensity models; promote if at least as good.",
    )


@functools.cache
def dbt_build_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "dbt_build",
        selection=DBT_ASSETS,
        partitions_def=daily_partitions(),
        description=(
            "dbt build of every model and test. Launched over a partition range (a backfill), "
            "it is one dbt invocation whose incremental models process the whole range."
        ),
    )


@functools.cache
def train_and_score_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "train_and_score",
        selection=MODEL_ASSETS | SCORE_ASSETS,
        partitions_def=daily_partitions(),
        description="Train and register both models, score the day, publish the serving copy.",
    )


@functools.cache
def score_customers_job() -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "score_customers",
        selection=SCORE_ASSETS,
        partitions_def=daily_partitions(),
        description="Score the day's customers with the champion models, publish the serving copy.",
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
