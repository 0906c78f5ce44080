"""Dagster resources for the warehouse file and the landing directory.

Their paths come from `orchestration.settings` when the Definitions are built
(`from_settings()`), never at import time, and nothing connects until an asset asks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from orchestration.settings import get_settings


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse file. DuckDB allows one writing process per file, so every asset
    that writes through this resource runs in the `duckdb_warehouse` concurrency pool."""

    path: str
    # The pool normally prevents lock conflicts; waiting covers an instance without the pool
    # limit (no dagster.yaml) or another process (a notebook, the dbt CLI) holding the file.
    lock_timeout_seconds: float = 60.0

    @classmethod
    def from_settings(cls) -> WarehouseResource:
        return cls(path=str(get_settings().warehouse_path))

    def _config(self) -> dict[str, str]:
        # The same bounds as dbt's (profiles.yml): DuckDB's default is 80 % of the machine's
        # memory, and a 10x ingestion reached 7 GB without one; beyond the limit it spills.
        return {
            "memory_limit": os.environ.get("JOURNEY_DUCKDB_MEMORY_LIMIT", "3GB"),
            "temp_directory": os.environ.get("JOURNEY_DUCKDB_TEMP_DIRECTORY", self.path + ".tmp"),
        }

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout_seconds
        while True:
            try:
                return duckdb.connect(self.path, read_only=read_only, config=self._config())
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection whose session time zone is UTC, so TIMESTAMPTZ values print as UTC."""
        if not read_only:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = self._open(read_only)
        try:
            con.execute("set TimeZone = 'UTC'")
            yield con
        finally:
            con.close()


class LandingResource(dg.ConfigurableResource):
    """The directory the source exports land in: `<root>/<source>/<YYYY-MM-DD>.<ext>`."""

    root: str

    @classmethod
    def from_settings(cls) -> LandingResource:
        return cls(root=str(get_settings().landing_dir))

    @property
    def root_path(self) -> Path:
        return Path(self.root)


# One writer per DuckDB file: every asset that writes the warehouse runs in this pool, and
# dagster.yaml (orchestration/instance.py) gives every pool a limit of one step at a time.
WAREHOUSE_POOL = "duckdb_warehouse"
