"""Friction points on the small demo of `journey run` (tests/conftest.py demo_pipeline): the
planted signup-form loops are found, their conversion cost is estimated within its interval,
the chart is on the asset page, and the friction models' dbt data and unit tests pass.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from benchmarks.report_friction import measure
from orchestration.transform.friction_chart import FRICTION_KEY
from tests.conftest import DemoPipeline, dbt_test_on_demo


def test_planted_loops_are_found_and_their_cost_estimated(demo_pipeline: DemoPipeline) -> None:
    settings = demo_pipeline.settings
    report = measure(settings.warehouse_path, settings.ground_truth_dir)
    print("\n".join(report.lines()))
    assert report.planted >= 100  # enough for the interval below to mean something
    assert report.precision >= 0.9 and report.recall >= 0.9
    # The planted effect lowers conversion: the true gap and its estimate are positive, and
    # the estimate's 95 % interval covers the true gap (seeded: deterministic, not flaky).
    assert report.true_gap > 0
    assert report.estimated_gap > 0
    assert report.ci_low <= report.true_gap <= report.ci_high


def test_top_friction_points_chart_is_on_the_asset_page(
    demo_pipeline: DemoPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", demo_pipeline.env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(FRICTION_KEY)
    assert event is not None
    metadata = event.asset_materialization.metadata
    assert "data:image/png;base64," in metadata["top_friction_points_chart"].value
    assert metadata["dagster/row_count"].value > 0


def test_friction_dbt_data_and_unit_tests_pass(demo_pipeline: DemoPipeline, tmp_path: Path) -> None:
    # `journey` builds without dbt unit tests; run them, and the data tests, here.
    done = dbt_test_on_demo(
        demo_pipeline, tmp_path, "path:models/intermediate/friction", "path:models/marts/friction"
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "unit_test" in done.stdout or "PASS=" in done.stdout
