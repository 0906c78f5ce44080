"""Publish the marts to a read-only serving database for BI tools.

DuckDB allows one writing process per file, and a BI tool holding the warehouse open would
block the pipeline. So BI tools read a separate file that is rebuilt next to the old one and
swapped in with an atomic rename: a reader that already has the old file open keeps a
consistent snapshot (POSIX keeps the unlinked inode alive), a new connection sees the new one.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.ingest.contract import quote_ident

DEFAULT_SCHEMAS: tuple[str, ...] = ("marts",)


@dataclass(frozen=True)
class PublishResult:
    serving_path: Path
    row_counts: dict[str, int]
    bytes_written: int


def publish_serving_copy(
    con: duckdb.DuckDBPyConnection,
    serving_path: Path,
    schemas: tuple[str, ...] = DEFAULT_SCHEMAS,
) -> PublishResult:
    """Copy the tables and views of `schemas` to a new file, then atomically replace `serving_path`.

    `con` is an open (read-write) connection to the warehouse: the new file is attached to it.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging = serving_path.with_name(f".{serving_path.name}.{uuid.uuid4().hex}.tmp")
    row_counts: dict[str, int] = {}
    try:
        (warehouse,) = con.execute("select current_database()").fetchone()
        con.execute(f"attach {_quote_literal(staging)} as serving")
        try:
            relations = con.execute(
                """
                select table_schema, table_name
                from information_schema.tables
                where table_catalog = ? and table_schema in (select unnest(?))
                order by table_schema, table_name
                """,
                [warehouse, list(schemas)],
            ).fetchall()
            for schema in schemas:
                con.execute(f"create schema if not exists serving.{quote_ident(schema)}")
            for schema, table in relations:
                target = f"serving.{quote_ident(schema)}.{quote_ident(table)}"
                source = f"{quote_ident(warehouse)}.{quote_ident(schema)}.{quote_ident(table)}"
                con.execute(f"create table {target} as select * from {source}")
                (count,) = con.execute(f"select count(*) from {target}").fetchone()
                row_counts[f"{schema}.{table}"] = int(count)
            con.execute("checkpoint serving")
        finally:
            con.execute("detach serving")
        os.replace(staging, serving_path)
    finally:
        for leftover in (staging, staging.with_name(staging.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return PublishResult(serving_path, row_counts, serving_path.stat().st_size)


def _quote_literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
