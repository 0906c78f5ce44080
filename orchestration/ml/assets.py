"""Thin Dagster assets around the `ml` library: train + register, then score daily."""


import base64
import tempfile
import time
from datetime import date
from pathlib import Path

import dagster as dg
import mlflow
import pandas as pd

from ml import score_frame
from ml.actions import next_best_actions
from ml.tracking import champion_version, client_for, load_champion, train_and_register
from orchestration.ingest.assets import WAREHOUSE_POOL, daily_partitions
from orchestration.ml.resources import MlflowResource
from orchestration.ml.specs import (
    CHURN,
    FEATURES_TABLE,
    ID_COLUMNS,
    MODEL_SPECS,
    PURCHASE_PROPENSITY,
    TIME_COLUMN,
    ModelSpec,
)
from orchestration.resources import WarehouseResource

ML_GROUP = "ml"
SCORES_GROUP = "scores"
AUC_FLOOR = 0.70
FEATURES_KEY = dg.AssetKey(["marts", "customer_features"])
CUSTOMERS_KEY = dg.AssetKey(["marts", "dim_customers"])
SCORES_TABLE = "marts.customer_scores"

SCORES_DDL = f"""
create table if not exists {SCORES_TABLE} (
    customer_id varchar not null,
    score_date date not null,
    feature_snapshot_date date not null,
    churn_probability double,
    churn_risk_band varchar,
    purchase_propensity double,
    propensity_band varchar,
    churn_model_version varchar,
    propensity_model_version varchar,
    top_reasons varchar,
    next_best_action varchar not null,
    scored_at timestamptz not null
)
"""


def _png_markdown(title: str, png: bytes) -> str:
    return f"**{title}**\n\n![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"


def _plot_metadata(run_id: str, plot_paths: dict[str, str], tracking_uri: str) -> dict:
    """ROC and calibration plots of the run, embedded so the asset page shows them."""
    metadata = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("roc", "calibration"):
            artifact = plot_paths.get(name)
            if artifact is None:
                continue
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=artifact, dst_path=tmp, tracking_uri=tracking_uri
            )
            metadata[f"{name}_plot"] = dg.MetadataValue.md(
                _png_markdown(
                    name.upper() if name == "roc" else name.title(), Path(local).read_bytes()
                )
            )
    return metadata


def read_training_frame(con, spec: ModelSpec) -> tuple[pd.DataFrame, date]:
    """Labelled rows of the model's population, and the training date (latest snapshot)."""
    (training_date,) = con.execute(f"select max({TIME_COLUMN}) from {FEATURES_TABLE}").fetchone()
    frame = con.execute(
        f"select * from {FEATURES_TABLE} where ({spec.population}) and {spec.label} is not null"
    ).df()
    return frame, training_date


