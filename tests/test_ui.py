"""The UIs as a person would use them, on the project `journey run` built (`demo_pipeline`).

Dagster: `dagster dev` (webserver + daemon) on loopback; the code location, assets, checks,
schedules and sensor through the GraphQL API the UI itself uses; one partition of
`ingest_exports` launched and run by the daemon; the asset graph and the runs page in
headless Chromium. MLflow: `journey mlflow-ui`, its REST API and the models page.

Screenshots go to test-output/ui/ (gitignored) so a person can look at them after CI.
"""

from __future__ import annotations

import sys
import time
import urllib.error
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from orchestration.ingest.assets import month_key
from orchestration.pipeline import SINGLE_PARTITION_TAG, partition_range_tags
from orchestration.settings import PROJECT_ROOT, SOURCES
from tests.conftest import DemoPipeline
from tests.ui_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    graphql,
    http_get_json,
    http_ok,
    log_tail,
    process_group,
    wait_until,
)

pytestmark = pytest.mark.e2e

LOCATION = "journey_warehouse"
SCREENSHOTS = PROJECT_ROOT / "test-output" / "ui"
MIN_SCREENSHOT_BYTES = 20_000
SERVER_START_SECONDS = 120
RUN_SECONDS = 300
MODELS = ("churn", "purchase_propensity")

requires_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing (Debian package `chromium`)"
)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


# --- Dagster -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DagsterUI:
    base_url: str
    log_path: Path
    repository_name: str

    @property
    def repository_selector(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": self.repository_name}

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return graphql(f"{self.base_url}/graphql", document, variables)


WORKSPACE_QUERY = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""


def _location_entry(base_url: str) -> dict[str, Any] | None:
    """The code location's workspace entry once it has finished loading (or failed to)."""
    workspace = graphql(f"{base_url}/graphql", WORKSPACE_QUERY)["workspaceOrError"]
    for entry in workspace.get("locationEntries", []):
        if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
            return entry
    return None


@pytest.fixture(scope="module")
def dagster_location(
    demo_pipeline: DemoPipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, dict[str, Any]]]:
    """`dagster dev` on the demo project, as `make dagster` starts it: base URL, log, entry."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("dagster_ui") / "dagster_dev.log"
    command = [_bin("dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with process_group(command, env=demo_pipeline.env, cwd=PROJECT_ROOT, log_path=log_path) as proc:
        wait = {"proc": proc, "log_path": log_path, "timeout": SERVER_START_SECONDS}
        wait_until(lambda: http_ok(f"{base_url}/server_info"), what="/server_info", **wait)
        entry = wait_until(lambda: _location_entry(base_url), what=f"{LOCATION} to load", **wait)
        yield base_url, log_path, entry


@pytest.fixture(scope="module")
def dagster_ui(dagster_location: tuple[str, Path, dict[str, Any]]) -> DagsterUI:
    base_url, log_path, entry = dagster_location
    location = entry["locationOrLoadError"]
    if location["__typename"] != "RepositoryLocation":
        pytest.fail(f"code location {LOCATION} failed to load:\n{location.get('message')}")
    return DagsterUI(base_url, log_path, location["repositories"][0]["name"])


def test_code_location_loads_without_errors(
    dagster_location: tuple[str, Path, dict[str, Any]],
) -> None:
    _, log_path, entry = dagster_location
    location = entry["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", (
        f"{location.get('message')}\n{''.join(location.get('stack') or [])}\n{log_tail(log_path)}"
    )
    assert [repo["name"] for repo in location["repositories"]] == ["__repository__"]


REPOSITORY_QUERY = """
query Repository($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on Repository {
      assetNodes {
        assetKey { path }
        isPartitioned
        assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
      }
      jobs { name }
      schedules { name pipelineName cronSchedule }
      sensors { name minIntervalSeconds sensorState { status } }
    }
    ... on PythonError { message }
    ... on RepositoryNotFoundError { message }
  }
}
"""

EXPECTED_ASSETS = {
    *(f"raw/{source}" for source in SOURCES),
    "marts/dim_customers",
    "marts/fct_sessions",
    "marts/customer_features",
    "churn_model",
    "purchase_propensity_model",
    "marts/customer_scores",
    "serving/serving_database",
}


def test_repository_has_assets_checks_jobs_schedules_and_sensor(dagster_ui: DagsterUI) -> None:
    repo = dagster_ui.query(REPOSITORY_QUERY, {"selector": dagster_ui.repository_selector})[
        "repositoryOrError"
    ]
    assert repo["__typename"] == "Repository", repo.get("message")
    nodes = {"/".join(node["assetKey"]["path"]): node for node in repo["assetNodes"]}
    assert nodes.keys() >= EXPECTED_ASSETS, sorted(EXPECTED_ASSETS - nodes.keys())
    checks = {
        key: {check["name"] for check in node["assetChecksOrError"].get("checks", [])}
        for key, node in nodes.items()
    }
    for source in SOURCES:
        assert nodes[f"raw/{source}"]["isPartitioned"], source
        assert f"{source}_lines_reconcile" in checks[f"raw/{source}"], source
    for model in ("churn_model", "purchase_propensity_model"):
        assert {"auc_above_floor", "no_label_leakage", "enough_positives"} <= checks[model]
    assert "every_eligible_customer_scored_once" in checks["marts/customer_scores"]
    # dbt tests arrive as asset checks on the dbt assets (dagster-dbt's translator).
    assert "unique_dim_customers_customer_id" in checks["marts/dim_customers"]
    assert "unique_fct_sessions_session_id" in checks["marts/fct_sessions"]
    dbt_checks = sum(len(names) for key, names in checks.items() if key.startswith("marts/"))
    assert dbt_checks >= 50, dbt_checks

    assert {"ingest_exports", "daily_refresh", "weekly_retrain"} <= {
        job["name"] for job in repo["jobs"]
    }
    schedules = {
        schedule["name"]: (schedule["pipelineName"], schedule["cronSchedule"])
        for schedule in repo["schedules"]
    }
    assert schedules == {
        "daily_refresh_schedule": ("daily_refresh", "0 2 * * *"),
        "weekly_retrain_schedule": ("weekly_retrain", "0 3 * * 1"),
    }
    sensors = {sensor["name"]: sensor for sensor in repo["sensors"]}
    assert "landing_file_sensor" in sensors
    # Off by default (docs/ingestion.md): on the demo every file is already loaded.
    assert sensors["landing_file_sensor"]["sensorState"]["status"] == "STOPPED"


LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message stack }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on InvalidSubsetError { message }
    ... on PipelineNotFoundError { message }
    ... on UnauthorizedError { message }
  }
}
"""

