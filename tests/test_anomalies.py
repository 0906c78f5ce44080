"""Anomaly alerts on journey metrics (issue 10 §2): the generator plants known incidents on
seeded days without moving any other draw; on the small demo of `journey run` (tests/conftest.py
demo_pipeline: 1,500 people, 150 days, seed 11) every planted incident is flagged in its
direction, false alarms stay rare, the expected range follows the score, the chart is on the
asset page, the WARN check ran, and the anomaly models' dbt data and unit tests pass.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from benchmarks.report_anomalies import measure
from orchestration.demo import generator as generator_module
from orchestration.demo.generator import generate
from orchestration.demo.incidents import (
    FIRST_DAY,
    LAST_MARGIN,
    MIN_DAYS,
    MIN_GAP_DAYS,
    SPIKE_CAMPAIGN,
    plan_incidents,
)
from orchestration.transform.anomaly_chart import ANOMALIES_KEY
from tests.conftest import DemoPipeline, dbt_test_on_demo

# Measured on this demo: 16 false alarms in 2,630 scored metric-days (0.006); the bound leaves
# room for changes elsewhere in the generator while still catching an alert storm.
MAX_FALSE_ALARM_RATE = 0.02
WARN_K = 3.5  # dbt var anomaly_warn_k (its default)


def test_incident_days_are_seeded_spaced_and_only_in_long_demos() -> None:
    plan = plan_incidents(11, 150)
    assert plan == plan_incidents(11, 150)
    assert [i.kind for i in plan] == ["checkout_outage", "tracking_drop", "campaign_spike"]
    days = sorted(i.day for i in plan)
    assert days[0] >= FIRST_DAY and days[-1] < 150 - LAST_MARGIN
    assert all(b - a >= MIN_GAP_DAYS for a, b in zip(days, days[1:], strict=False))
    assert plan_incidents(11, MIN_DAYS - 1) == []
    assert {i.day for i in plan_incidents(12, 150)} != set(days)


def _read(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _utc_day(text: str) -> str | None:
    try:
        return datetime.fromisoformat(text).astimezone(UTC).date().isoformat()
    except ValueError:
        return None  # a deliberately malformed timestamp


def test_incidents_change_only_their_days_and_the_truth_matches_the_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = {"people": 300, "days": MIN_DAYS + 7, "seed": 6}  # 8 orders on its outage day
    generate(tmp_path / "with" / "landing", tmp_path / "with" / "truth", **args)
    monkeypatch.setattr(generator_module, "plant_incidents", lambda *_: ([], 0))
    generate(tmp_path / "without" / "landing", tmp_path / "without" / "truth", **args)

    truth = tmp_path / "with" / "truth"
    incidents = {(r[0], r[1]) for r in _read(truth / "incidents.csv")[1:]}
    assert {kind for _, kind in incidents} == {"checkout_outage", "tracking_drop", "campaign_spike"}
    touched = {("orders", day) for day, kind in incidents if kind == "checkout_outage"}
    touched |= {("web_events", day) for day, kind in incidents if kind != "checkout_outage"}
    # Every other file is byte for byte what the generator writes without incidents: the
    # incidents draw from their own streams.
    differing = set()
    for path in sorted((tmp_path / "with" / "landing").rglob("*.*")):
        twin = tmp_path / "without" / "landing" / path.relative_to(tmp_path / "with" / "landing")
        if path.read_bytes() != twin.read_bytes():
            differing.add((path.parent.name, path.stem))
    # An incident day's file changes; so may the next LAST_MARGIN days' (late deliveries of
    # that day's records); nothing else.
    assert {t for t in touched if t[0] == "web_events"} <= differing
    allowed = {
        (source, (date.fromisoformat(day) + timedelta(days=lag)).isoformat())
        for source, day in touched
        for lag in range(LAST_MARGIN + 1)
    }
    assert differing <= allowed

    # The outage: orders placed that day (paid or refunded) are exported as failed, and
    # nothing else about any order changes.
    outage = next(day for day, kind in incidents if kind == "checkout_outage")
    changed = 0
    for path in sorted((tmp_path / "with" / "landing" / "orders").glob("*.csv")):
        twin = tmp_path / "without" / "landing" / "orders" / path.name
        for row, original in zip(_read(path), _read(twin), strict=True):
            if row != original:
                changed += 1
                assert row[:4] + row[5:] == original[:4] + original[5:]
                assert (original[4], row[4]) in {("paid", "failed"), ("refunded", "failed")}
                assert _utc_day(row[3]) == outage
            elif len(row) == len(original) and _utc_day(row[3]) == outage:
                assert row[4] not in ("paid", "refunded")
    assert changed > 0

    # The web-session truth lists exactly the messages in the exports.
    messages = set()
    spike = Counter()
    for path in (tmp_path / "with" / "landing" / "web_events").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(event, dict) and "messageId" in event:
                messages.add(event["messageId"])
                campaign = (event.get("context") or {}).get("campaign") or {}
                if campaign.get("name") == SPIKE_CAMPAIGN["name"]:
                    spike[path.stem] += 1
    truth_messages = {r[0] for r in _read(truth / "web_event_sessions.csv")[1:]}
    assert truth_messages == messages
    spike_day = next(day for day, kind in incidents if kind == "campaign_spike")
    assert set(spike) == {spike_day} and spike[spike_day] >= 30


def test_planted_incidents_are_flagged_and_false_alarms_are_rare(
    demo_pipeline: DemoPipeline,
) -> None:
    settings = demo_pipeline.settings
    report = measure(settings.warehouse_path, settings.ground_truth_dir)
    print("\n".join(report.lines()))
    assert len(report.incidents) == 3
    assert all(report.incidents.values()), report.incidents
    assert report.false_alarm_rate <= MAX_FALSE_ALARM_RATE


def test_the_expected_range_and_flags_follow_the_score(demo_pipeline: DemoPipeline) -> None:
    with duckdb.connect(str(demo_pipeline.settings.warehouse_path), read_only=True) as con:
        # Every (metric, dimension) has every day of the data, zeros included.
        (spans,) = con.execute(
            """
            select count(distinct n) from (
                select metric, dimension, count(*) as n
                from marts.agg_journey_anomalies group by metric, dimension
            )
            """
        ).fetchone()
        (zero_days,) = con.execute(
            "select count(*) from marts.agg_journey_anomalies "
            "where metric = 'failed_orders' and metric_value = 0"
        ).fetchone()
        wrong = con.execute(
            f"""
            select metric, dimension, metric_date from marts.agg_journey_anomalies
            where severity <> 'not_scored' and (
                history_days < 4
                or abs(lower_bound - greatest(expected_value - {WARN_K} * baseline_scale, 0)) > 1e-9
                or abs(upper_bound - case when metric_kind = 'share'
                    then least(expected_value + {WARN_K} * baseline_scale, 1)
                    else expected_value + {WARN_K} * baseline_scale end) > 1e-9
                or is_anomaly <> (abs(anomaly_score) >= {WARN_K})
                or (is_anomaly and metric_value between lower_bound and upper_bound)
            )
            """
        ).fetchall()
        (unscored_flags,) = con.execute(
            "select count(*) from marts.agg_journey_anomalies "
            "where severity = 'not_scored' and is_anomaly"
        ).fetchone()
    assert spans == 1
    assert zero_days > 100
    assert wrong == []
    assert unscored_flags == 0


def test_chart_and_warn_check_are_on_the_asset_page(
    demo_pipeline: DemoPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", demo_pipeline.env["DAGSTER_HOME"])
    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(ANOMALIES_KEY)
        check = dg.AssetCheckKey(ANOMALIES_KEY, "journey_anomalies_latest_day")
        [record] = instance.event_log_storage.get_asset_check_execution_history(check, limit=1)
    assert event is not None
    chart = event.asset_materialization.metadata["flagged_metrics_chart"].value
    assert "data:image/png;base64," in chart
    assert "| day | metric | dimension | value | expected range |" in chart
    evaluation = record.event.dagster_event.event_specific_data
    # The run covers every day of the demo, planted incidents included: the check warns.
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["dagster_dbt/failed_row_count"].value > 0
    # The check shows which metrics, their values and expected ranges, not just a count.
    rows = evaluation.metadata["failing_rows"].value
    assert "| metric | dimension | metric_date |" in rows
    assert " expected " in evaluation.metadata["first_failing_row"].value


def test_anomaly_dbt_data_and_unit_tests_pass(demo_pipeline: DemoPipeline, tmp_path: Path) -> None:
    # `journey` builds without dbt unit tests; run them, and the data tests, here.
    done = dbt_test_on_demo(
        demo_pipeline, tmp_path, "path:models/intermediate/anomalies", "path:models/marts/anomalies"
    )
    assert done.returncode == 0, done.stdout[-4000:]
    assert "test_agg_journey_anomalies_same_weekday_median_and_mad" in done.stdout
    assert "ERROR=0" in done.stdout
