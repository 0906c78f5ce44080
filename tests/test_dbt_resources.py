"""dbt's resource limits come from the environment (dbt_project/profiles.yml): the thread count
and DuckDB's memory limit, spill directory and insertion order, as a real dbt process sees
them on a temp warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.settings import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))
RESOURCE_VARIABLES = (
    "JOURNEY_DBT_THREADS",
    "JOURNEY_DUCKDB_MEMORY_LIMIT",
    "JOURNEY_DUCKDB_TEMP_DIRECTORY",
)
SETTINGS_SQL = (
    "select current_setting('memory_limit') as memory_limit, "
    "current_setting('temp_directory') as temp_directory, "
    "current_setting('preserve_insertion_order') as preserve_insertion_order, "
    "current_setting('TimeZone') as time_zone"
)


def _dbt_show(tmp_path: Path, env: dict[str, str]) -> tuple[dict, str]:
    """The DuckDB settings one dbt connection sees, and dbt's log (which names its threads)."""
    result = subprocess.run(
        [
            DBT,
            "show",
            "--inline",
            SETTINGS_SQL,
            "--output",
            "json",
            "--log-format",
            "text",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env={**os.environ, "JOURNEY_WAREHOUSE": str(tmp_path / "warehouse.duckdb"), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    start = result.stdout.index("{")
    rows = json.JSONDecoder().raw_decode(result.stdout[start:])[0]["show"]
    log = (tmp_path / "logs" / "dbt.log").read_text()
    return rows[0], log


def test_defaults_fit_a_small_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in RESOURCE_VARIABLES:
        monkeypatch.delenv(key, raising=False)
    settings, log = _dbt_show(tmp_path, {})
    # DuckDB reports 3GB as 2.7 GiB.
    assert settings["memory_limit"] == "2.7 GiB"
    assert settings["temp_directory"] == str(tmp_path / "warehouse.duckdb.tmp")
    assert settings["preserve_insertion_order"] is False
    assert settings["time_zone"] == "UTC"
    assert "Concurrency: 2 threads" in log


def test_environment_overrides_the_limits(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    settings, log = _dbt_show(
        tmp_path,
        {
            "JOURNEY_DBT_THREADS": "1",
            "JOURNEY_DUCKDB_MEMORY_LIMIT": "1GB",
            "JOURNEY_DUCKDB_TEMP_DIRECTORY": str(spill),
        },
    )
    assert settings["memory_limit"] == "953.6 MiB"
    assert settings["temp_directory"] == str(spill)
    assert "Concurrency: 1 threads" in log
