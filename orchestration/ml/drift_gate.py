"""The drift gate before scoring: has the population to be scored moved away from the one the
`@champion` model was trained on?

`score_drift_gate` runs upstream of `marts.customer_scores`. For each model with a champion
it compares every model input on the day's feature snapshot (the population that model
scores) with the training window's latest snapshot, summarised when the model was trained
(`ml.tracking`, artifact `drift/reference.json`), by population stability index
(`ml.drift`). Its blocking check fails when one of the model's top features (by permutation
importance) moved by more than the block threshold: the run stops before any score is
written. Any feature above the warning threshold makes a second, non-blocking check warn.
The PSI tables are on the asset's page.

Environment: JOURNEY_PSI_WARN (0.1), JOURNEY_PSI_BLOCK (0.25), JOURNEY_DRIFT_TOP_FEATURES (5),
JOURNEY_DRIFT_MIN_IMPORTANCE (0.005: the least drop in validation AUC, when shuffled, of a
top feature), JOURNEY_DRIFT_BLOCK=false to score anyway (the block becomes a warning, e.g.
after a known change of a source that the next retrain will learn).
"""

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
import pandas as pd

from orchestration.ml.assets import (
    DRIFT_GATE_KEY,
    FEATURES_KEY,
    SCORES_GROUP,
    ScoreConfig,
    read_features,
    score_days,
)
from orchestration.ml.resources import MlflowResource
from orchestration.ml.specs import FEATURES_TABLE, MODEL_SPECS, TIME_COLUMN, ModelSpec
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource

BLOCK_CHECK = "no_top_feature_drift_above_block"
WARN_CHECK = "no_feature_drift_above_warn"


@dataclass(frozen=True)
class GateSettings:
    warn: float
    block: float
    top_features: int
    min_importance: float
    blocking: bool

    @classmethod
    def from_env(cls) -> "GateSettings":
        from ml.drift import MIN_IMPORTANCE, PSI_BLOCK, PSI_WARN, TOP_FEATURES

        return cls(
            warn=float(os.environ.get("JOURNEY_PSI_WARN", PSI_WARN)),
            block=float(os.environ.get("JOURNEY_PSI_BLOCK", PSI_BLOCK)),
            top_features=int(os.environ.get("JOURNEY_DRIFT_TOP_FEATURES", TOP_FEATURES)),
            min_importance=float(os.environ.get("JOURNEY_DRIFT_MIN_IMPORTANCE", MIN_IMPORTANCE)),
            blocking=os.environ.get("JOURNEY_DRIFT_BLOCK", "true").strip().lower()
            not in ("false", "0", "no", "off"),
        )


@dataclass(frozen=True)
class SnapshotDrift:
    spec: ModelSpec
    version: str
    snapshot: date
    rows: int
    table: pd.DataFrame

    @property
    def max_psi(self) -> float:
        values = self.table["psi"].dropna()
        return float(values.max()) if len(values) else 0.0

    def flagged(self, status: str) -> pd.DataFrame:
        return self.table.loc[self.table["status"] == status]


def snapshots_to_score(con, days: list[date]) -> list[date]:
    """The feature snapshots the scoring step will read for `days` (latest on or before each
    day), each once: a backfill of many days mostly re-reads the same weekly snapshot."""
    snapshots: set[date] = set()
    for day in days:
        (snapshot,) = con.execute(
            f"select max({TIME_COLUMN}) from {FEATURES_TABLE} where {TIME_COLUMN} <= ?", [day]
        ).fetchone()
        if snapshot is not None:
            snapshots.add(snapshot)
    return sorted(snapshots)


def _describe(drift: SnapshotDrift, rows: pd.DataFrame, threshold: float) -> list[str]:
    return [
        f"{drift.spec.model_name} v{drift.version}, snapshot {drift.snapshot}: {row.feature} "
        f"PSI {row.psi:.3f} > {threshold} (importance rank {row.importance_rank}, "
        f"AUC drop {row.importance:.4f}; sampling noise reaches {row.noise_psi:.3f})"
        for row in rows.itertuples(index=False)
    ]


