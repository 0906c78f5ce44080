"""The stages behind `journey ingest | transform | train | score | run`.

Each stage runs the same Dagster job a data engineer launches from the UI, in process and
against the instance in DAGSTER_HOME, so runs and materializations show up in the UI. A
stage over several days is one run over the partition range (the assets' single-run
backfill policy), so its cost follows the rows in the files, not the number of days.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import dagster as dg

# Dagster's tags for a run over a partition range; the only place that names them.
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

SINGLE_PARTITION_TAG = PARTITION_NAME_TAG  # the tag of a run for one partition
PARTITION_RANGE_START_TAG = ASSET_PARTITION_RANGE_START_TAG
PARTITION_RANGE_END_TAG = ASSET_PARTITION_RANGE_END_TAG
Progress = Callable[[str], None]
POLL_SECONDS = 1.0
MAX_ASSET_LINES = 10  # a step with more assets (dbt) gets one line
MAX_CHECK_LINES = 6  # lines of a failed check's description on the console

INGEST_JOB = "ingest_exports"
TRANSFORM_JOB = "dbt_build"
TRAIN_JOB = "weekly_retrain"
SCORE_JOB = "score_customers"
TRAIN_AND_SCORE_JOB = "train_and_score"
REFRESH_JOB = "daily_refresh"


def partition_range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover every partition from the first key to the last."""
    return {PARTITION_RANGE_START_TAG: first_key, PARTITION_RANGE_END_TAG: last_key}


class StageFailed(RuntimeError):
    """A Dagster run of a stage failed; the message names the failed steps and the run."""


@dataclass
class _AssetTally:
    partitions: int = 0
    rows: int | None = None
    detail: str = ""


@dataclass
class StageReport:
    """What a stage did, for the console and the final summary."""

    job: str
    run_id: str = ""
    skipped: list[str] = field(default_factory=list)


def _describe(tally: _AssetTally) -> str:
    if tally.detail:
        return tally.detail
    if tally.rows is None:
        return "done"
    return f"{tally.rows:,} row{'' if tally.rows == 1 else 's'}"


def _tally(event: dg.EventLogEntry, tallies: dict[str, _AssetTally]) -> str | None:
    """Fold one materialization into its asset's tally; returns a skip reason if it has one."""
    materialization = event.dagster_event.event_specific_data.materialization
    metadata = materialization.metadata
    key = materialization.asset_key.to_user_string()
    tally = tallies.setdefault(key, _AssetTally())
    tally.partitions += 1 if materialization.partition else 0
    rows = metadata.get("dagster/row_count")
    if rows is not None and "row_count_scope" in metadata:
        tally.rows = int(rows.value)  # a whole-table count, repeated per partition
    elif rows is not None:
        tally.rows = (tally.rows or 0) + int(rows.value)
    if "validation_roc_auc" in metadata:
        auc = metadata["validation_roc_auc"].value
        promoted = metadata["promoted"].value
        version = metadata["model_version"].value
        tally.detail = f"version {version}, validation ROC AUC {auc:.3f}, " + (
            "promoted to champion" if promoted else "not promoted"
        )
    skip = metadata.get("skip_reason")
    if skip is not None:
        reason = "; ".join(str(skip.value).splitlines())
        tally.detail = f"skipped: {reason}"
        return f"{key}: {reason}"
    return None


