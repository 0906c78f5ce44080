"""`journey`: the project's command line.

journey prepare      dbt manifest, DAGSTER_HOME/dagster.yaml, MLflow store (idempotent)
journey run          the main job: demo exports (if none) → ingest → dbt build → train → score
journey summary      tables and row counts of the warehouse
journey mlflow-ui    the MLflow UI on the project's tracking store
journey dbt-docs     generate and serve the dbt docs site
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, SOURCES, Settings, get_settings


class Progress:
    """Per-step lines with elapsed time, so long work shows it is moving."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f}s] {message}", flush=True)


def _export_env(settings: Settings) -> None:
    # Child processes (dbt, the webserver) and the Dagster instance read these.
    os.environ.setdefault("DAGSTER_HOME", str(settings.dagster_home))
    os.environ.setdefault("MLFLOW_TRACKING_URI", settings.mlflow_tracking_uri)
    os.environ.setdefault("JOURNEY_WAREHOUSE", str(settings.warehouse_path))


def prepare(settings: Settings, progress: Progress) -> None:
    from ml.tracking import ensure_tracking_store
    from orchestration.instance import write_dagster_yaml
    from orchestration.transform import prepare_manifest

    _export_env(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    progress(f"dagster instance: {write_dagster_yaml(settings.dagster_home)}")
    # Always re-parse: the models may have changed since the last install.
    progress(f"dbt manifest: {prepare_manifest(force=True)}")
    ensure_tracking_store(settings.mlflow_tracking_uri)
    progress(f"mlflow store: {settings.mlflow_tracking_uri}")


def _landing_days(settings: Settings) -> list[str]:
    days = {
        path.stem
        for source, ext in SOURCES.items()
        for path in (settings.landing_dir / source).glob(f"*.{ext}")
    }
    return sorted(days)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    progress = Progress()
    prepare(settings, progress)

    if args.regenerate or (not args.skip_generate and not _landing_days(settings)):
        from orchestration.demo import generate

        progress(f"generating demo exports into {settings.landing_dir}")
        summary = generate(
            settings.landing_dir,
            settings.ground_truth_dir,
            people=args.people,
            days=args.days,
            seed=args.seed,
            start=settings.first_partition_date,
            progress=progress,
        )
        progress(f"demo exports written: {summary}")

    days = _landing_days(settings)
    if not days:
        print(f"No export files under {settings.landing_dir}: nothing to do.", file=sys.stderr)
        return 1

    from orchestration.pipeline import run_main_job

    run_main_job(first_day=days[0], last_day=days[-1], progress=progress)
    print_summary(settings)
    return 0


def print_summary(settings: Settings) -> None:
    import duckdb

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            """
            select schema_name, table_name
            from duckdb_tables()
            where schema_name in ('raw', 'marts')
            order by schema_name, table_name
            """
        ).fetchall()
        print("\nTables (schema.table: rows)")
        for schema, table in rows:
            (count,) = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            print(f"  {schema + '.' + table:<40} {count:>12,}")
    print(
        f"""
Warehouse:        {settings.warehouse_path}
Serving copy:     {settings.serving_path}  (read-only, for BI tools)
MLflow store:     {settings.mlflow_tracking_uri}
Dagster instance: {settings.dagster_home}

Open the UIs:
  make dagster     # Dagster UI on http://127.0.0.1:3000
  make mlflow-ui   # MLflow UI on http://127.0.0.1:5000
  make dbt-docs    # dbt docs on http://127.0.0.1:8080
"""
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
    code = subprocess.call([dbt, "docs", "generate", *common])
    if code:
        return code
    serve = [dbt, "docs", "serve", *common, "--host", args.host, "--port", str(args.port)]
    return subprocess.call([*serve, "--no-browser"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journey", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare", help="dbt manifest, dagster.yaml and MLflow store")
    run_parser = sub.add_parser("run", help="the main job, end to end")
    run_parser.add_argument("--people", type=int, default=5000)
    run_parser.add_argument("--days", type=int, default=180)
    run_parser.add_argument("--seed", type=int, default=7)
    run_parser.add_argument("--skip-generate", action="store_true", help="use existing exports")
    run_parser.add_argument("--regenerate", action="store_true", help="regenerate demo exports")
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
    if args.command == "run":
        return run(args)
    if args.command == "summary":
        print_summary(get_settings())
        return 0
    if args.command == "mlflow-ui":
        return mlflow_ui(args)
    return dbt_docs(args)


if __name__ == "__main__":
    raise SystemExit(main())
