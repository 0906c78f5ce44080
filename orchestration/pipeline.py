"""The main job behind `journey run`: every asset for every partition of the exports.

It runs the same Dagster jobs a data engineer would launch from the UI, in process and
against the instance in DAGSTER_HOME, so the runs and materializations show up in the UI.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
)

Progress = Callable[[str], None]


def _run_job(
    defs: dg.Definitions,
    name: str,
    instance: dg.DagsterInstance,
    progress: Progress,
    *,
    partition_key: str | None = None,
    partition_range: tuple[str, str] | None = None,
) -> dg.ExecuteInProcessResult:
    job = defs.resolve_job_def(name)
    tags = {"journey/trigger": "journey run"}
    if partition_range is not None:
        tags[ASSET_PARTITION_RANGE_START_TAG], tags[ASSET_PARTITION_RANGE_END_TAG] = partition_range
    where = partition_key or (
        f"{partition_range[0]}..{partition_range[1]}" if partition_range else ""
    )
    progress(f"job {name} [{where}] started")
    result = job.execute_in_process(
        # Per-file warnings stay in the run's log (Dagster UI); the console gets these lines.
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
        instance=instance,
        partition_key=partition_key,
        tags=tags,
        raise_on_error=False,
    )
    # One line per asset: partitions materialized and rows (per-partition counts summed).
    totals: dict[str, list] = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            rows = materialization.metadata.get("dagster/row_count")
            total = totals.setdefault(materialization.asset_key.to_user_string(), [0, None, ""])
            total[0] += 1 if materialization.partition else 0
            if rows is not None and "row_count_scope" in materialization.metadata:
                total[1] = int(rows.value)  # a whole-table count, repeated per partition
            elif rows is not None:
                total[1] = (total[1] or 0) + int(rows.value)
            if "validation_roc_auc" in materialization.metadata:
                auc = materialization.metadata["validation_roc_auc"].value
                promoted = materialization.metadata["promoted"].value
                version = materialization.metadata["model_version"].value
                total[2] = f"version {version}, validation ROC AUC {auc:.3f}, " + (
                    "promoted to champion" if promoted else "not promoted"
                )
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_key.to_user_string()
                progress(f"  check FAILED {key}:{evaluation.check_name}")
    for key, (partitions, rows, detail) in totals.items():
        where = f" [{partitions} partitions]" if partitions > 1 else ""
        what = detail or (f"{rows:,} rows" if rows is not None else "done")
        progress(f"  materialized {key}{where}: {what}")
    if not result.success:
        failures = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()}"
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"
        ]
        raise RuntimeError(f"job {name} failed (run {result.run_id}):\n" + "\n".join(failures))
    progress(f"job {name} succeeded (run {result.run_id[:8]})")
    return result


def run_main_job(first_day: str, last_day: str, progress: Progress) -> None:
    # Built here, not imported: resources read the settings (env vars) when built.
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    with dg.DagsterInstance.get() as instance:
        every_day = (first_day, last_day)
        _run_job(defs, "ingest_exports", instance, progress, partition_range=every_day)
        _run_job(defs, "dbt_build", instance, progress, partition_range=every_day)
        _run_job(defs, "train_and_score", instance, progress, partition_key=last_day)
