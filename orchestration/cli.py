"""`journey`: the project's command line.

journey prepare      dbt manifest, DAGSTER_HOME/dagster.yaml, MLflow store (idempotent)
journey run          everything: demo exports (if none) → ingest → transform → train → score
journey ingest       load the landing files into raw.* (one run over the days found)
journey transform    dbt build over the same days (one dbt invocation)
journey train        train, register and promote the churn and propensity models
journey score        score customers with the champion models, publish the serving copy
journey refresh      the daily refresh in one run (ingest + transform + score), last day
journey summary      tables and row counts of the warehouse
journey mlflow-ui    the MLflow UI on the project's tracking store
journey dbt-docs     generate and serve the dbt docs site

Stages take --from/--to (YYYY-MM-DD); by default they cover the days of the files in the
landing directory. The console shows progress only; everything else (dbt's per-model output,
library warnings) goes to a log file under $JOURNEY_DATA_DIR/logs, named at the start.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from orchestration.settings import DBT_PROJECT_DIR, Settings, export_hash_key, get_settings

# A stage prints this much per step; the demo generator at most one line per this many seconds.
GENERATOR_PROGRESS_SECONDS = 10.0
PIPELINE_COMMANDS = ("run", "ingest", "transform", "train", "score", "refresh")
MLFLOW_COMMANDS = ("run", "train", "score", "refresh")


class Progress:
    """Per-step lines with elapsed time, so long work shows it is moving."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.started = time.monotonic()
        self.out = out

    def __call__(self, message: str) -> None:
        print(
            f"[{time.monotonic() - self.started:6.1f}s] {message}",
            file=self.out or sys.stdout,
            flush=True,
        )


class UsageError(Exception):
    """Something the user can fix before any work starts; the message says what."""


