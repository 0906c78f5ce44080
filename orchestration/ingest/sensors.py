"""`landing_file_sensor`: request an ingestion run for every new or changed landing file.

Stopped by default: on the demo every file already exists and `journey run` backfills them
all in one run; turn the sensor on in production (UI → Automation, or
`dagster sensor start landing_file_sensor`) so that a file dropped into the landing dir is
loaded within a minute. See docs/ingestion.md.
"""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from orchestration.landing import LandingScan, landing_problems, partition_bounds, scan_landing
from orchestration.resources import LandingResource
from orchestration.settings import SOURCES

MAX_PARTITIONS_PER_TICK = 12  # months; the rest is picked up by the next ticks

# relative path → (mtime in ns, size in bytes)
Signatures = dict[str, tuple[int, int]]


@dataclass(frozen=True)
class PlannedRun:
    partition_key: str
    sources: tuple[str, ...]
    files: tuple[str, ...]
    run_key: str


def file_signatures(scan: LandingScan, root: Path) -> Signatures:
    """Signatures of the files that follow `<source>/<YYYY-MM-DD>.<ext>` (the scan's rules)."""
    found: Signatures = {}
    for source, days in scan.days_by_source.items():
        for day in days:
            rel = f"{source}/{day.isoformat()}.{SOURCES[source]}"
            stat = (root / rel).stat()
            found[rel] = (stat.st_mtime_ns, stat.st_size)
    return found


def plan_runs(
    previous: Signatures, current: Signatures, partitions_def: dg.PartitionsDefinition
) -> list[PlannedRun]:
    """One run per month with new or changed files, naming those files' sources.

    A file whose month is not a partition (before the first one) waits; the sensor reports it.
    """
    from orchestration.ingest.assets import month_key

    changed_by_month: dict[str, list[str]] = {}
    for rel, signature in sorted(current.items()):
        if previous.get(rel) == tuple(signature):
            continue
        month = month_key(Path(rel).stem)
        if partitions_def.has_partition_key(month):
            changed_by_month.setdefault(month, []).append(rel)
    runs = []
    for month, files in sorted(changed_by_month.items()):
        run_key = (
            month + ":" + ",".join(f"{rel}@{current[rel][0]}:{current[rel][1]}" for rel in files)
        )
        sources = tuple(sorted({rel.split("/", 1)[0] for rel in files}))
        runs.append(PlannedRun(month, sources, tuple(files), run_key))
    return runs


def next_cursor(previous: Signatures, current: Signatures, runs: list[PlannedRun]) -> Signatures:
    """Remember the files that were requested; forget deleted ones; keep the rest pending."""
    cursor = {rel: sig for rel, sig in previous.items() if rel in current}
    for run in runs:
        for rel in run.files:
            cursor[rel] = current[rel]
    return cursor


def _load_cursor(raw: str | None) -> Signatures:
    if not raw:
        return {}
    return {rel: (sig[0], sig[1]) for rel, sig in json.loads(raw).items()}


# New exports flow all the way through: ingest the day (every source: reloading an unchanged
# file replaces its rows with the same rows), dbt build, score, publish.
REFRESH_JOB = "daily_refresh"


@dg.sensor(
    name="landing_file_sensor",
    job_name=REFRESH_JOB,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Runs `daily_refresh` for the month of each new or changed landing file "
        "(one run per month; misnamed or out-of-range files are reported in the tick's log)."
    ),
)
def landing_file_sensor(
    context: dg.SensorEvaluationContext, landing: LandingResource
) -> dg.SensorResult:
    from orchestration.ingest.assets import export_partitions

    root = landing.root_path
    scan = scan_landing(root)  # the tick's one scan of the landing dir
    first, today = partition_bounds(scan=scan)
    # Files that will never load as named (misnamed, before the first partition, dated in
    # the future) get one line each in the tick's log instead of being skipped silently.
    for problem in landing_problems(root, first.isoformat(), scan):
        context.log.warning(problem)
    previous = _load_cursor(context.cursor)
    # Only files whose day is a partition: a future-dated file stays out of the cursor, so
    # it is requested on its day instead of being marked done by a run that cannot load it.
    current = file_signatures(scan.within(first, today), root)
    runs = plan_runs(previous, current, export_partitions())[:MAX_PARTITIONS_PER_TICK]
    requests = [
        dg.RunRequest(
            run_key=run.run_key,
            partition_key=run.partition_key,
            tags={
                "journey/trigger": "landing_file_sensor",
                "journey/changed_sources": ",".join(sorted(run.sources)),
            },
        )
        for run in runs
    ]
    cursor = next_cursor(previous, current, runs)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))
