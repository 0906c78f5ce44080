"""The `journey` command under the failures a user meets: a second command on the same data
directory, and `kill -9` at every stage (real processes, real signals; issue 12 items 6, 8).

One chain of commands on a copy of the demo's landing files, each SIGKILLed at another stage
and each recovering what the previous one left: ingest (mid-write), dbt (mid-write, while a
second command is refused), training (an MLflow run open), scoring, publishing the serving
copy. The last `journey run` completes, and its warehouse equals the clean run's table by
table (tests/crash_harness.py `clean_baseline`, shared with tests/test_idempotency.py). The
independent matrix, with timings, is benchmarks/bench_crash.py.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ml.tracking import client_for
from orchestration.checksums import differences, warehouse_checksums
from orchestration.pipeline import MLFLOW_KILLED_TAG
from tests.crash_harness import (
    JOURNEY,
    RECOVERED,
    Baseline,
    Journey,
    clean_baseline,
    copy_landing,
    demo_env,
    journey_ok,
    mlflow_runs,
    start_and_kill,
    wal_path,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    return clean_baseline(tmp_path_factory.mktemp("clean_run"))


def _second_command_is_refused(journey: Journey) -> None:
    """While `journey run` holds the data directory, another command says who, at once."""
    started = time.monotonic()
    second = subprocess.run(
        [JOURNEY, "ingest"], env=journey.env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 2
    assert "`journey run` (pid" in second.stderr and "is using" in second.stderr
    assert time.monotonic() - started < 30


def _recovered_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if RECOVERED in line]


def test_kill_9_at_every_stage_then_the_next_run_recovers_and_equals_a_clean_run(
    tmp_path: Path, baseline: Baseline
) -> None:
    env = demo_env(tmp_path)
    copy_landing(baseline, env)

    # Ingestion, while DuckDB writes the largest source: no run to recover yet.
    _, ingest = start_and_kill(env, "ingest")
    assert ingest.wal_at_kill and ingest.reopened_tables > 0
    assert not _recovered_lines(ingest.output)

    # dbt, mid-write. This run first recovers the killed ingestion run (one line).
    _, dbt = start_and_kill(env, "dbt", before_kill=_second_command_is_refused)
    assert len(_recovered_lines(dbt.output)) == 1
    assert "(ingest_exports)" in _recovered_lines(dbt.output)[0]
    assert dbt.wal_at_kill and dbt.reopened_tables > 0

    # Training, while a model is being logged: its MLflow run is left RUNNING.
    _, train = start_and_kill(env, "train")
    assert "(dbt_build)" in _recovered_lines(train.output)[0]
    assert train.mlflow_running_at_kill >= 1

    # Scoring; the training run's MLflow runs are closed as KILLED by this command.
    _, score = start_and_kill(env, "score", "score")
    (line,) = _recovered_lines(score.output)
    assert "(train_and_score)" in line
    assert f"{train.mlflow_running_at_kill} MLflow run" in line and "closed as KILLED" in line
    assert mlflow_runs(env, "RUNNING") == 0
    assert mlflow_runs(env, "KILLED") == train.mlflow_running_at_kill

    # Publishing the serving copy (after the scores are written).
    _, publish = start_and_kill(env, "publish", "score")
    assert "(score_customers)" in _recovered_lines(publish.output)[0]

    # The next run recovers the last one and completes; the data equal a clean run's.
    output, _ = journey_ok(env, "run", "--skip-generate")
    (line,) = _recovered_lines(output)
    assert "(score_customers)" in line
    assert not wal_path(env).exists()
    assert differences(baseline.checksums, warehouse_checksums(env["JOURNEY_WAREHOUSE"])) == []
    serving = Path(env["JOURNEY_SERVING"])
    assert not list(serving.parent.glob(f".{serving.name}.*.tmp*"))  # no half-written copy
    with duckdb.connect(str(serving), read_only=True) as con:
        (scores,) = con.execute("select count(*) from marts.customer_scores").fetchone()
    assert scores == baseline.checksums["marts.customer_scores"].rows

    # MLflow: nothing left RUNNING; the killed runs say why.
    client = client_for(env["MLFLOW_TRACKING_URI"])
    experiments = [e.experiment_id for e in client.search_experiments()]
    killed = client.search_runs(experiments, filter_string="attributes.status = 'KILLED'")
    assert len(killed) == train.mlflow_running_at_kill
    assert all("was killed" in r.data.tags[MLFLOW_KILLED_TAG] for r in killed)
    assert mlflow_runs(env, "RUNNING") == 0

    # Dagster: the five killed runs failed, nothing is left in progress or holding a slot.
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = instance.get_runs()
        assert sum(r.status == dg.DagsterRunStatus.FAILURE for r in runs) == 5
        assert all(r.is_finished for r in runs)
        assert not instance.event_log_storage.get_concurrency_run_ids()
