"""The Dagster instance configuration that `journey prepare` writes into DAGSTER_HOME."""

from __future__ import annotations

from pathlib import Path

# Every pool admits one step at a time: all steps that write the DuckDB warehouse share the
# pool `duckdb_warehouse`, so there is never more than one writing process per file, even when
# several runs (a backfill, the sensor, a schedule) are in flight. Runs themselves may overlap.
DAGSTER_YAML = """\
# Written by `journey prepare` (orchestration/instance.py); see docs/operations.md.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
    granularity: op
  runs:
    max_concurrent_runs: 4
"""


def write_dagster_yaml(dagster_home: Path, *, overwrite: bool = False) -> Path:
    """Create DAGSTER_HOME and its dagster.yaml (kept as is if the user has edited it)."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    if overwrite or not path.exists():
        path.write_text(DAGSTER_YAML)
    return path
