"""Thin Dagster assets around the `ml` library: train + register, then score daily."""

import os
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg
import pandas as pd

from ml.actions import apply_holdouts, holdout_share, next_best_actions
from ml.ltv import predicted_ltv
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
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from orchestration.transform.metadata import png_markdown

ML_GROUP = "ml"
SCORES_GROUP = "scores"
DEFAULT_AUC_FLOOR = 0.70
# MLflow tag naming the Dagster run that trained the model.
DAGSTER_RUN_TAG = "dagster_run_id"


def auc_floor() -> float:
    """The validation ROC AUC a model must reach to be promoted and to pass its check.

    JOURNEY_AUC_FLOOR overrides it, e.g. for a tiny demo that cannot carry enough signal.
    """
    return float(os.environ.get("JOURNEY_AUC_FLOOR", DEFAULT_AUC_FLOOR))


FEATURES_KEY = dg.AssetKey(["marts", "customer_features"])
CUSTOMERS_KEY = dg.AssetKey(["marts", "dim_customers"])
SCORES_TABLE = "marts.customer_scores"
# Upstream of scoring: a blocking check stops the run when the scored population drifted
# away from the training window (orchestration/ml/drift_gate.py).
DRIFT_GATE_KEY = dg.AssetKey(["score_drift_gate"])

# What scoring one population yields, before the next best action and the dates.
SCORE_COLUMNS = [
    "customer_id", "churn_probability", "churn_risk_band", "purchase_propensity",
    "propensity_band", "churn_model_version", "propensity_model_version", "top_reasons", "plan",
]  # fmt: skip

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
    scored_at timestamptz not null,
    intended_action varchar,
    is_holdout boolean,
    predicted_ltv_12m double
)
"""
# Columns added after the table first shipped: an existing warehouse gains them in place
# (old rows keep null). dbt's on-run-start (macros/scores.sql) creates/evolves the same table.
SCORES_ADDED_COLUMNS = {
    "intended_action": "varchar",
    "is_holdout": "boolean",
    "predicted_ltv_12m": "double",
}


def _plot_metadata(plot_images: dict[str, bytes]) -> dict:
    """ROC and calibration plots of the run, embedded so the asset page shows them (the
    bytes the run logged: nothing is downloaded back from MLflow)."""
    return {
        f"{name}_plot": png_markdown(name.upper() if name == "roc" else name.title(), image)
        for name, image in plot_images.items()
        if name in ("roc", "calibration")
    }


def read_features(con, where: str, params: list | None = None) -> pd.DataFrame:
    """Rows of the feature table in key order; integer counts come back as floats so that a
    missing value in a later batch never contradicts the model signature logged to MLflow.

    Ordered because dbt stores the table in a different physical order on every build, and
    the same rows must give the same model, scores and MLflow data sets (ml/ also sorts).
    """
    order = ", ".join([TIME_COLUMN, *ID_COLUMNS])
    frame = con.execute(
        f"select * from {FEATURES_TABLE} where {where} order by {order}", params or []
    ).df()
    integers = [c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])]
    return frame.astype({c: "float64" for c in integers})


def read_training_frame(con, spec: ModelSpec) -> tuple[pd.DataFrame, date]:
    """Labelled rows of the model's population, and the training date (latest snapshot)."""
    (training_date,) = con.execute(f"select max({TIME_COLUMN}) from {FEATURES_TABLE}").fetchone()
    frame = read_features(con, f"({spec.population}) and {spec.label} is not null")
    return frame, training_date


def max_tuning_rows() -> int | None:
    """Rows hyper-parameters are tuned on (ml.train.MAX_TUNING_ROWS unless
    JOURNEY_MAX_TUNING_ROWS; 0 tunes on every training row)."""
    value = os.environ.get("JOURNEY_MAX_TUNING_ROWS")
    if value is None:
        from ml.train import MAX_TUNING_ROWS

        return MAX_TUNING_ROWS
    return int(value) or None


