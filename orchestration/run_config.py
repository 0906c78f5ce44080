"""Run config that narrows a run's stages to some days: the same for the schedule and the CLI.

Op names are the assets' (Dagster names an asset's op after its key).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

from orchestration.settings import SOURCES

DBT_OP = "journey_dbt_models"
SCORES_OP = "marts__customer_scores"
DRIFT_GATE_OP = "score_drift_gate"  # checks the days the scoring step is about to score
STAGES = ("ingest", "transform", "score")


def day_run_config(
    first_day: str, last_day: str, stages: Collection[str] = STAGES
) -> dict[str, Any]:
    """Config for the ops of `stages` so that they process first_day..last_day (inclusive)."""
    ops: dict[str, Any] = {}
    if "ingest" in stages:
        days = {"first_day": first_day, "last_day": last_day}
        ops |= {f"raw__{source}": {"config": days} for source in SOURCES}
    if "transform" in stages:
        end = (date.fromisoformat(last_day) + timedelta(days=1)).isoformat()  # exclusive
        ops[DBT_OP] = {"config": {"partition_start": first_day, "partition_end": end}}
    if "score" in stages:
        days = {"first_day": first_day, "last_day": last_day}
        ops |= {op: {"config": days} for op in (DRIFT_GATE_OP, SCORES_OP)}
    return {"ops": ops}
