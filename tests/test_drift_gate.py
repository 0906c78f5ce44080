"""The drift gate before scoring, on the demo built by `journey run` (a copy of its warehouse
and MLflow store): the day as built passes and is scored; the same day with the churn model's
most important feature multiplied by 5 blocks the run before any score is written, and
JOURNEY_DRIFT_BLOCK=false scores it with a warning."""

from __future__ import annotations

import shutil
from datetime import date

import dagster as dg
import duckdb
import pytest

from ml.tracking import load_drift_reference
from orchestration.ml.assets import customer_scores
from orchestration.ml.drift_gate import BLOCK_CHECK, WARN_CHECK, score_drift_gate
from orchestration.ml.resources import MlflowResource
from orchestration.resources import WarehouseResource

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

GATE = "score_drift_gate"
SCORES = "marts/customer_scores"


@pytest.fixture
def demo_copy(demo_pipeline, tmp_path):
    """The demo's warehouse and MLflow database, copied: the session's demo stays as built.
    (Artifacts stay where the demo wrote them; nothing here writes any.)"""
    settings = demo_pipeline.settings
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, warehouse)
    mlflow_db = tmp_path / "mlflow.db"
    source_db = settings.mlflow_tracking_uri.removeprefix("sqlite:///")
    shutil.copy(source_db, mlflow_db)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (day,) = con.execute("select max(snapshot_date) from marts.customer_features").fetchone()
    return warehouse, f"sqlite:///{mlflow_db}", day


def score_day(warehouse, tracking_uri: str, day: date) -> dg.ExecuteInProcessResult:
    days = {"config": {"first_day": str(day), "last_day": str(day)}}
    return dg.materialize(
        [score_drift_gate, customer_scores],
        resources={
            "warehouse": WarehouseResource(path=str(warehouse)),
            "mlflow_store": MlflowResource(tracking_uri=tracking_uri),
        },
        run_config={"ops": {GATE: days, "marts__customer_scores": days}},
        raise_on_error=False,
    )


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def materialized(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def scores_of(warehouse, day: date) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select count(*) from marts.customer_scores where score_date = ?", [day]
        ).fetchone()[0]


def test_drift_gate_passes_the_demo_day_and_blocks_a_shifted_top_feature(demo_copy, monkeypatch):
    warehouse, tracking_uri, day = demo_copy
    version, reference = load_drift_reference(tracking_uri, "churn")
    assert reference is not None, "the champion was trained without a drift reference"
    ranked = sorted(reference["importances"].items(), key=lambda kv: -kv[1])
    top_feature = next(f for f, _ in ranked if reference["features"][f]["kind"] == "numeric")

    # The day as built: the gate passes, its tables are on the asset, the day is scored.
    result = score_day(warehouse, tracking_uri, day)
    assert result.success
    gate = materialized(result)[GATE]
    assert checks(result)[BLOCK_CHECK].passed
    assert gate["status"] in ("ok", "warn")
    assert isinstance(gate["max_psi"], float)
    assert gate["churn_champion_version"] == version
    assert f"| {top_feature} | numeric |" in gate["churn_psi_table"]
    assert materialized(result)[SCORES]["dagster/row_count"] == scores_of(warehouse, day) > 0

    # A unit change upstream: the top feature ×5 for the customers of the scored day.
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            f"update marts.customer_features set {top_feature} = {top_feature} * 5 "
            "where snapshot_date = ? and is_customer_at_snapshot",
            [day],
        )
        con.execute("delete from marts.customer_scores where score_date = ?", [day])

    result = score_day(warehouse, tracking_uri, day)
    assert not result.success
    blocked = checks(result)[BLOCK_CHECK]
    assert not blocked.passed and blocked.severity == dg.AssetCheckSeverity.ERROR
    reason = blocked.metadata["blocked_by"].value
    assert reason.startswith(f"churn v{version}, snapshot {day}: {top_feature} PSI ")
    assert "> 0.25 (importance rank 1, AUC drop " in reason and "sampling noise" in reason
    assert not checks(result)[WARN_CHECK].passed
    gate = materialized(result)[GATE]
    assert gate["status"] == "block" and gate["max_psi"] > 0.25
    assert f"| {top_feature} | numeric |" in gate["churn_psi_table"]
    assert "BLOCK" in gate["churn_psi_table"]
    # Scoring did not run: no materialization, no rows for the day.
    assert SCORES not in materialized(result)
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == [GATE]
    # What `journey score` prints: the feature, its PSI, the threshold, what to do.
    message = failed[0].event_specific_data.error.message
    assert f"drift gate blocked scoring: churn v{version}, snapshot {day}: {top_feature}" in message
    assert "JOURNEY_DRIFT_BLOCK=false" in message
    assert scores_of(warehouse, day) == 0

    # An operator who knows the cause scores anyway: the block becomes a warning.
    monkeypatch.setenv("JOURNEY_DRIFT_BLOCK", "false")
    result = score_day(warehouse, tracking_uri, day)
    assert result.success
    warned = checks(result)[BLOCK_CHECK]
    assert not warned.passed and warned.severity == dg.AssetCheckSeverity.WARN
    assert scores_of(warehouse, day) > 0