def _training_skipped(
    context: dg.AssetExecutionContext,
    spec: ModelSpec,
    frame: pd.DataFrame,
    training_date: date | None,
    problem: str,
    floor: float,
    tracking_uri: str,
):
    """Materialize without a model: the data cannot support one yet (e.g. a month of exports
    whose 30-day churn windows have not closed). The checks warn instead of failing the run,
    and scoring keeps the current `@champion`, if there is one."""
    from ml.tracking import champion_version

    reason = f"{spec.model_name}: {problem}; training skipped"
    context.log.warning(reason)
    champion = champion_version(tracking_uri, spec.model_name)
    positives = int(frame[spec.label].astype(bool).sum())
    yield dg.MaterializeResult(
        metadata={
            "training_skipped": True,
            "skip_reason": dg.MetadataValue.text(reason),
            "training_date": str(training_date),
            "training_rows": len(frame),
            "positives": positives,
            "minimum_labelled_rows": spec.min_labelled_rows,
            "minimum_positives": spec.min_positives,
            "champion_version": str(champion.version) if champion is not None else "none",
        }
    )
    skipped = {"skipped": True, "skip_reason": dg.MetadataValue.text(reason)}
    # Nothing was trained, so there is no AUC to hold to the floor: a warning, not an error
    # (a WARN failure does not block the downstream scoring).
    yield dg.AssetCheckResult(
        check_name="auc_above_floor",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**skipped, "floor": floor},
    )
    yield dg.AssetCheckResult(
        check_name="no_label_leakage", passed=True, metadata=skipped
    )  # no model, so no label could leak into one
    yield dg.AssetCheckResult(
        check_name="enough_positives",
        passed=positives >= spec.min_positives,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={**skipped, "positives": positives, "minimum": spec.min_positives},
    )


