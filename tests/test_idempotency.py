"""Running again changes nothing: the whole main job twice, or a range of days again, leaves
every table of the warehouse with the same checksum as the first run (issue 12, item 7), and
the same rows give the same models (item 9).

What is compared: every table and view of every schema, `count(*)` and `sum(hash(row))`
(orchestration/checksums.py), without the columns that record when or by which registry
version a row was written (`EXCLUDED_COLUMNS`: `_loaded_at`, `scored_at`, the model version
columns of `customer_scores`).
"""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.checksums import TableChecksum, differences, warehouse_checksums
from tests.crash_harness import Baseline, clean_baseline, journey_ok


def _table(path: Path, rows: list[tuple]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute(
            "create or replace table marts.customer_scores ("
            " customer_id varchar, churn_probability double, churn_model_version varchar,"
            " scored_at timestamp)"
        )
        con.executemany("insert into marts.customer_scores values (?, ?, ?, ?)", rows)


def test_checksums_ignore_row_order_and_load_metadata_only(tmp_path: Path) -> None:
    rows = [("a", 0.1, "1", "2026-01-01 00:00:00"), ("b", 0.2, "1", "2026-01-01 00:00:00")]
    _table(tmp_path / "one.duckdb", rows)
    # Same rows in another order, written later by another model version: equal.
    _table(
        tmp_path / "two.duckdb",
        [(c, p, "7", "2026-02-02 10:00:00") for c, p, _, _ in reversed(rows)],
    )
    one = warehouse_checksums(tmp_path / "one.duckdb")
    assert one["marts.customer_scores"].rows == 2
    assert differences(one, warehouse_checksums(tmp_path / "two.duckdb")) == []
    # One probability off in the last bit (a float sum in another order): a difference.
    _table(tmp_path / "three.duckdb", [rows[0], ("b", math.nextafter(0.2, 1.0), "1", rows[1][3])])
    three = warehouse_checksums(tmp_path / "three.duckdb")
    assert three["marts.customer_scores"].rows == 2
    assert differences(one, three) == [
        f"marts.customer_scores: {three['marts.customer_scores']} != expected "
        f"{one['marts.customer_scores']}"
    ]
    assert differences({"marts.x": TableChecksum(1, 2)}, {}) == [
        "marts.x: missing (expected 1 rows, hash sum 2)"
    ]


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    return clean_baseline(tmp_path_factory.mktemp("clean_run"))


def _mlflow_runs_by_version(env: dict[str, str]) -> dict[tuple[str, str], object]:
    from ml.tracking import client_for

    client = client_for(env["MLFLOW_TRACKING_URI"])
    runs = {}
    for model in ("churn", "purchase_propensity"):
        for version in client.search_model_versions(f"name = '{model}'"):
            runs[(model, str(version.version))] = client.get_run(version.run_id)
    return runs


@pytest.mark.e2e
def test_the_main_job_twice_gives_the_same_tables_models_and_scores(baseline: Baseline) -> None:
    journey_ok(baseline.env, "run", "--skip-generate")
    assert (
        differences(baseline.checksums, warehouse_checksums(baseline.env["JOURNEY_WAREHOUSE"]))
        == []
    )
    # Retrained on the same rows through the assets: the same metrics, parameters and decision.
    runs = _mlflow_runs_by_version(baseline.env)
    for model in ("churn", "purchase_propensity"):
        first, second = runs[(model, "1")], runs[(model, "2")]

        # Fit time is the wall clock of the fit, not a property of the model.
        def compared(run) -> dict[str, float]:
            return {
                k: v
                for k, v in run.data.metrics.items()
                if k.startswith("validation_") and not k.endswith("fit_seconds")
            }

        metrics = compared(first)
        assert metrics and metrics == compared(second)
        assert first.data.params == second.data.params
        assert second.data.tags["promotion_decision"] == "promoted"  # a tie keeps the fresher


@pytest.mark.e2e
def test_rerunning_a_range_of_days_changes_nothing(baseline: Baseline) -> None:
    with duckdb.connect(baseline.env["JOURNEY_WAREHOUSE"], read_only=True) as con:
        (first_day,) = con.execute("select min(_partition_date) from raw.web_events").fetchone()
    # Ten days across a month boundary: a run over two ingestion partitions.
    first = first_day + timedelta(days=55)
    last = first + timedelta(days=9)
    assert first.month != last.month
    env = baseline.env
    journey_ok(env, "ingest", "--from", first.isoformat(), "--to", last.isoformat())
    journey_ok(env, "transform", "--from", first.isoformat(), "--to", last.isoformat())
    journey_ok(env, "score")
    assert differences(baseline.checksums, warehouse_checksums(env["JOURNEY_WAREHOUSE"])) == []