def build_model_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey([spec.asset_name])
    checks = [
        dg.AssetCheckSpec(
            "auc_above_floor",
            asset=key,
            blocking=True,
            description=f"Validation ROC AUC is at least {AUC_FLOOR}.",
        ),
        dg.AssetCheckSpec(
            "no_label_leakage",
            asset=key,
            blocking=True,
            description="Every training label window closed on or before the training date.",
        ),
        dg.AssetCheckSpec(
            "enough_positives",
            asset=key,
            description=f"At least {spec.min_positives} positive labels to learn from.",
        ),
    ]

    @dg.asset(
        key=key,
        deps=[FEATURES_KEY],
        group_name=ML_GROUP,
        kinds={"scikit-learn", "mlflow"},
        check_specs=checks,
        tags={"model": spec.model_name},
        owners=["team:data-science"],
        description=(
            f"`{spec.model_name}` classifier trained on point-in-time snapshots of "
            f"`{FEATURES_TABLE}` (population: `{spec.population}`, label `{spec.label}`), "
            f"tracked in MLflow experiment `{spec.experiment_name}` and registered as "
            f"`{spec.model_name}`; promoted to `@champion` only if it is at least as good."
        ),
    )
    def _train(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        mlflow_store: MlflowResource,
    ):
        with warehouse.connect(read_only=True) as con:
            frame, training_date = read_training_frame(con, spec)
        context.log.info(
            f"{spec.model_name}: {len(frame):,} labelled snapshots up to {training_date}"
        )
        result = train_and_register(
            frame,
            spec.label,
            spec.model_name,
            tracking_uri=mlflow_store.tracking_uri,
            experiment_name=spec.experiment_name,
            time_column=TIME_COLUMN,
            id_columns=ID_COLUMNS,
            exclude_columns=spec.excluded_columns,
            label_end_column=spec.label_end_column,
            floor=AUC_FLOOR,
            tags={"training_date": str(training_date), "trigger": context.run.run_id},
        )
        metrics = result.metrics
        experiment_id = (
            client_for(mlflow_store.tracking_uri).get_run(result.run_id).info.experiment_id
        )
        positives = int(frame[spec.label].astype(bool).sum())
        latest_label_end = pd.to_datetime(frame[spec.label_end_column]).max().date()
        yield dg.MaterializeResult(
            metadata={
                "training_date": str(training_date),
                "training_rows": len(frame),
                "positives": positives,
                "model_family": result.training.model_family,
                "validation_roc_auc": float(metrics["roc_auc"]),
                "validation_pr_auc": float(metrics.get("pr_auc", float("nan"))),
                "validation_brier": float(metrics.get("brier", float("nan"))),
                "model_version": result.model_version,
                "promoted": result.promoted,
                "promotion_reason": result.decision.reason,
                "champion_auc_before": (
                    float(result.decision.champion_auc)
                    if result.decision.champion_auc is not None
                    else None
                ),
                "mlflow_run": dg.MetadataValue.url(
                    mlflow_store.run_url(experiment_id, result.run_id)
                ),
                "mlflow_model_version": dg.MetadataValue.url(
                    mlflow_store.model_url(spec.model_name, result.model_version)
                ),
                **_plot_metadata(result.run_id, result.plot_paths, mlflow_store.tracking_uri),
            }
        )
        yield dg.AssetCheckResult(
            check_name="auc_above_floor",
            passed=bool(metrics["roc_auc"] >= AUC_FLOOR),
            metadata={"validation_roc_auc": float(metrics["roc_auc"]), "floor": AUC_FLOOR},
        )
        yield dg.AssetCheckResult(
            check_name="no_label_leakage",
            passed=bool(latest_label_end <= training_date),
            metadata={
                "latest_label_window_end": str(latest_label_end),
                "training_date": str(training_date),
            },
        )
        yield dg.AssetCheckResult(
            check_name="enough_positives",
            passed=positives >= spec.min_positives,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"positives": positives, "minimum": spec.min_positives},
        )

    return _train


def _score_population(
    con, spec: ModelSpec, snapshot: date, tracking_uri: str
) -> tuple[pd.DataFrame, str]:
    frame = con.execute(
        f"select * from {FEATURES_TABLE} where {TIME_COLUMN} = ? and ({spec.population})",
        [snapshot],
    ).df()
    version = champion_version(tracking_uri, spec.model_name)
    if version is None:
        raise dg.Failure(
            f"No `{spec.model_name}@champion` in the MLflow registry at {tracking_uri}: "
            f"materialize `{spec.asset_name}` first."
        )
    pipeline = load_champion(spec.model_name, tracking_uri)
    scored = score_frame(pipeline, frame, id_columns=ID_COLUMNS, thresholds=spec.bands)
    reasons = [c for c in scored.columns if c.startswith("reason_")]
    scored["top_reasons"] = scored[reasons].apply(
        lambda row: "; ".join(v for v in row if isinstance(v, str) and v), axis=1
    )
    scored["plan"] = frame["plan"].to_numpy()
    return scored[["customer_id", "probability", "risk_band", "top_reasons", "plan"]], str(
        version.version
    )


def score_snapshot(con, score_day: date, tracking_uri: str) -> pd.DataFrame:
    """One row per eligible customer: paying customers get a churn score, leads a propensity."""
    (snapshot,) = con.execute(
        f"select max({TIME_COLUMN}) from {FEATURES_TABLE} where {TIME_COLUMN} <= ?", [score_day]
    ).fetchone()
    if snapshot is None:
        raise dg.Failure(f"{FEATURES_TABLE} has no snapshot on or before {score_day}.")
    churn, churn_version = _score_population(con, CHURN, snapshot, tracking_uri)
    leads, lead_version = _score_population(con, PURCHASE_PROPENSITY, snapshot, tracking_uri)
    churn = churn.rename(
        columns={"probability": "churn_probability", "risk_band": "churn_risk_band"}
    ).assign(churn_model_version=churn_version)
    leads = leads.rename(
        columns={"probability": "purchase_propensity", "risk_band": "propensity_band"}
    ).assign(propensity_model_version=lead_version)
    scores = pd.concat([churn, leads], ignore_index=True)
    consent = con.execute("select customer_id, marketing_consent from marts.dim_customers").df()
    scores = scores.merge(consent, on="customer_id", how="left", validate="many_to_one")
    scores["next_best_action"] = next_best_actions(scores)
    scores["score_date"] = score_day
    scores["feature_snapshot_date"] = snapshot
    return scores