def build_model_asset(spec: ModelSpec) -> dg.AssetsDefinition:
    key = dg.AssetKey([spec.asset_name])
    checks = [
        dg.AssetCheckSpec(
            "auc_above_floor",
            asset=key,
            blocking=True,
            description=(
                "Validation ROC AUC is at least the floor (0.70 unless JOURNEY_AUC_FLOOR); "
                "a warning when training was skipped for lack of labelled data."
            ),
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
            description=(
                f"At least {spec.min_positives} labels of each class among at least "
                f"{spec.min_labelled_rows} labelled rows; below that training is skipped."
            ),
        ),
    ]

    @dg.asset(
        key=key,
        deps=[FEATURES_KEY],
        group_name=ML_GROUP,
        # Even reading needs the pool: DuckDB refuses a reader while another process writes.
        pool=WAREHOUSE_POOL,
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
        # MLflow and skops take seconds to import: only steps that train pay for them.
        from ml.tracking import client_for, train_and_register
        from ml.train import InsufficientTrainingData, training_data_problem

        floor = auc_floor()
        with warehouse.connect(read_only=True) as con:
            frame, training_date = read_training_frame(con, spec)
        context.log.info(
            f"{spec.model_name}: {len(frame):,} labelled snapshots up to {training_date}"
        )
        problem = training_data_problem(
            frame[spec.label],
            min_rows=spec.min_labelled_rows,
            min_positives=spec.min_positives,
            rows_described=f"labelled rows with a closed {spec.label_window_days}-day window",
        )
        result = None
        if problem is None:
            try:
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
                    floor=floor,
                    tags={
                        "training_date": str(training_date),
                        # The Dagster run that trained it: how the next `journey` command
                        # finds and closes the MLflow run of a killed training (pipeline.py).
                        DAGSTER_RUN_TAG: context.run.run_id,
                    },
                    max_tuning_rows=max_tuning_rows(),
                )
            except InsufficientTrainingData as error:  # e.g. one class in the validation part
                problem = str(error)
        if result is None:
            yield from _training_skipped(
                context, spec, frame, training_date, problem, floor, mlflow_store.tracking_uri
            )
            return
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
                **_plot_metadata(result.plot_images),
            }
        )
        yield dg.AssetCheckResult(
            check_name="auc_above_floor",
            passed=bool(metrics["roc_auc"] >= floor),
            metadata={"validation_roc_auc": float(metrics["roc_auc"]), "floor": floor},
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


@dataclass(frozen=True)
class Champion:
    spec: ModelSpec
    version: str
    pipeline: Any


def load_champions(tracking_uri: str) -> dict[str, Champion]:
    """The `@champion` models that exist, loaded once per run (a backfill scores many days
    with them). A model without a champion (never trained on enough data, or never good
    enough to promote) is left out: its population is not scored."""
    from ml.tracking import champion_version, load_champion

    champions = {}
    for spec in (CHURN, PURCHASE_PROPENSITY):
        version = champion_version(tracking_uri, spec.model_name)
        if version is not None:
            pipeline = load_champion(spec.model_name, tracking_uri)
            champions[spec.model_name] = Champion(spec, str(version.version), pipeline)
    return champions


def no_champion_reason(spec: ModelSpec, tracking_uri: str) -> str:
    return (
        f"{spec.model_name}: no `{spec.model_name}@champion` in the MLflow registry at "
        f"{tracking_uri} (`{spec.asset_name}` has not trained a model that cleared the floor); "
        f"scoring skipped"
    )


def _score_population(con, champion: Champion, snapshot: date) -> pd.DataFrame:
    from ml import score_frame  # scikit-learn: loaded by runs, not by the code location

    spec = champion.spec
    frame = read_features(con, f"{TIME_COLUMN} = ? and ({spec.population})", [snapshot])
    scored = score_frame(champion.pipeline, frame, id_columns=ID_COLUMNS, thresholds=spec.bands)
    reasons = [c for c in scored.columns if c.startswith("reason_")]
    scored["top_reasons"] = [
        "; ".join(v for v in row if isinstance(v, str) and v)
        for row in scored[reasons].itertuples(index=False)
    ]
    # plan, plus what ml.ltv values a customer with (mrr; segment and tenure for leads).
    for column in ("plan", "mrr", "segment", "tenure_days"):
        scored[column] = frame[column].to_numpy()
    return scored[
        ["customer_id", "probability", "risk_band", "top_reasons", "plan", "mrr", "segment",
         "tenure_days"]
    ]  # fmt: skip


def read_consent(con) -> pd.DataFrame:
    return con.execute("select customer_id, marketing_consent from marts.dim_customers").df()


def score_snapshot(
    con, score_day: date, champions: dict[str, Champion], consent: pd.DataFrame
) -> tuple[pd.DataFrame, date | None]:
    """One row per eligible customer whose model has a champion: paying customers get a
    churn score, leads a propensity; and the feature snapshot used (None: no snapshot on or
    before the day, so nothing to score). `consent` is `read_consent(con)`, read once per run
    (dim_customers is not per day)."""
    (snapshot,) = con.execute(
        f"select max({TIME_COLUMN}) from {FEATURES_TABLE} where {TIME_COLUMN} <= ?", [score_day]
    ).fetchone()
    parts = []
    if snapshot is not None and CHURN.model_name in champions:
        churn_model = champions[CHURN.model_name]
        parts.append(
            _score_population(con, churn_model, snapshot)
            .rename(columns={"probability": "churn_probability", "risk_band": "churn_risk_band"})
            .assign(churn_model_version=churn_model.version)
        )
    if snapshot is not None and PURCHASE_PROPENSITY.model_name in champions:
        lead_model = champions[PURCHASE_PROPENSITY.model_name]
        parts.append(
            _score_population(con, lead_model, snapshot)
            .rename(columns={"probability": "purchase_propensity", "risk_band": "propensity_band"})
            .assign(propensity_model_version=lead_model.version)
        )
    scores = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    scores = scores.reindex(columns=[*SCORE_COLUMNS, *scores.columns.difference(SCORE_COLUMNS)])
    if parts:
        scores = scores.merge(consent, on="customer_id", how="left", validate="many_to_one")
        actions = next_best_actions(scores)
        share = holdout_share(os.environ.get("JOURNEY_HOLDOUT_SHARE"))
        scores[["next_best_action", "intended_action", "is_holdout"]] = apply_holdouts(
            scores["customer_id"], actions, share
        )
    else:
        scores = scores.assign(
            marketing_consent=None, next_best_action=None, intended_action=None, is_holdout=None
        )
    scores["predicted_ltv_12m"] = predicted_ltv(scores) if parts else None
    scores["score_date"] = score_day
    scores["feature_snapshot_date"] = snapshot
    return scores, snapshot


def write_scores(con, scores: pd.DataFrame, score_day: date) -> None:
    """Replace the day's rows in one transaction: re-running a day never duplicates."""
    con.execute("create schema if not exists marts")
    con.execute(SCORES_DDL)
    for column, column_type in SCORES_ADDED_COLUMNS.items():
        con.execute(f"alter table {SCORES_TABLE} add column if not exists {column} {column_type}")
    columns = [
        "customer_id", "score_date", "feature_snapshot_date", "churn_probability",
        "churn_risk_band", "purchase_propensity", "propensity_band", "churn_model_version",
        "propensity_model_version", "top_reasons", "next_best_action", "intended_action",
        "is_holdout", "predicted_ltv_12m",
    ]  # fmt: skip
    batch = scores.reindex(columns=columns)
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {SCORES_TABLE} where score_date = ?", [score_day])
        con.register("scores_batch", batch)
        con.execute(
            # By name: evolved tables have the added columns after scored_at.
            f"insert into {SCORES_TABLE} ({', '.join(columns)}, scored_at) "
            f"select {', '.join(columns)}, now() from scores_batch"
        )
        con.unregister("scores_batch")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


class ScoreConfig(dg.Config):
    """The days to score (`journey score --from/--to`); by default the latest day with a
    feature snapshot, i.e. the last day of data."""

    first_day: str | None = None
    last_day: str | None = None


def score_days(con, config: ScoreConfig) -> list[date]:
    if config.last_day:
        last = date.fromisoformat(config.last_day)
    else:
        (last,) = con.execute(f"select max({TIME_COLUMN}) from {FEATURES_TABLE}").fetchone()
        if last is None:
            return []
    first = date.fromisoformat(config.first_day) if config.first_day else last
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@dg.asset(
    key=dg.AssetKey(["marts", "customer_scores"]),
    deps=[dg.AssetKey([s.asset_name]) for s in MODEL_SPECS]
    + [FEATURES_KEY, CUSTOMERS_KEY, DRIFT_GATE_KEY],
    pool=WAREHOUSE_POOL,
    group_name=SCORES_GROUP,
    kinds={"duckdb", "mlflow"},
    owners=["team:data-science"],
    description=(
        "Daily scores in `marts.customer_scores`: churn probability for paying customers, "
        "purchase propensity for leads, risk bands, top-3 reasons, the next best action and "
        "the predicted 12-month value (`predicted_ltv_12m`, ml/ltv.py), "
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
    context: dg.AssetExecutionContext,
    config: ScoreConfig,
    warehouse: WarehouseResource,
    mlflow_store: MlflowResource,
):
    champions = load_champions(mlflow_store.tracking_uri)
    skipped = [
        no_champion_reason(spec, mlflow_store.tracking_uri)
        for spec in (CHURN, PURCHASE_PROPENSITY)
        if spec.model_name not in champions
    ]
    for reason in skipped:
        context.log.warning(reason)
    # Eligible = the populations that have a model to score them.
    populations = " or ".join(f"({c.spec.population})" for c in champions.values()) or "false"
    eligible_sql = (
        f"select count(*) from {FEATURES_TABLE} where {TIME_COLUMN} = ? and ({populations})"
    )
    stats_sql = f"""
        select count(*), count(distinct customer_id),
               count(*) filter (where churn_probability not between 0 and 1
                                 or purchase_propensity not between 0 and 1)
        from {SCORES_TABLE} where score_date = ?
    """
    coverage_failures, out_of_range_total, scored_total = [], 0, 0
    started = time.perf_counter()
    # Each day is replaced on its own; the materialization describes the last one.
    day_metadata: dict[str, Any] = {"dagster/row_count": 0, "skip_reason": "no feature snapshot"}
    scores = pd.DataFrame(columns=list(SCORE_COLUMNS))
    with warehouse.connect() as con:
        consent = read_consent(con)
        days = score_days(con, config)
        for score_day in days:
            scores, snapshot = score_snapshot(con, score_day, champions, consent)
            # Even with nothing to score the day is replaced (by no rows) and the table
            # exists, so BI tools and the serving copy always find marts.customer_scores.
            write_scores(con, scores, score_day)
            reasons = list(skipped)
            eligible = 0
            if snapshot is None:
                reasons.append(f"{FEATURES_TABLE} has no snapshot on or before {score_day}")
            else:
                (eligible,) = con.execute(eligible_sql, [snapshot]).fetchone()
            written, distinct, out_of_range = con.execute(stats_sql, [score_day]).fetchone()
            if not written == distinct == eligible:
                coverage_failures.append(
                    f"{score_day}: {written} rows, {distinct} customers, {eligible} eligible"
                )
            out_of_range_total += out_of_range
            scored_total += written
            day_metadata = _day_metadata(scores, written, snapshot, reasons)
    seconds = time.perf_counter() - started
    probabilities = pd.concat([scores["churn_probability"], scores["purchase_propensity"]]).dropna()
    spread = float(probabilities.std()) if len(probabilities) > 1 else 0.0
    bands = pd.concat([scores["churn_risk_band"], scores["propensity_band"]]).value_counts()
    context.log.info(
        f"scored {scored_total:,} customer-days in {seconds:.1f}s "
        f"({scored_total / max(seconds, 1e-9):,.0f} customers/s)"
    )
    degenerate_metadata: dict[str, Any] = {"probability_std": spread, "bands_used": len(bands)}
    if skipped:
        degenerate_metadata["skip_reason"] = dg.MetadataValue.text("\n".join(skipped))
    yield dg.MaterializeResult(
        metadata={
            **day_metadata,
            "score_days": f"{days[0]}..{days[-1]}" if days else "none",
            "customer_days_scored": scored_total,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="every_eligible_customer_scored_once",
                passed=not coverage_failures,
                metadata={
                    "days": len(days),
                    "failures": dg.MetadataValue.text("\n".join(coverage_failures) or "none"),
                },
            ),
            dg.AssetCheckResult(
                check_name="probabilities_within_unit_interval",
                passed=out_of_range_total == 0,
                metadata={"out_of_range": int(out_of_range_total)},
            ),
            dg.AssetCheckResult(
                check_name="scores_not_degenerate",
                passed=bool(spread > 0.01 and len(bands) >= 2),
                severity=dg.AssetCheckSeverity.WARN,
                metadata=degenerate_metadata,
            ),
        ],
    )


def _day_metadata(
    scores: pd.DataFrame, written: int, snapshot: date | None, skip_reasons: list[str]
) -> dict[str, Any]:
    bands = pd.concat([scores["churn_risk_band"], scores["propensity_band"]]).value_counts()

    def version(column: str) -> str:
        present = scores[column].dropna()
        return str(present.iloc[0]) if len(present) else "none (not scored)"

    metadata: dict[str, Any] = {
        "dagster/row_count": int(written),
        "feature_snapshot_date": str(snapshot) if snapshot is not None else "none",
        "churn_scored": int(scores["churn_probability"].notna().sum()),
        "leads_scored": int(scores["purchase_propensity"].notna().sum()),
        "churn_model_version": version("churn_model_version"),
        "propensity_model_version": version("propensity_model_version"),
        "bands": dg.MetadataValue.json({str(k): int(v) for k, v in bands.items()}),
        "next_best_actions": dg.MetadataValue.json(
            {str(k): int(v) for k, v in scores["next_best_action"].value_counts().items()}
        ),
    }
    for column in ("churn_probability", "purchase_propensity"):
        if scores[column].notna().any():
            metadata[f"mean_{column}"] = float(scores[column].mean())
    if "predicted_ltv_12m" in scores and scores["predicted_ltv_12m"].notna().any():
        ltv = scores["predicted_ltv_12m"].astype(float)
        paying = scores["churn_probability"].notna()
        metadata["predicted_ltv_12m_total"] = float(ltv.sum())
        for name, rows in (("paying", ltv[paying]), ("lead", ltv[~paying])):
            if rows.notna().any():
                metadata[f"predicted_ltv_12m_mean_{name}"] = float(rows.mean())
    if skip_reasons:
        metadata["skip_reason"] = dg.MetadataValue.text("\n".join(skip_reasons))
    return metadata


def ml_assets() -> list[dg.AssetsDefinition]:
    from orchestration.ml.drift_gate import score_drift_gate  # imports this module

    return [*(build_model_asset(spec) for spec in MODEL_SPECS), score_drift_gate, customer_scores]