def _export_env(settings: Settings) -> None:
    # Child processes (dbt, the webserver) and the Dagster instance read these.
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    os.environ.setdefault("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    os.environ.setdefault("JOURNEY_WAREHOUSE", str(settings.warehouse_path))
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    export_hash_key(settings)


def prepare(
    settings: Settings, progress: Progress, *, force: bool = True, mlflow: bool = True
) -> None:
    """dagster.yaml, the dbt manifest (parsed again when forced or when a dbt file changed
    since) and the MLflow store: what the code location and the runs need."""
    from orchestration.instance import write_dagster_yaml
    from orchestration.transform.project import manifest_is_stale, prepare_manifest

    _export_env(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    write_dagster_yaml(settings.dagster_home)
    prepare_manifest(force=force or manifest_is_stale())
    if mlflow:  # importing MLflow takes seconds: only the stages that train or score pay
        from ml.tracking import ensure_tracking_store, scrub_input_examples

        root = ensure_tracking_store(settings.mlflow_tracking_uri)
        # Stores written before input examples were made up hold real feature rows in them
        # (docs/privacy.md): rewritten once; a no-op after that.
        if root is not None and (scrubbed := scrub_input_examples(root)):
            progress(f"privacy: {len(scrubbed)} MLflow input example(s) rewritten as made-up rows")
    progress(
        f"prepared: Dagster instance {settings.dagster_home}, dbt manifest"
        + (f", MLflow store {settings.mlflow_tracking_uri}" if mlflow else "")
    )


@contextmanager
def console_to_log(log_path: Path) -> Iterator[TextIO]:
    """Send file descriptors 1 and 2 (this process and its children: dbt, MLflow, warnings)
    to `log_path`; yield a stream on the real console for the progress lines."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    console = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    try:
        yield console
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        console.close()


class Busy(Exception):
    """Another journey command holds this data directory."""


@contextmanager
def exclusive(lock_path: Path, command: str) -> Iterator[None]:
    """One pipeline command per data directory at a time: a second one fails fast, naming
    the one that runs (the lock is released by the kernel if that process is killed)."""
    import fcntl

    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another journey command"
            raise Busy(
                f"{holder} is using {lock_path.parent}; wait for it to finish or stop it"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now().isoformat(timespec="seconds")
        handle.write(f"`journey {command}` (pid {os.getpid()}, started {started})")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def landing_range(settings: Settings, first: str | None, last: str | None) -> tuple[str, str, str]:
    """The days a stage covers: --from/--to, else the span of the loadable landing files.
    Files that cannot be loaded (misnamed, no partition for their day) get one line each in
    the description and are skipped; the others still load (issue 12)."""
    from orchestration.landing import landing_problems, partition_bounds, scan_landing

    if settings.start_date:
        _day_or_usage(settings.start_date, "JOURNEY_START_DATE")
    full_scan = scan_landing(settings.landing_dir)
    problems = landing_problems(settings.landing_dir, settings.first_partition_date, full_scan)
    scan = full_scan.within(*partition_bounds(settings.first_partition_date))
    not_loaded = "".join(f"\n  not loaded: {p}" for p in problems)
    days = scan.days
    if not days and (first is None or last is None):
        raise UsageError(
            f"no export files under {settings.landing_dir} (expected "
            "<source>/<YYYY-MM-DD>.<ext>, see docs/raw_tables.md)" + not_loaded
        )
    first = first or days[0].isoformat()
    last = last or days[-1].isoformat()
    if first > last:
        raise UsageError(f"--from {first} is after --to {last}")
    if first < settings.first_partition_date:
        raise UsageError(
            f"--from {first} is before the first daily partition {settings.first_partition_date}"
            " (JOURNEY_START_DATE)"
        )
    in_range = [d for d in days if first <= d.isoformat() <= last]
    found = sum(
        1 for ds in scan.days_by_source.values() for d in ds if first <= d.isoformat() <= last
    )
    what = (
        f"{found:,} files of {first}"
        if first == last
        else f"{found:,} files on {len(in_range)} of the {_span(first, last)} days {first}..{last}"
    )
    return first, last, what + not_loaded


def _span(first: str, last: str) -> int:
    return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1


def _day_or_usage(text: str, name: str) -> None:
    try:
        date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{name}={text!r} is not a day (YYYY-MM-DD)") from None


def _generate_demo(args: argparse.Namespace, settings: Settings, progress: Progress) -> None:
    from orchestration.demo import generate

    progress(
        f"generating demo exports: {args.people:,} people over {args.days} days "
        f"(seed {args.seed}) into {settings.landing_dir}"
    )
    last_line = [time.monotonic()]

    def throttled(line: str) -> None:
        if time.monotonic() - last_line[0] >= GENERATOR_PROGRESS_SECONDS:
            last_line[0] = time.monotonic()
            progress(f"  {line}")

    summary = generate(
        settings.landing_dir,
        settings.ground_truth_dir,
        people=args.people,
        days=args.days,
        seed=args.seed,
        start=settings.demo_start_date,
        progress=throttled,
    )
    progress(f"demo exports written: {summary.sentence()}")


def _stages(args: argparse.Namespace) -> list[str]:
    return ["ingest", "transform", "train", "score"] if args.command == "run" else [args.command]


def run_stages(
    args: argparse.Namespace, settings: Settings, progress: Progress, days: tuple[str, str] | None
) -> list[str]:
    """Run the command's stages in order over `days`; returns what was skipped and why."""
    from orchestration import pipeline
    from orchestration.ingest.assets import month_key
    from orchestration.run_config import day_run_config

    stages = _stages(args)
    first, last = days or (None, None)
    label = f"{first}..{last}" if first != last else str(first)
    skipped: list[str] = []
    if args.command == "refresh":
        # The scheduled daily refresh: one run of `daily_refresh` over the days.
        report = pipeline.run_stage(
            pipeline.REFRESH_JOB,
            progress,
            label=label,
            partitions=(month_key(first), month_key(last)),
            run_config=day_run_config(first, last),
        )
        return report.skipped
    if "ingest" in stages:
        pipeline.run_stage(
            pipeline.INGEST_JOB,
            progress,
            label=label,
            partitions=(month_key(first), month_key(last)),
            run_config=day_run_config(first, last, ["ingest"]),
        )
    if "transform" in stages:
        pipeline.run_stage(
            pipeline.TRANSFORM_JOB,
            progress,
            label=label,
            run_config=day_run_config(first, last, ["transform"]),
        )
    if args.command == "run":
        # Train, then score the last day with whatever champion there is (a new one or not).
        report = pipeline.run_stage(
            pipeline.TRAIN_AND_SCORE_JOB,
            progress,
            label=str(last),
            run_config=day_run_config(last, last, ["score"]),
        )
        skipped += report.skipped
    elif "train" in stages:
        skipped += pipeline.run_stage(pipeline.TRAIN_JOB, progress).skipped
    elif "score" in stages:
        score_first = first if args.first else last  # by default, the last day only
        report = pipeline.run_stage(
            pipeline.SCORE_JOB,
            progress,
            label=f"{score_first}..{last}" if score_first != last else str(last),
            run_config=day_run_config(score_first, last, ["score"]),
        )
        skipped += report.skipped
    return skipped


def stage_command(args: argparse.Namespace) -> int:
    settings = get_settings()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = settings.data_dir / "logs" / f"journey-{args.command}-{stamp}.log"
    try:
        with exclusive(settings.data_dir / "journey.lock", args.command):
            return _stage_command(args, settings, log_path)
    except Busy as exc:
        print(f"journey {args.command}: {exc}", file=sys.stderr)
        return 2


def _stage_command(args: argparse.Namespace, settings: Settings, log_path: Path) -> int:
    from orchestration.pipeline import StageFailed

    with console_to_log(log_path) as console:
        progress = Progress(console)
        progress(f"journey {args.command}: details in {log_path}")
        try:
            if args.command == "run" and (
                args.regenerate or (not args.skip_generate and not _has_exports(settings))
            ):
                _generate_demo(args, settings, progress)
            days = None
            if args.command != "train":  # checked before any work starts
                first, last, what = landing_range(settings, args.first, args.last)
                if args.command == "refresh" and not args.first:
                    # By default the newest day only, as the daily schedule does.
                    first, last, what = landing_range(settings, last, last)
                progress(f"landing: {what}")
                days = (first, last)
            prepare(settings, progress, force=False, mlflow=args.command in MLFLOW_COMMANDS)
            skipped = run_stages(args, settings, progress, days)
        except UsageError as exc:
            print(f"journey {args.command}: {exc}", file=console)
            return 2
        except StageFailed as exc:
            print(f"journey {args.command}: {exc}\nlog: {log_path}", file=console)
            return 1
        except Exception as exc:  # a broken step: loud, with the traceback in the log
            traceback.print_exc()
            print(
                f"journey {args.command}: {type(exc).__name__}: {exc}\ntraceback in {log_path}",
                file=console,
            )
            return 1
        if args.command in ("run", "transform", "score", "refresh"):
            print_summary(settings, out=console, skipped=skipped)
        else:
            for line in skipped:
                progress(f"skipped {line}")
        progress(f"journey {args.command}: done")
    return 0


def _has_exports(settings: Settings) -> bool:
    from orchestration.landing import scan_landing

    return scan_landing(settings.landing_dir).files > 0


def print_summary(
    settings: Settings, out: TextIO | None = None, skipped: Sequence[str] = ()
) -> None:
    import duckdb

    out = out or sys.stdout
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.execute(
            """
            select schema_name, table_name
            from duckdb_tables()
            where schema_name in ('raw', 'marts')
            order by schema_name, table_name
            """
        ).fetchall()
        counts = {
            f"{schema}.{table}": con.execute(
                f'select count(*) from "{schema}"."{table}"'
            ).fetchone()[0]
            for schema, table in tables
        }
    print("\nraw (rows loaded / rejected)", file=out)
    for name, count in counts.items():
        if name.startswith("raw.") and not name.endswith("__rejected"):
            rejected = counts.get(f"{name}__rejected", 0)
            print(f"  {name:<36} {count:>12,} {rejected:>8,}", file=out)
    print("marts (rows)", file=out)
    for name, count in counts.items():
        if name.startswith("marts."):
            print(f"  {name:<36} {count:>12,}", file=out)
    if skipped:
        print("skipped", file=out)
        for line in skipped:
            print(f"  {line}", file=out)
    print(
        f"""
Warehouse:        {settings.warehouse_path}
Serving copy:     {settings.serving_path}  (read-only, for BI tools)
MLflow store:     {settings.mlflow_tracking_uri}
Dagster instance: {settings.dagster_home}
UIs: make dagster (:3000) · make mlflow-ui (:5000) · make dbt-docs (:8080)
""",
        file=out,
    )


def mlflow_ui(args: argparse.Namespace) -> int:
    settings = get_settings()
    from ml.tracking import artifact_root, ensure_tracking_store

    ensure_tracking_store(settings.mlflow_tracking_uri)
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "ui",
        "--backend-store-uri",
        settings.mlflow_tracking_uri,
        "--default-artifact-root",
        artifact_root(settings.mlflow_tracking_uri),
        "--host",
        args.host,
        "--port",
        str(args.port),
    ]
    return subprocess.call(command)


def dbt_docs(args: argparse.Namespace) -> int:
    settings = get_settings()
    _export_env(settings)
    dbt = str(Path(sys.executable).with_name("dbt"))
    common = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    # --no-compile: compiled SQL holds the pseudonym key as a literal (docs/privacy.md), and a
    # docs site is for readers who must not have it. The site then reads the manifest of
    # `dbt parse` (no compiled code), refreshed here when a dbt file changed.
    from orchestration.transform.project import manifest_is_stale, prepare_manifest

    prepare_manifest(force=manifest_is_stale())
    code = subprocess.call([dbt, "docs", "generate", "--no-compile", *common])
    if code:
        return code
    serve = [dbt, "docs", "serve", *common, "--host", args.host, "--port", str(args.port)]
    return subprocess.call([*serve, "--no-browser"])


def _add_range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="first", type=_day, help="first day (default: first landing file's day)"
    )
    parser.add_argument(
        "--to", dest="last", type=_day, help="last day (default: last landing file's day)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journey", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="dbt manifest, dagster.yaml and MLflow store")
    run_parser = sub.add_parser(
        "run", help="everything: demo exports if none, ingest, transform, train, score"
    )
    _add_range(run_parser)
    run_parser.add_argument("--people", type=int, default=5000, help="demo size (5000)")
    run_parser.add_argument("--days", type=int, default=180, help="demo days (180)")
    run_parser.add_argument("--seed", type=int, default=7, help="demo seed (7)")
    run_parser.add_argument(
        "--skip-generate", action="store_true", help="use the exports in the landing dir"
    )
    run_parser.add_argument("--regenerate", action="store_true", help="regenerate demo exports")
    for name, text in (
        ("ingest", "load the landing files into raw.*"),
        ("transform", "dbt build (staging, intermediate, marts) with its tests"),
        ("score", "score customers with the champion models; publish the serving copy"),
        ("refresh", "the daily refresh in one run: ingest, transform, score (default: last day)"),
    ):
        _add_range(sub.add_parser(name, help=text))
    sub.add_parser("train", help="train, register and promote both models")
    sub.add_parser("summary", help="tables and row counts")
    ui = sub.add_parser("mlflow-ui", help="MLflow UI on the project's store")
    ui.add_argument("--host", default="127.0.0.1")
    ui.add_argument("--port", type=int, default=5000)
    docs = sub.add_parser("dbt-docs", help="generate and serve the dbt docs")
    docs.add_argument("--host", default="127.0.0.1")
    docs.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)

    if args.command == "prepare":
        prepare(get_settings(), Progress())
        return 0
    if args.command in PIPELINE_COMMANDS:
        if args.command == "train":
            args.first = args.last = None
        return stage_command(args)
    if args.command == "summary":
        print_summary(get_settings())
        return 0
    if args.command == "mlflow-ui":
        return mlflow_ui(args)
    return dbt_docs(args)


if __name__ == "__main__":
    raise SystemExit(main())
