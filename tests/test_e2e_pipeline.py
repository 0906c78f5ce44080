"""End to end: the README's main job (`journey run`) on a small demo, with real DuckDB, dbt
(through dagster-dbt), MLflow (SQLite store + registry) and Dagster (a persistent instance).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import mlflow
import pytest

from orchestration.demo.sink import DEMO_SOURCES
from orchestration.settings import SOURCES
from tests.conftest import DEMO_AUC_FLOOR, DemoPipeline, run_journey

pytestmark = pytest.mark.e2e

MARTS = (
    "dim_customers",
    "fct_sessions",
    "fct_touchpoints",
    "fct_customer_funnel",
    "agg_funnel_daily",
    "fct_attribution",
    "agg_channel_attribution",
    "agg_paths",
    "agg_cohort_retention",
    "customer_features",
    "customer_scores",
    # journey intelligence (issue 9)
    "agg_channel_removal_effects",
    "agg_journey_map_links",
    "fct_friction_events",
    "agg_friction_points",
    "agg_friction_points_all_time",
    "customer_journey_features",
    "customer_journey_segments",
    "agg_journey_segments",
)


def _data_lines(pipeline: DemoPipeline, source: str) -> int:
    """Non-blank physical lines after the CSV header, over every file of the source."""
    total = 0
    for path in (pipeline.settings.landing_dir / source).glob(f"*.{SOURCES[source]}"):
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        total += len(lines) - (0 if SOURCES[source] == "jsonl" else 1)
    return total


def _counts(pipeline: DemoPipeline) -> dict[str, int]:
    with duckdb.connect(str(pipeline.settings.warehouse_path), read_only=True) as con:
        tables = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables() "
                "where schema_name in ('raw', 'marts') order by 1, 2"
            ).fetchall()
        ]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def test_every_input_line_is_loaded_or_rejected(demo_pipeline: DemoPipeline) -> None:
    counts = _counts(demo_pipeline)
    for source in DEMO_SOURCES:  # the sources the demo writes files for
        loaded, rejected = counts[f"raw.{source}"], counts[f"raw.{source}__rejected"]
        assert loaded > 0, source
        assert loaded + rejected == _data_lines(demo_pipeline, source), source


def test_every_mart_is_built_and_scored(demo_pipeline: DemoPipeline) -> None:
    counts = _counts(demo_pipeline)
    for mart in MARTS:
        assert counts[f"marts.{mart}"] > 0, mart
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        days, rows, customers, bad = con.execute(
            """
            select count(distinct score_date), count(*), count(distinct customer_id),
                   count(*) filter (where not (coalesce(churn_probability, 0) between 0 and 1
                                           and coalesce(purchase_propensity, 0) between 0 and 1))
            from marts.customer_scores
            """
        ).fetchone()
        (last_snapshot,) = con.execute(
            "select max(snapshot_date) from marts.customer_features"
        ).fetchone()
        (eligible,) = con.execute(
            """
            select count(*) from marts.customer_features
            where snapshot_date = ?
              and (is_customer_at_snapshot or paid_orders_to_date = 0)
            """,
            [last_snapshot],
        ).fetchone()
        actions = dict(
            con.execute(
                "select next_best_action, count(*) from marts.customer_scores group by 1"
            ).fetchall()
        )
    assert days == 1
    assert rows == customers == eligible
    assert bad == 0
    assert len(actions) >= 3, actions


def test_models_registered_with_champion_alias(demo_pipeline: DemoPipeline) -> None:
    client = mlflow.MlflowClient(
        tracking_uri=demo_pipeline.settings.mlflow_tracking_uri,
        registry_uri=demo_pipeline.settings.mlflow_tracking_uri,
    )
    for name in ("churn", "purchase_propensity"):
        champion = client.get_model_version_by_alias(name, "champion")
        run = client.get_run(champion.run_id)
        assert run.data.metrics["validation_roc_auc"] >= float(DEMO_AUC_FLOOR)
        experiment = client.get_experiment(run.info.experiment_id)
        assert experiment.name == name
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
        assert {"plots/roc.png", "plots/calibration.png"} <= artifacts


def test_serving_copy_matches_the_marts(demo_pipeline: DemoPipeline) -> None:
    counts = _counts(demo_pipeline)
    with duckdb.connect(str(demo_pipeline.settings.serving_path), read_only=True) as con:
        served = {
            f"marts.{name}": con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts'"
            ).fetchall()
        }
    assert served == {k: v for k, v in counts.items() if k.startswith("marts.")}


def test_main_job_reports_progress_and_summary(demo_pipeline: DemoPipeline) -> None:
    out = demo_pipeline.first_run_output
    lines = out.splitlines()
    for job in ("ingest_exports", "dbt_build", "train_and_score"):
        assert any(f"] {job} " in line and line.endswith(": succeeded") for line in lines), job
    assert any("marts/customer_scores:" in line and "rows" in line for line in lines)
    assert "marts (rows)" in out and "make dagster" in out
    # Progress only: dbt's per-model output and library warnings went to the log file.
    assert len(lines) <= 120, len(lines)
    assert not [line for line in lines if "Warning" in line or "OK created" in line]
    log = Path(next(line for line in lines if "details in" in line).split("details in ")[1])
    assert "OK created" in log.read_text()


def test_running_twice_duplicates_nothing(demo_pipeline: DemoPipeline) -> None:
    before = _counts(demo_pipeline)
    run_journey(demo_pipeline.env, "run", "--skip-generate")
    after = _counts(demo_pipeline)
    assert after == before
    client = mlflow.MlflowClient(
        tracking_uri=demo_pipeline.settings.mlflow_tracking_uri,
        registry_uri=demo_pipeline.settings.mlflow_tracking_uri,
    )
    # The rerun trained a challenger on the same data: registered, compared, champion kept valid.
    for name in ("churn", "purchase_propensity"):
        assert str(client.get_model_version_by_alias(name, "challenger").version) == "2"
        assert str(client.get_model_version_by_alias(name, "champion").version) in {"1", "2"}


def test_documented_bi_queries_run_on_the_serving_copy(demo_pipeline: DemoPipeline) -> None:
    """Every example query in docs/serving.md runs read-only and returns rows."""
    doc = (Path(__file__).parent.parent / "docs" / "serving.md").read_text()
    sql = doc.split("```sql", 1)[1].split("```", 1)[0]
    queries = [q.strip() for q in sql.split(";") if q.strip()]
    assert len(queries) == 16
    with duckdb.connect(str(demo_pipeline.settings.serving_path), read_only=True) as con:
        for query in queries:
            assert con.execute(query).fetchall(), query
