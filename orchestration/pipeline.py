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
from pathlib import Path

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
# When the process started (Linux: clock ticks after boot), so that a pid reused by another
# process after a kill is not mistaken for the journey process that ran the run.
PID_STARTED_TAG = "journey/pid_started"
# Dagster jobs whose steps open MLflow runs (the model assets).
TRAINING_JOBS = (TRAIN_JOB, TRAIN_AND_SCORE_JOB)
# MLflow tag on a run or model version whose training process was killed: why it is KILLED.
MLFLOW_KILLED_TAG = "journey.killed"


def _process_started(pid: int) -> str | None:
    """The start time of process `pid` from /proc (None where there is no /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()[19]  # field 22: starttime


def _alive(pid: int, started: str | None = None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    # The pid exists; it is our process only if it also started when ours did.
    return started is None or _process_started(pid) in (None, started)


def _run_tags() -> dict[str, str]:
    tags = {TRIGGER_TAG: "journey cli", PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}
    started = _process_started(os.getpid())
    if started is not None:
        tags[PID_STARTED_TAG] = started
    return tags


def close_killed_mlflow_runs(tracking_uri: str, dagster_run_id: str, reason: str) -> int:
    """Mark KILLED the MLflow runs a killed training left RUNNING, found by the Dagster run
    id the model assets tag them with, and tag why (on the runs and on any model version
    they registered, which never got an alias: aliases are set after the run ends). Returns
    how many runs were closed."""
    from ml.tracking import client_for, sqlite_path
    from orchestration.ml.assets import DAGSTER_RUN_TAG
    from orchestration.ml.specs import MODEL_SPECS

    database = sqlite_path(tracking_uri)
    if database is not None and not database.exists():
        return 0  # no store yet, so no run was opened
    client = client_for(tracking_uri)
    from ml.segments import EXPERIMENT_NAME as SEGMENTS_EXPERIMENT

    names = [s.experiment_name for s in MODEL_SPECS] + [SEGMENTS_EXPERIMENT]
    experiments = [client.get_experiment_by_name(name) for name in names]
    ids = [e.experiment_id for e in experiments if e is not None]
    if not ids:
        return 0
    runs = client.search_runs(
        ids,
        filter_string=(
            f"tags.{DAGSTER_RUN_TAG} = '{dagster_run_id}' and attributes.status = 'RUNNING'"
        ),
    )
    for run in runs:
        client.set_tag(run.info.run_id, MLFLOW_KILLED_TAG, reason)
        client.set_terminated(run.info.run_id, status="KILLED")
        for version in client.search_model_versions(f"run_id = '{run.info.run_id}'"):
            client.set_model_version_tag(version.name, version.version, MLFLOW_KILLED_TAG, reason)
    return len(runs)


def recover_killed_runs(instance: dg.DagsterInstance, progress: Progress) -> list[str]:
    """Clean up after `journey` processes killed mid-run (kill -9, OOM killer, a reboot):
    mark their unfinished runs failed, free their pool slots (Dagster frees slots only when
    a run ends, so without this the next run would wait forever for the warehouse pool) and
    close the MLflow runs they left RUNNING; one line per run. Also frees slots still held
    by runs that are over. Returns the run ids recovered."""
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
        if pid is None or _alive(int(pid), run.tags.get(PID_STARTED_TAG)):
            continue
        reason = f"the journey process (pid {pid}) that ran it was killed"
        instance.report_run_failed(run, message=reason)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        closed = ""
        if run.job_name in TRAINING_JOBS:
            from orchestration.settings import get_settings

            reason_tag = f"Dagster run {run.run_id} was left unfinished: {reason}"
            count = close_killed_mlflow_runs(
                get_settings().mlflow_tracking_uri, run.run_id, reason_tag
            )
            closed = (
                f", {count} MLflow run{'' if count == 1 else 's'} it left running closed as KILLED"
            )
        progress(
            f"run {run.run_id[:8]} ({run.job_name}) was left unfinished by a killed journey "
            f"process (pid {pid}): marked failed, its warehouse slot freed{closed}; re-running"
        )
        recovered.append(run.run_id)
    _free_slots_of_finished_runs(instance)
    if recovered:
        _remove_publish_leftovers(instance)
    return recovered


def _remove_publish_leftovers(instance: dg.DagsterInstance) -> None:
    """Delete the half-written serving copies (`.serving.duckdb.<id>.tmp`) of a publish that
    was killed before its rename; only when no step holds the warehouse pool, i.e. no publish
    is writing one now."""
    from orchestration.resources import WAREHOUSE_POOL
    from orchestration.settings import get_settings

    storage = instance.event_log_storage
    if (
        WAREHOUSE_POOL in storage.get_concurrency_keys()
        and storage.get_concurrency_info(WAREHOUSE_POOL).claimed_slots
    ):
        return
    serving = get_settings().serving_path
    for leftover in serving.parent.glob(f".{serving.name}.*.tmp*"):
        leftover.unlink(missing_ok=True)


def _free_slots_of_finished_runs(instance: dg.DagsterInstance) -> None:
    """A process killed after its run ended but before it let go of a slot would block the
    pool as surely as a dead run: free every slot whose run is over (or gone)."""
    storage = instance.event_log_storage
    holders = {
        slot.run_id
        for key in storage.get_concurrency_keys()
        for slot in storage.get_concurrency_info(key).claimed_slots
    } | storage.get_concurrency_run_ids()
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)


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
    tags = _run_tags()
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