RUN_QUERY = """
query Run($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      jobName
      status
      tags { key value }
      stats { ... on RunStatsSnapshot { stepsSucceeded stepsFailed materializations } }
    }
  }
}
"""

RUN_FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId, limit: 2000) {
    ... on EventConnection {
      events {
        __typename
        ... on ExecutionStepFailureEvent { stepKey error { message } }
        ... on RunFailureEvent { message }
      }
    }
  }
}
"""

RUN_CHECK_EVALUATIONS = """
query Checks($runId: ID!) {
  logsForRun(runId: $runId, limit: 2000) {
    ... on EventConnection {
      events {
        __typename
        ... on AssetCheckEvaluationEvent {
          evaluation { checkName success assetKey { path } }
        }
      }
    }
  }
}
"""

LATEST_MATERIALIZATION = """
query Latest($key: AssetKeyInput!, $partition: String!) {
  assetOrError(assetKey: $key) {
    __typename
    ... on Asset {
      assetMaterializations(partitions: [$partition], limit: 1) {
        runId
        partition
        metadataEntries { label ... on IntMetadataEntry { intValue } }
      }
    }
  }
}
"""

TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def _last_demo_day(pipeline: DemoPipeline) -> str:
    days = {
        path.stem
        for source, ext in SOURCES.items()
        for path in (pipeline.settings.landing_dir / source).glob(f"*.{ext}")
    }
    assert days, f"no export files under {pipeline.settings.landing_dir}"
    return max(days)


@dataclass(frozen=True)
class LaunchedRun:
    run_id: str
    partition: str
    run: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module")
def ingest_run(dagster_ui: DagsterUI, demo_pipeline: DemoPipeline) -> LaunchedRun:
    """One partition (the last month) of `ingest_exports`, launched as the UI's "Materialize"
    does: the run is queued, the daemon dequeues it and the run launcher executes it in a new
    process."""
    partition = month_key(_last_demo_day(demo_pipeline))
    params = {
        "selector": {**dagster_ui.repository_selector, "jobName": "ingest_exports"},
        "executionMetadata": {
            "tags": [
                {"key": SINGLE_PARTITION_TAG, "value": partition},
                {"key": "journey/trigger", "value": "tests/test_ui.py"},
            ]
        },
    }
    started = time.monotonic()
    result = dagster_ui.query(LAUNCH_RUN, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    run_id = result["run"]["runId"]

    def finished() -> dict[str, Any] | None:
        run = dagster_ui.query(RUN_QUERY, {"runId": run_id})["runOrError"]
        return run if run["status"] in TERMINAL else None

    run = wait_until(
        finished,
        timeout=RUN_SECONDS,
        interval=2,
        what=f"run {run_id}",
        log_path=dagster_ui.log_path,
    )
    return LaunchedRun(run_id, partition, run, time.monotonic() - started)


def _failures(dagster_ui: DagsterUI, run_id: str) -> str:
    events = dagster_ui.query(RUN_FAILURES, {"runId": run_id})["logsForRun"].get("events", [])
    return "\n".join(
        f"{e.get('stepKey')}: {(e.get('error') or {}).get('message') or e.get('message')}"
        for e in events
        if e["__typename"] in ("ExecutionStepFailureEvent", "RunFailureEvent")
    )


def test_launched_partition_run_succeeds(
    dagster_ui: DagsterUI, ingest_run: LaunchedRun, demo_pipeline: DemoPipeline
) -> None:
    run = ingest_run.run
    assert run["status"] == "SUCCESS", _failures(dagster_ui, ingest_run.run_id)
    print(f"ingest_exports [{ingest_run.partition}]: SUCCESS after {ingest_run.seconds:.0f}s")
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert tags[SINGLE_PARTITION_TAG] == ingest_run.partition
    assert run["jobName"] == "ingest_exports"
    assert run["stats"]["stepsFailed"] == 0
    # Every source, plus the ticket sentiment scored with the support tickets.
    assert run["stats"]["materializations"] == len(SOURCES) + 1

    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        for source in SOURCES:
            key = {"path": ["raw", source]}
            asset = dagster_ui.query(
                LATEST_MATERIALIZATION, {"key": key, "partition": ingest_run.partition}
            )["assetOrError"]
            assert asset["__typename"] == "Asset", source
            [latest] = asset["assetMaterializations"]
            # The latest materialization of the partition is this run's, and its row count is
            # what the warehouse holds for that month now.
            assert latest["runId"] == ingest_run.run_id, source
            assert latest["partition"] == ingest_run.partition, source
            metadata = {
                entry["label"]: entry.get("intValue") for entry in latest["metadataEntries"]
            }
            (rows,) = con.execute(
                f"select count(*) from raw.{source} where date_trunc('month', _partition_date) = ?",
                [date.fromisoformat(ingest_run.partition)],
            ).fetchone()
            assert metadata["rows_loaded"] == rows, source

    events = dagster_ui.query(RUN_CHECK_EVALUATIONS, {"runId": ingest_run.run_id})["logsForRun"]
    evaluations = {
        e["evaluation"]["checkName"]: e["evaluation"]["success"]
        for e in events["events"]
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }
    assert evaluations == {f"{source}_lines_reconcile": True for source in SOURCES}


LAUNCH_BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}
"""