def write_scores(con, scores: pd.DataFrame, score_day: date) -> None:
    """Replace the day's rows in one transaction: re-running a day never duplicates."""
    con.execute("create schema if not exists marts")
    con.execute(SCORES_DDL)
    columns = [
        "customer_id", "score_date", "feature_snapshot_date", "churn_probability",
        "churn_risk_band", "purchase_propensity", "propensity_band", "churn_model_version",
        "propensity_model_version", "top_reasons", "next_best_action",
    ]  # fmt: skip
    batch = scores.reindex(columns=columns)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {SCORES_TABLE} where score_date = ?", [score_day])
        con.register("scores_batch", batch)
        con.execute(
            f"insert into {SCORES_TABLE} select {', '.join(columns)}, now() from scores_batch"
        )
        con.unregister("scores_batch")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


@dg.asset(
    key=dg.AssetKey(["marts", "customer_scores"]),
    deps=[dg.AssetKey([s.asset_name]) for s in MODEL_SPECS] + [FEATURES_KEY, CUSTOMERS_KEY],
    partitions_def=daily_partitions(),
    pool=WAREHOUSE_POOL,
    group_name=SCORES_GROUP,
    kinds={"duckdb", "mlflow"},
    owners=["team:data-science"],
    description=(
        "Daily scores in `marts.customer_scores`: churn probability for paying customers, "
        "purchase propensity for leads, risk bands, top-3 reasons and the next best action, "
        "from the `@champion` models and the day's feature snapshot (latest on or before)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "every_eligible_customer_scored_once", asset=["marts", "customer_scores"], blocking=True
        ),
        dg.AssetCheckSpec(
            "probabilities_within_unit_interval", asset=["marts", "customer_scores"], blocking=True
        ),
        dg.AssetCheckSpec("scores_not_degenerate", asset=["marts", "customer_scores"]),
    ],
)
def customer_scores(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mlflow_store: MlflowResource
):
    score_day = date.fromisoformat(context.partition_key)
    started = time.perf_counter()
    with warehouse.connect() as con:
        scores = score_snapshot(con, score_day, mlflow_store.tracking_uri)
        seconds = time.perf_counter() - started
        write_scores(con, scores, score_day)
        eligible_sql = (
            f"select count(*) from {FEATURES_TABLE} where {TIME_COLUMN} = ? "
            f"and (({CHURN.population}) or ({PURCHASE_PROPENSITY.population}))"
        )
        (eligible,) = con.execute(
            eligible_sql, [scores["feature_snapshot_date"].iloc[0]]
        ).fetchone()
        written, distinct, out_of_range = con.execute(
            f"""
            select count(*), count(distinct customer_id),
                   count(*) filter (where churn_probability not between 0 and 1
                                     or purchase_propensity not between 0 and 1)
            from {SCORES_TABLE} where score_date = ?
            """,
            [score_day],
        ).fetchone()
    probabilities = pd.concat([scores["churn_probability"], scores["purchase_propensity"]]).dropna()
    spread = float(probabilities.std()) if len(probabilities) > 1 else 0.0
    bands = pd.concat([scores["churn_risk_band"], scores["propensity_band"]]).value_counts()
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": int(written),
            "feature_snapshot_date": str(scores["feature_snapshot_date"].iloc[0]),
            "churn_scored": int(scores["churn_probability"].notna().sum()),
            "leads_scored": int(scores["purchase_propensity"].notna().sum()),
            "churn_model_version": str(scores["churn_model_version"].dropna().iloc[0]),
            "propensity_model_version": str(scores["propensity_model_version"].dropna().iloc[0]),
            "mean_churn_probability": float(scores["churn_probability"].mean()),
            "mean_purchase_propensity": float(scores["purchase_propensity"].mean()),
            "scoring_customers_per_second": round(len(scores) / max(seconds, 1e-9), 1),
            "bands": dg.MetadataValue.json({str(k): int(v) for k, v in bands.items()}),
            "next_best_actions": dg.MetadataValue.json(
                {str(k): int(v) for k, v in scores["next_best_action"].value_counts().items()}
            ),
        }
    )
    yield dg.AssetCheckResult(
        check_name="every_eligible_customer_scored_once",
        passed=bool(written == distinct == eligible),
        metadata={
            "rows": int(written),
            "distinct_customers": int(distinct),
            "eligible": int(eligible),
        },
    )
    yield dg.AssetCheckResult(
        check_name="probabilities_within_unit_interval",
        passed=bool(out_of_range == 0),
        metadata={"out_of_range": int(out_of_range)},
    )
    yield dg.AssetCheckResult(
        check_name="scores_not_degenerate",
        passed=bool(spread > 0.01 and len(bands) >= 2),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"probability_std": spread, "bands_used": len(bands)},
    )


def ml_assets() -> list[dg.AssetsDefinition]:
    return [*(build_model_asset(spec) for spec in MODEL_SPECS), customer_scores]
