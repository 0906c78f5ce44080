"""The serving copy for BI tools: readers in another process never fail and always see one
consistent refresh while the pipeline republishes."""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import duckdb

from orchestration.serve.publish import publish_serving_copy

REFRESHES = 25


def _build_marts(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Two marts that must agree: every row of both carries the refresh version."""
    con.execute("create schema if not exists marts")
    con.execute(
        f"create or replace table marts.orders as "
        f"select range as order_id, {version} as version from range({1000 + version})"
    )
    con.execute(
        f"create or replace table marts.daily as "
        f"select {version} as version, {1000 + version} as orders"
    )


def _reader(serving: str, stop, results: mp.Queue) -> None:
    """A BI client: connect read-only, query both marts, disconnect; over and over."""
    queries = errors = inconsistent = 0
    versions = set()
    while not stop.is_set():
        try:
            with duckdb.connect(serving, read_only=True) as con:
                (orders, order_version, order_versions) = con.execute(
                    "select count(*), max(version), count(distinct version) from marts.orders"
                ).fetchone()
                (daily_version, daily_orders) = con.execute(
                    "select version, orders from marts.daily"
                ).fetchone()
            queries += 1
            versions.add(order_version)
            if order_versions != 1 or order_version != daily_version or orders != daily_orders:
                inconsistent += 1
        except duckdb.Error as error:
            errors += 1
            results.put(("error", str(error)))
    results.put(("done", queries, errors, inconsistent, len(versions)))


def test_readers_see_consistent_snapshots_while_refreshing(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        _build_marts(con, 0)
        publish_serving_copy(con, serving)

        ctx = mp.get_context("spawn")
        results: mp.Queue = ctx.Queue()
        stop = ctx.Event()
        readers = [
            ctx.Process(target=_reader, args=(str(serving), stop, results)) for _ in range(2)
        ]
        for reader in readers:
            reader.start()
        time.sleep(2)  # let the readers start querying before the first refresh
        published = []
        for version in range(1, REFRESHES + 1):
            _build_marts(con, version)
            published.append(publish_serving_copy(con, serving).row_counts)
        time.sleep(1)
        stop.set()

    summaries, errors = [], []
    for reader in readers:
        reader.join(timeout=30)
    while not results.empty():
        item = results.get()
        (summaries if item[0] == "done" else errors).append(item)
    assert not errors, errors[:3]
    assert len(summaries) == 2
    for _, queries, failed, inconsistent, versions_seen in summaries:
        assert failed == 0 and inconsistent == 0
        assert queries > REFRESHES  # the readers really were reading during the refreshes
        assert versions_seen > 1  # ...and saw refreshes land
    assert published[-1] == {"marts.daily": 1, "marts.orders": 1000 + REFRESHES}
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select max(version) from marts.orders").fetchone() == (REFRESHES,)
    # No half-written copies left behind.
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