class _Watcher:
    """Prints one line per finished step while the run is still going (the event log is
    polled from a thread), so a long stage shows it is moving."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, progress: Progress) -> None:
        self.instance, self.run_id, self.progress = instance, run_id, progress
        self.tallies: dict[str, _AssetTally] = {}
        self.step_assets: dict[str, list[str]] = {}
        self.report_skips: list[str] = []
        self.checks_by_step: dict[str, int] = {}
        self._cursor: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            self.poll()

    def poll(self) -> None:
        try:
            connection = self.instance.get_records_for_run(self.run_id, cursor=self._cursor)
        except Exception:  # the run's storage may not exist yet
            return
        self._cursor = connection.cursor
        for record in connection.records:
            self._handle(record.event_log_entry)

    def _handle(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            skip = _tally(entry, self.tallies)
            if skip:
                self.report_skips.append(skip)
            key = event.event_specific_data.materialization.asset_key.to_user_string()
            assets = self.step_assets.setdefault(event.step_key or "", [])
            if key not in assets:
                assets.append(key)
        elif kind == "ASSET_CHECK_EVALUATION":
            step = event.step_key or ""
            self.checks_by_step[step] = self.checks_by_step.get(step, 0) + 1
            evaluation = event.event_specific_data
            if not evaluation.passed:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                severity = getattr(evaluation.severity, "value", "ERROR")
                self.progress(f"  check {'warned' if severity == 'WARN' else 'FAILED'} {name}")
                # What failed, in the check's words (e.g. the reject rate and its top reasons).
                for line in (evaluation.description or "").splitlines()[:MAX_CHECK_LINES]:
                    self.progress(f"    {line}")
        elif kind == "STEP_SUCCESS":
            assets = self.step_assets.get(event.step_key or "", [])
            if len(assets) > MAX_ASSET_LINES:  # dbt: one line; the marts are in the summary
                layers: dict[str, int] = {}
                for key in assets:
                    layers[key.split("/")[0]] = layers.get(key.split("/")[0], 0) + 1
                built = ", ".join(f"{n} {layer}" for layer, n in layers.items())
                checks = self.checks_by_step.get(event.step_key or "", 0)
                self.progress(f"  {event.step_key}: built {built}; {checks} checks evaluated")
            for key in assets if len(assets) <= MAX_ASSET_LINES else []:
                tally = self.tallies[key]
                where = f" [{tally.partitions} months]" if tally.partitions > 1 else ""
                self.progress(f"  {key}{where}: {_describe(tally)}")

    @contextmanager
    def watching(self) -> Iterator[None]:
        self._thread.start()
        try:
            yield
        finally:
            self._stop.set()
            self._thread.join()
            self.poll()  # whatever arrived after the last tick


TRIGGER_TAG, PID_TAG, HOST_TAG = "journey/trigger", "journey/pid", "journey/host"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_killed_runs(instance: dg.DagsterInstance, progress: Progress) -> list[str]:
    """Mark failed the runs a killed `journey` process left in progress, and free their pool
    slots: Dagster frees slots only when a run ends, so without this the next run would wait
    forever for the warehouse pool. Returns the run ids recovered."""
    unfinished = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.STARTING,
                dg.DagsterRunStatus.NOT_STARTED,
            ],
            tags={HOST_TAG: socket.gethostname()},
        )
    )
    recovered = []
    for run in unfinished:
        pid = run.tags.get(PID_TAG)
        if pid is None or _alive(int(pid)):
            continue
        instance.report_run_failed(
            run, message=f"the journey process (pid {pid}) that ran it was killed"
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        progress(
            f"run {run.run_id[:8]} ({run.job_name}) was left unfinished by a killed journey "
            f"process (pid {pid}): marked failed, its warehouse slot freed; re-running"
        )
        recovered.append(run.run_id)
    return recovered


def run_stage(
    name: str,
    progress: Progress,
    *,
    label: str = "",
    partitions: tuple[str, str] | None = None,
    run_config: dict | None = None,
) -> StageReport:
    """Run the Dagster job `name` in process, over the partition range `partitions` (first and
    last key) if the job is partitioned, printing a line per finished step."""
    # Built here, not imported: resources and partitions read the settings when built.
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    job = defs.resolve_job_def(name)
    tags = {TRIGGER_TAG: "journey cli", PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    partition_key = None
    if partitions is not None and partitions[0] != partitions[1]:
        tags.update(partition_range_tags(*partitions))
    elif partitions is not None:
        partition_key = partitions[0]
    where = f" {label}" if label else ""
    run_id = str(uuid.uuid4())  # known before the run starts, so the watcher can follow it
    with dg.DagsterInstance.get() as instance:
        recover_killed_runs(instance, progress)
        progress(f"{name}{where}: run {run_id[:8]} started")
        watcher = _Watcher(instance, run_id, progress)
        with watcher.watching():
            result = job.execute_in_process(
                # The Dagster UI has every log line of the run; the console gets the progress.
                run_config={
                    **(run_config or {}),
                    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
                },
                instance=instance,
                partition_key=partition_key,
                tags=tags,
                run_id=run_id,
                raise_on_error=False,
            )
    if not result.success:
        failures = [
            f"  {e.step_key}: {e.event_specific_data.error.message.strip()}"
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"
        ]
        raise StageFailed(
            f"{name} failed (run {run_id}; its full log is in the Dagster UI):\n"
            + "\n".join(failures)
        )
    progress(f"{name}{where}: succeeded")
    return StageReport(name, run_id, watcher.report_skips)
