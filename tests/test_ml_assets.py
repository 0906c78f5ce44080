"""The Dagster model and scoring assets on data that cannot (yet) support a model: a user's
first month of exports has no closed label windows. The run stays green, says why nothing
was trained, scores what it can and still publishes the serving copy."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.ml.assets import ml_assets
from orchestration.ml.resources import MlflowResource
from orchestration.resources import WarehouseResource
from orchestration.serve.assets import serving_database
from orchestration.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SCORE_DAY = date(2026, 2, 1)


def feature_rows(*, leads: int, customers: int, label_leads: bool, seed: int = 0) -> pd.DataFrame:
    """Weekly snapshots shaped like marts.customer_features (the columns the assets read).
    Churn labels are never set (no 30-day window closed); purchase labels only if asked,
    driven by pricing-page views."""
    rng = np.random.default_rng(seed)
    days = [SCORE_DAY - timedelta(days=7 * k) for k in range(5, -1, -1)]
    rows = []
    for day in days:
        for i in range(leads + customers):
            is_customer = i >= leads
            views = int(rng.poisson(2))
            closed = day <= SCORE_DAY - timedelta(days=14)
            purchased = None
            if label_leads and not is_customer and closed:
                purchased = bool(rng.random() < 1 / (1 + np.exp(3 - 1.2 * views)))
            rows.append(
                {
                    "customer_snapshot_id": f"c{i}-{day}",
                    "customer_id": f"c{i}",
                    "snapshot_date": day,
                    "feature_cutoff_at": pd.Timestamp(day, tz="UTC"),
                    "sessions_last_30d": int(rng.poisson(5)),
                    "pricing_page_views_last_30d": views,
                    "paid_orders_to_date": 1 if is_customer else 0,
                    "is_customer_at_snapshot": is_customer,
                    "plan": "pro" if is_customer else None,
                    # what ml.ltv values a customer with
                    "mrr": 99.0 if is_customer else None,
                    "segment": "smb",
                    "tenure_days": 30 if is_customer else None,
                    "churned_within_30d": None,
                    "churn_label_window_end": day + timedelta(days=30),
                    "purchased_within_14d": purchased,
                    "purchase_label_window_end": day + timedelta(days=14),
                }
            )
    return pd.DataFrame(rows)


def build_marts(settings: Settings, features: pd.DataFrame | None) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts")
        if features is not None:
            con.register("features", features)
            con.execute(
                "create table marts.customer_features as select * replace ("
                "cast(churned_within_30d as boolean) as churned_within_30d, "
                "cast(purchased_within_14d as boolean) as purchased_within_14d) from features"
            )
            con.execute(
                "create table marts.dim_customers as select distinct customer_id, "
                "true as marketing_consent from features"
            )


def materialize(settings: Settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ml_assets(), serving_database],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
            "mlflow_store": MlflowResource(tracking_uri=settings.mlflow_tracking_uri),
        },
        run_config={"ops": {"marts__customer_scores": {"config": {"last_day": str(SCORE_DAY)}}}},
        raise_on_error=False,
    )


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], object]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def serving_counts(settings: Settings) -> dict[str, int]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
        return {t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for (t,) in tables}


@pytest.mark.parametrize("case", ["no labels", "empty feature table"])
def test_no_labels_skips_training_warns_and_still_publishes(journey_env, case):
    rows = feature_rows(leads=30, customers=20, label_leads=False)
    build_marts(journey_env, rows if case == "no labels" else rows.head(0))

    result = materialize(journey_env)

    assert result.success
    meta = materializations(result)
    for model, window in (("churn", 30), ("purchase_propensity", 14)):
        trained = meta[f"{model}_model"]
        assert trained["training_skipped"] is True
        assert trained["skip_reason"] == (
            f"{model}: 0 labelled rows with a closed {window}-day window (need ≥ 200); "
            "training skipped"
        )
        assert trained["champion_version"] == "none"
        auc = checks(result)[(f"{model}_model", "auc_above_floor")]
        assert not auc.passed and auc.severity == dg.AssetCheckSeverity.WARN
        assert checks(result)[(f"{model}_model", "no_label_leakage")].passed
    scores = meta["marts/customer_scores"]
    assert scores["dagster/row_count"] == 0
    assert "no `churn@champion`" in scores["skip_reason"]
    assert "no `purchase_propensity@champion`" in scores["skip_reason"]
    assert checks(result)[("marts/customer_scores", "every_eligible_customer_scored_once")].passed
    counts = serving_counts(journey_env)
    assert counts["customer_scores"] == 0
    assert counts["customer_features"] == (len(rows) if case == "no labels" else 0)


def test_one_model_trains_the_other_is_skipped_and_only_its_population_scored(
    journey_env, monkeypatch
):
    monkeypatch.setenv("JOURNEY_AUC_FLOOR", "0.55")
    build_marts(journey_env, feature_rows(leads=400, customers=60, label_leads=True))

    result = materialize(journey_env)

    assert result.success
    meta = materializations(result)
    assert meta["churn_model"]["training_skipped"] is True
    assert "training_skipped" not in meta["purchase_propensity_model"]
    assert meta["purchase_propensity_model"]["promoted"] is True
    assert "roc_plot" in meta["purchase_propensity_model"]  # from the run's own bytes
    scores = meta["marts/customer_scores"]
    assert scores["leads_scored"] == scores["dagster/row_count"] == 400
    assert scores["churn_scored"] == 0
    assert scores["churn_model_version"] == "none (not scored)"
    assert scores["skip_reason"].startswith("churn: no `churn@champion`")
    assert all(
        e.passed
        for (key, _), e in checks(result).items()
        if key == "marts/customer_scores" and e.check_name != "scores_not_degenerate"
    )
    assert serving_counts(journey_env)["customer_scores"] == 400


def test_a_missing_feature_table_still_fails(journey_env):
    build_marts(journey_env, None)

    result = materialize(journey_env)

    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures
    assert all(
        "customer_features does not exist" in e.event_specific_data.error.to_string()
        for e in failures
    )
