"""The journey_segments asset with real DuckDB, Dagster and MLflow: both marts written, checks
passing, the fit tracked in MLflow, ids kept across refits; and in `journey run`."""

from __future__ import annotations

import dagster as dg
import duckdb
import mlflow
import pandas as pd
import pytest

from ml.segments import EXPERIMENT_NAME
from orchestration.ml.resources import MlflowResource
from orchestration.resources import WarehouseResource
from orchestration.segments.assets import MIN_CUSTOMERS, journey_segments
from orchestration.settings import Settings
from tests.conftest import DemoPipeline
from tests.test_ml_segments import synthetic_features


def write_features(settings: Settings, features: pd.DataFrame) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists marts")
        con.register("features", features)
        con.execute("create or replace table marts.customer_journey_features as from features")


def materialize(settings: Settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [journey_segments],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
            "mlflow_store": MlflowResource(tracking_uri=settings.mlflow_tracking_uri),
        },
        raise_on_error=False,
    )


def read(settings: Settings, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).df()


def test_asset_writes_both_marts_tracks_the_fit_and_keeps_ids(journey_env: Settings) -> None:
    features = synthetic_features(per_type=60).drop(columns="true_type")
    write_features(journey_env, features)

    first = materialize(journey_env)
    assert first.success
    evaluations = first.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {
        "every_customer_in_one_segment", "sizes_sum_to_customers", "no_tiny_segment",
    }  # fmt: skip
    assert all(e.passed for e in evaluations)
    segments = read(journey_env, "select * from marts.customer_journey_segments")
    agg = read(journey_env, "select * from marts.agg_journey_segments order by segment_id")
    assert len(segments) == segments["customer_id"].nunique() == len(features)
    assert agg["customers"].sum() == len(features)
    assert len(agg) == 4 and agg["segment_name"].is_unique
    assert (segments["as_of"] == pd.Timestamp("2026-05-30")).all()
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in first.get_asset_materialization_events()
    }
    assert metadata["marts/agg_journey_segments"]["k"].value == 4
    assert (
        "data:image/png;base64," in metadata["marts/agg_journey_segments"]["segments_chart"].value
    )

    # A refit of the same customers, delivered in another order, keeps every id.
    write_features(journey_env, features.sample(frac=1.0, random_state=5))
    assert materialize(journey_env).success
    again = read(journey_env, "select * from marts.customer_journey_segments")
    merged = segments.merge(again, on="customer_id", suffixes=("", "_again"))
    assert (merged["segment_id"] == merged["segment_id_again"]).all()
    # One fit per data day: the refit of the same day replaced the first one's centroids.
    fits = read(journey_env, "select distinct fitted_at from marts.journey_segment_centroids")
    assert len(fits) == 1

    client = mlflow.MlflowClient(journey_env.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 2
    assert {r.data.params["k"] for r in runs} == {"4"}
    assert all("silhouette_k3" in r.data.metrics for r in runs)
    # `runs:/` resolves through the global tracking URI, which other tests may have moved.
    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(journey_env.mlflow_tracking_uri)
    try:
        model = mlflow.sklearn.load_model(f"runs:/{runs[0].info.run_id}/model")
    finally:
        mlflow.set_tracking_uri(previous_uri)
    assert len(set(model.predict(features))) == 4


def test_too_few_customers_skip_with_empty_marts_and_warnings(journey_env: Settings) -> None:
    write_features(journey_env, synthetic_features(per_type=5).drop(columns="true_type"))
    result = materialize(journey_env)
    assert result.success
    assert MIN_CUSTOMERS > 20  # the 20 rows above are too few
    evaluations = result.get_asset_check_evaluations()
    assert evaluations and all(
        not e.passed and e.severity == dg.AssetCheckSeverity.WARN for e in evaluations
    )
    assert read(journey_env, "select count(*) as n from marts.agg_journey_segments")["n"][0] == 0


@pytest.mark.e2e
def test_journey_run_writes_the_segment_marts(demo_pipeline: DemoPipeline) -> None:
    assert "marts/customer_journey_segments:" in demo_pipeline.first_run_output
    settings = demo_pipeline.settings
    (features,) = read(settings, "select count(*) from marts.customer_journey_features").iloc[0]
    (customers,) = read(settings, "select count(*) from marts.dim_customers").iloc[0]
    segments = read(settings, "select * from marts.customer_journey_segments")
    agg = read(settings, "select * from marts.agg_journey_segments")
    assert features == customers == len(segments) == segments["customer_id"].nunique()
    assert agg["customers"].sum() == len(segments)
    assert 3 <= len(agg) <= 8 and agg["segment_name"].is_unique
    assert (agg["customers"] / len(segments)).min() >= 0.02