BACKFILL_QUERY = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill {
      status
      numPartitions
      runs(limit: 50) { runId status tags { key value } }
    }
    ... on PythonError { message }
  }
}
"""

ASSET_GROUPS = """
query Groups {
  assetNodes { assetKey { path } groupName isPartitioned }
}
"""

REFRESH_GROUPS = {"ingestion", "seeds", "staging", "intermediate", "marts", "scores"}
BACKFILL_SECONDS = 600


def test_two_month_backfill_of_the_refresh_succeeds_in_one_run_per_stage(
    dagster_ui: DagsterUI, demo_pipeline: DemoPipeline, ingest_run: LaunchedRun
) -> None:
    """What a data engineer does in the UI: select the refresh assets, pick the last two
    months, launch a backfill. The single-run backfill policy makes the months one run of the
    ingestion assets, followed by runs of the whole-table assets (one dbt invocation over those
    months' days, scoring); nothing runs per day or per month."""
    last = date.fromisoformat(_last_demo_day(demo_pipeline))
    months = [month_key(last.replace(day=1) - timedelta(days=1)), month_key(last)]
    nodes = dagster_ui.query(ASSET_GROUPS)["assetNodes"]
    # Partitions per asset, as the UI's launchpad sends them: the months for the ingestion
    # assets, none for the unpartitioned dbt models and scores (rebuilt once).
    span = {"range": {"start": months[0], "end": months[-1]}}
    params = {
        "partitionsByAssets": [
            {
                "assetKey": {"path": n["assetKey"]["path"]},
                "partitions": span if n["isPartitioned"] else None,
            }
            for n in nodes
            if n["groupName"] in REFRESH_GROUPS
        ],
        "title": "tests/test_ui.py: two-month refresh",
    }
    started = time.monotonic()
    launched = dagster_ui.query(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    def finished() -> dict[str, Any] | None:
        backfill = dagster_ui.query(BACKFILL_QUERY, {"id": backfill_id})["partitionBackfillOrError"]
        done = backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING")
        return backfill if done and all(r["status"] in TERMINAL for r in backfill["runs"]) else None

    backfill = wait_until(
        finished,
        timeout=BACKFILL_SECONDS,
        interval=3,
        what=f"backfill {backfill_id}",
        log_path=dagster_ui.log_path,
    )
    runs = backfill["runs"]
    print(
        f"two-month backfill: {backfill['status']} with {len(runs)} run(s) in "
        f"{time.monotonic() - started:.0f}s"
    )
    failures = "\n".join(_failures(dagster_ui, r["runId"]) for r in runs)
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), failures
    assert runs and all(r["status"] == "SUCCESS" for r in runs), failures
    run_tags = [{t["key"]: t["value"] for t in r["tags"]} for r in runs]
    assert not [tags for tags in run_tags if SINGLE_PARTITION_TAG in tags]
    span_tags = partition_range_tags(months[0], months[-1])
    ranged = [tags for tags in run_tags if span_tags.keys() & tags.keys()]
    # One run loads both months; the others (dbt, then scoring) are unpartitioned, once each.
    assert len(ranged) == 1 and span_tags.items() <= ranged[0].items(), ranged
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        (latest_score,) = con.execute(
            "select max(score_date) from marts.customer_scores"
        ).fetchone()
    assert latest_score == last


# --- Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian package `chromium`)")
    # Only this run's screenshots, so that a stale one never passes for a fresh one.
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


DISMISSED_POPUPS = """
for (const [key, value] of Object.entries({
  communityNux: '"1"',  // Dagster: "Join the Dagster community"
  "mlflow.assistant.fab.autoOpenedOnFirstLoad_v1": "true",  // MLflow: assistant side panel
  "mlflow.assistant.panelOpen_v1": "false",
})) { window.localStorage.setItem(key, value); }
"""


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    # One-time dialogs and panels that a returning user has dismissed would cover the page.
    context.add_init_script(DISMISSED_POPUPS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        context.close()


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.wait_for_timeout(1000)  # let the graph finish its zoom-to-fit animation
    page.screenshot(path=str(path), full_page=True)
    size = path.stat().st_size
    assert size > MIN_SCREENSHOT_BYTES, f"{path} is only {size} bytes: blank page?"
    return path


def _wait_for_texts(page: Any, texts: tuple[str, ...]) -> None:
    for text in texts:
        page.get_by_text(text, exact=True).first.wait_for(state="visible")


@pytest.mark.browser
@requires_chromium
def test_asset_graph_renders(dagster_ui: DagsterUI, page: Any) -> None:
    # The neighbourhood of the scores: features → both models → scores → serving copy. It has
    # grown (drift gate, customers, segments): a wider window keeps the zoom-to-fit large
    # enough for the graph to print whole asset names.
    page.set_viewport_size({"width": 2400, "height": 1400})
    page.goto(
        f"{dagster_ui.base_url}/assets/marts/customer_scores"
        "?view=lineage&lineageScope=neighbors&lineageDepth=1"
    )
    _wait_for_texts(
        page,
        ("customer_features", "churn_model", "purchase_propensity_model", "serving_database"),
    )
    _screenshot(page, "dagster_asset_graph.png")

    # The whole flow, one box per asset group, in the order of docs/STYLE.md.
    page.goto(f"{dagster_ui.base_url}/asset-groups")
    _wait_for_texts(page, ("ingestion", "staging", "intermediate", "marts", "ml", "scores"))
    _screenshot(page, "dagster_global_lineage.png")


@pytest.mark.browser
@requires_chromium
def test_runs_page_shows_the_launched_run(
    dagster_ui: DagsterUI, ingest_run: LaunchedRun, page: Any
) -> None:
    page.goto(f"{dagster_ui.base_url}/runs")
    # The runs table shows the first 8 characters of the run id, linked to the run.
    page.locator(f'a[href*="{ingest_run.run_id}"]').first.wait_for(state="visible")
    _wait_for_texts(page, (ingest_run.run_id[:8], "ingest_exports"))
    _screenshot(page, "dagster_runs.png")


# --- MLflow --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_ui(
    demo_pipeline: DemoPipeline, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("mlflow_ui") / "mlflow_ui.log"
    command = [_bin("journey"), "mlflow-ui", "--host", "127.0.0.1", "--port", str(port)]
    env = {**demo_pipeline.env, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    with process_group(command, env=env, cwd=PROJECT_ROOT, log_path=log_path) as proc:
        wait_until(
            lambda: http_ok(f"{base_url}/health"),
            timeout=SERVER_START_SECONDS,
            what="MLflow /health",
            proc=proc,
            log_path=log_path,
        )
        yield base_url


def _alias(base_url: str, model: str, alias: str) -> dict[str, Any]:
    url = f"{base_url}/api/2.0/mlflow/registered-models/alias?name={model}&alias={alias}"
    try:
        return http_get_json(url)["model_version"]
    except urllib.error.HTTPError as error:
        pytest.fail(f"GET {url} → HTTP {error.code}: {error.read()[:500]!r}")


def test_mlflow_lists_experiments_and_champion_models(mlflow_ui: str) -> None:
    experiments = http_get_json(f"{mlflow_ui}/api/2.0/mlflow/experiments/search?max_results=100")
    assert set(MODELS) <= {e["name"] for e in experiments["experiments"]}

    registered = http_get_json(f"{mlflow_ui}/api/2.0/mlflow/registered-models/search")
    models = {model["name"]: model for model in registered["registered_models"]}
    assert set(MODELS) <= models.keys()
    for name in MODELS:
        aliases = {a["alias"]: a["version"] for a in models[name].get("aliases", [])}
        assert "champion" in aliases, f"{name}: no champion alias, aliases are {aliases}"
        champion = _alias(mlflow_ui, name, "champion")
        assert champion["version"] == aliases["champion"]
        assert champion["status"] == "READY"
        # The champion was trained in the model's own experiment.
        run = http_get_json(f"{mlflow_ui}/api/2.0/mlflow/runs/get?run_id={champion['run_id']}")
        experiment = next(e for e in experiments["experiments"] if e["name"] == name)
        assert run["run"]["info"]["experiment_id"] == experiment["experiment_id"]


@pytest.mark.browser
@requires_chromium
def test_mlflow_models_page_renders(mlflow_ui: str, page: Any) -> None:
    page.goto(f"{mlflow_ui}/#/models")
    _wait_for_texts(page, MODELS)
    # The one-time "new Model Registry UI" dialog: close it as a person would (the new UI,
    # which shows aliases, stays on).
    dialog = page.get_by_role("dialog")
    with suppress(PlaywrightTimeout):
        dialog.first.wait_for(state="visible", timeout=5_000)
        dialog.first.get_by_role("button", name="Close").first.click()
        dialog.first.wait_for(state="hidden")
    _screenshot(page, "mlflow_models.png")
