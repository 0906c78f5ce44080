"""Checksums of every table in the warehouse, to prove that two runs built the same data.

`warehouse_checksums(path)` gives, per relation of every schema, its row count and the sum of
a hash of every row (`count(*)`, `sum(hash(...))`): an order-independent fingerprint, so two
warehouses that hold the same rows compare equal however DuckDB stored them, and a single
changed value anywhere changes the sum. Used by the crash and idempotency tests and by
benchmarks/bench_crash.py.

A few columns record *when* or *by which model* a row was written rather than what it says;
they differ between two honest runs and are left out of the hash (`EXCLUDED_COLUMNS`):

- `_loaded_at` (raw tables and their rejects): the load time of the row, metadata of the load;
- `marts.customer_scores.scored_at`: when the scoring step wrote the row;
- `marts.customer_scores.churn_model_version` / `propensity_model_version`: the registry's
  version number grows with every training, so a re-run that retrains scores with version 2
  what the first run scored with version 1. The scores themselves (probabilities, bands,
  reasons, next best action) are compared: the same data must give the same model;
- `applied_at` / `erased_at` of the privacy audit log and tombstones: when an erasure ran;
- `fitted_at` / `mlflow_run_id` of `marts.journey_segment_centroids`: when, and in which MLflow
  run, the journey segments were fitted (the centroids themselves are compared).

Schema `audit` is left out as a whole: it holds the failing rows dbt stored for the last
run's checks (`store_failures`), which depend on the days that run alerted on, not on the data.

Nothing else is excluded; a table that differs between two runs of the same input is a bug.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingest.contract import quote_ident

# column -> why it is left out; "*.<column>" applies to every table that has the column.
EXCLUDED_COLUMNS: Mapping[str, str] = {
    "*._loaded_at": "load time of the row",
    "marts.customer_scores.scored_at": "time the scoring step wrote the row",
    "marts.customer_scores.churn_model_version": "registry version grows with each training",
    "marts.customer_scores.propensity_model_version": "registry version grows with each training",
    "privacy.erased_identifiers.erased_at": "time the erasure wrote the tombstone",
    "privacy.erasure_log.applied_at": "time the erasure was applied",
    "marts.privacy_request_log.applied_at": "time the erasure was applied",
    "marts.journey_segment_centroids.fitted_at": "time the segments were fitted",
    "marts.journey_segment_centroids.mlflow_run_id": "MLflow run of the fit (new id per run)",
}


@dataclass(frozen=True)
class TableChecksum:
    rows: int
    row_hash_sum: int  # sum of hash(row) over the compared columns; order-independent

    def __str__(self) -> str:
        return f"{self.rows} rows, hash sum {self.row_hash_sum}"


def _excluded(schema: str, table: str, column: str) -> bool:
    return f"*.{column}" in EXCLUDED_COLUMNS or f"{schema}.{table}.{column}" in EXCLUDED_COLUMNS


def warehouse_checksums(
    path: Path | str, schemas: tuple[str, ...] | None = None
) -> dict[str, TableChecksum]:
    """`schema.table` -> checksum for every table and view of the DuckDB file (all schemas
    but DuckDB's own and `audit` unless `schemas` is given), opened read-only."""
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")
        columns = con.execute(
            """
            select table_schema, table_name, column_name
            from information_schema.columns
            where table_catalog = current_database()
              and table_schema not in ('information_schema', 'pg_catalog', 'audit')
            order by table_schema, table_name, ordinal_position
            """
        ).fetchall()
        by_table: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            if schemas is not None and schema not in schemas:
                continue
            kept = by_table.setdefault((schema, table), [])
            if not _excluded(schema, table, column):
                kept.append(column)
        checksums = {}
        for (schema, table), kept in by_table.items():
            # hash() of a struct is order-sensitive within the row and exact on values
            # (a double that differs in the last bit hashes differently), which is the point.
            row = "{" + ", ".join(f"{quote_ident(c)}: {quote_ident(c)}" for c in kept) + "}"
            rows, total = con.execute(
                f"select count(*), coalesce(sum(hash({row})), 0) "
                f"from {quote_ident(schema)}.{quote_ident(table)}"
            ).fetchone()
            checksums[f"{schema}.{table}"] = TableChecksum(int(rows), int(total))
    return checksums


def differences(
    expected: Mapping[str, TableChecksum], actual: Mapping[str, TableChecksum]
) -> list[str]:
    """One line per table missing on either side or whose checksum differs; [] if equal."""
    lines = []
    for name in sorted(set(expected) | set(actual)):
        if name not in actual:
            lines.append(f"{name}: missing (expected {expected[name]})")
        elif name not in expected:
            lines.append(f"{name}: unexpected ({actual[name]})")
        elif expected[name] != actual[name]:
            lines.append(f"{name}: {actual[name]} != expected {expected[name]}")
    return lines