@dg.asset(
    key=DRIFT_GATE_KEY,
    deps=[dg.AssetKey([s.asset_name]) for s in MODEL_SPECS] + [FEATURES_KEY],
    # Reads only, but DuckDB refuses a reader while another process writes.
    pool=WAREHOUSE_POOL,
    group_name=SCORES_GROUP,
    kinds={"duckdb", "mlflow"},
    owners=["team:data-science"],
    description=(
        "Population stability index of every model input between the `@champion`'s training "
        "window and the feature snapshot about to be scored; blocks scoring when a top feature "
        "drifted above JOURNEY_PSI_BLOCK (0.25), warns above JOURNEY_PSI_WARN (0.1)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            BLOCK_CHECK,
            asset=DRIFT_GATE_KEY,
            blocking=True,
            description=(
                "No top feature (JOURNEY_DRIFT_TOP_FEATURES by permutation importance, 5) has a "
                "PSI above JOURNEY_PSI_BLOCK (0.25) and above what sampling noise reaches; "
                "failing stops the scoring. A warning instead with JOURNEY_DRIFT_BLOCK=false."
            ),
        ),
        dg.AssetCheckSpec(
            WARN_CHECK,
            asset=DRIFT_GATE_KEY,
            description=(
                "No model input has a PSI above JOURNEY_PSI_WARN (0.1) and above what "
                "sampling noise reaches."
            ),
        ),
    ],
)
def score_drift_gate(
    context: dg.AssetExecutionContext,
    config: ScoreConfig,
    warehouse: WarehouseResource,
    mlflow_store: MlflowResource,
):
    from ml.drift import drift_markdown, drift_table_from_reference
    from ml.tracking import load_drift_reference

    settings = GateSettings.from_env()
    notes: list[str] = []
    drifts: list[SnapshotDrift] = []
    references = {}
    for spec in MODEL_SPECS:
        found = load_drift_reference(mlflow_store.tracking_uri, spec.model_name)
        if found is None:
            notes.append(f"{spec.model_name}: no @champion, nothing to score or check")
        elif found[1] is None:
            notes.append(
                f"{spec.model_name}: champion v{found[0]} has no drift reference (trained "
                "before the gate existed); not checked until the next retrain"
            )
        else:
            references[spec.model_name] = (spec, *found)
    with warehouse.connect(read_only=True) as con:
        snapshots = snapshots_to_score(con, score_days(con, config)) if references else []
        for snapshot in snapshots:
            for spec, version, reference in references.values():
                frame = read_features(con, f"{TIME_COLUMN} = ? and ({spec.population})", [snapshot])
                table = drift_table_from_reference(
                    reference,
                    frame,
                    top_n=settings.top_features,
                    warn=settings.warn,
                    block=settings.block,
                    min_importance=settings.min_importance,
                )
                drifts.append(SnapshotDrift(spec, version, snapshot, len(frame), table))
    for note in notes:
        context.log.warning(note)

    blocked = [line for d in drifts for line in _describe(d, d.flagged("block"), settings.block)]
    warned = [line for d in drifts for line in _describe(d, d.flagged("warn"), settings.warn)]
    for line in blocked:
        context.log.error(f"drift gate: {line}")
    for line in warned:
        context.log.warning(f"drift gate: {line}")

    metadata: dict[str, Any] = {
        "max_psi": max((d.max_psi for d in drifts), default=0.0),
        "status": "block" if blocked else "warn" if warned else "ok",
        "snapshots_checked": ", ".join(str(s) for s in snapshots) or "none",
        "psi_warn": settings.warn,
        "psi_block": settings.block,
        "top_features": settings.top_features,
        "min_importance": settings.min_importance,
        "block_enabled": settings.blocking,
    }
    for spec, version, _ in references.values():
        own = [d for d in drifts if d.spec is spec]
        if not own:
            continue
        # The most drifted snapshot's table (the only one when scoring one day).
        worst = max(own, key=lambda d: (d.max_psi, d.snapshot))
        name = spec.model_name
        metadata |= {
            f"{name}_psi_table": dg.MetadataValue.md(
                f"{name} v{version}, snapshot {worst.snapshot}, {worst.rows:,} rows "
                f"against the training window's latest snapshot "
                f"{references[name][2].get('snapshot') or '(all rows)'}, "
                f"{references[name][2]['rows']:,} rows\n\n" + drift_markdown(worst.table)
            ),
            f"{name}_max_psi": worst.max_psi,
            f"{name}_max_psi_feature": str(worst.table["feature"].iloc[0]),
            f"{name}_champion_version": version,
        }
    if notes:
        metadata["notes"] = dg.MetadataValue.text("\n".join(notes))
    yield dg.MaterializeResult(metadata=metadata)
    yield dg.AssetCheckResult(
        check_name=BLOCK_CHECK,
        passed=not blocked,
        severity=dg.AssetCheckSeverity.ERROR if settings.blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold": settings.block,
            "top_features": settings.top_features,
            "block_enabled": settings.blocking,
            "blocked_by": dg.MetadataValue.text("\n".join(blocked) or "none"),
        },
    )
    yield dg.AssetCheckResult(
        check_name=WARN_CHECK,
        passed=not warned and not blocked,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "threshold": settings.warn,
            "above_warn": dg.MetadataValue.text("\n".join(blocked + warned) or "none"),
        },
    )
    if blocked and settings.blocking:
        # The failed blocking check alone would stop the run too, with Dagster's generic
        # "1 blocking asset check failed"; this says which feature, how far, and what to do.
        raise dg.Failure(
            description=(
                "drift gate blocked scoring: "
                + "; ".join(blocked)
                + ". Find the upstream change (a unit, a tracking bug, a new source), retrain, "
                "or set JOURNEY_DRIFT_BLOCK=false to score anyway."
            ),
            metadata={"max_psi": metadata["max_psi"]},
        )
