"""Bad input that used to get through (issue 12 items 10-13): implausible timestamps, stray
landing files, files rejected wholesale, CR-only line endings."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.demo import generate
from orchestration.ingest.assets import build_ingestion_asset
from orchestration.ingest.contract import TimestampWindow
from orchestration.ingest.loaders import LoadError, RejectRateLimit, reconcile_partition
from orchestration.ingest.sensors import landing_file_sensor
from orchestration.resources import LandingResource
from orchestration.settings import SOURCES
from tests.conftest import _demo_env
from tests.test_ingest import (
    DAY,
    MONTH,
    NEXT_DAY,
    _resources,
    load,
    order,
    orders_csv,
    rejected,
    web_event,
)

# --- item 10: implausible timestamps ------------------------------------------------------


def test_web_events_outside_the_window_are_rejected_with_file_line_field_and_value(
    warehouse_con, landing_dir, write_landing
):
    lines = [
        web_event("ok-late", timestamp="2025-12-10T08:00:00Z"),  # 26 days late: plausible
        web_event("epoch", timestamp="1970-01-01T00:00:00Z"),
        web_event("future", timestamp="2099-06-01T00:00:00Z"),
        web_event("ok-next-day", timestamp="2026-01-06T23:59:00Z"),  # clock skew: plausible
        web_event("too-old", timestamp="2025-12-01T00:00:00Z"),  # 35 days before the file
    ]
    write_landing("web_events", DAY, "\n".join(lines) + "\n")
    result = load(warehouse_con, landing_dir, "web_events")
    assert (result.rows_loaded, result.rows_rejected) == (2, 3)
    rows = rejected(warehouse_con, "web_events")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("web_events/2026-01-05.jsonl", 2, "timestamp"),
        ("web_events/2026-01-05.jsonl", 3, "timestamp"),
        ("web_events/2026-01-05.jsonl", 5, "timestamp"),
    ]
    assert rows[0][3] == (
        "implausible timestamp (more than 30 days before the file's day, "
        "JOURNEY_MAX_EVENT_AGE_DAYS): 1970-01-01 00:00:00+00 in the file of 2026-01-05"
    )
    assert rows[1][3] == (
        "implausible timestamp (more than 1 day(s) after the file's day, "
        "JOURNEY_MAX_FUTURE_DAYS): 2099-06-01 00:00:00+00 in the file of 2026-01-05"
    )
    assert '"epoch"' in rows[0][4]


def test_the_window_is_configurable(warehouse_con, landing_dir, write_landing, monkeypatch):
    monkeypatch.setenv("JOURNEY_MAX_EVENT_AGE_DAYS", "400")
    write_landing("web_events", DAY, web_event("old", timestamp="2025-03-01T00:00:00Z") + "\n")
    assert load(warehouse_con, landing_dir, "web_events").rows_loaded == 1
    monkeypatch.setenv("JOURNEY_MAX_EVENT_AGE_DAYS", "thirty")
    with pytest.raises(ValueError, match="JOURNEY_MAX_EVENT_AGE_DAYS='thirty'"):
        TimestampWindow.from_env()


def test_record_timestamps_may_be_old_but_not_epoch_zero_or_future(
    warehouse_con, landing_dir, write_landing
):
    write_landing(
        "orders",
        DAY,
        orders_csv(
            order("1", ordered_at="2019-03-01T10:00:00Z"),  # refunded today: re-exported
            order("2", ordered_at="1970-01-01T00:00:00Z"),
            order("3", ordered_at="2099-01-01T00:00:00Z"),
        ),
    )
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (1, 2)
    rows = rejected(warehouse_con, "orders")
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (
            3,
            "ordered_at",
            "implausible timestamp (before 2000-01-01, JOURNEY_OLDEST_TIMESTAMP): "
            "1970-01-01 00:00:00+00",
        ),
        (
            4,
            "ordered_at",
            "implausible timestamp (more than 1 day(s) after the file's day, "
            "JOURNEY_MAX_FUTURE_DAYS): 2099-01-01 00:00:00+00 in the file of 2026-01-05",
        ),
    ]


def test_a_scheduled_cancellation_is_not_rejected(warehouse_con, landing_dir, write_landing):
    header = "subscription_id,contact_id,plan,mrr,started_at,canceled_at,cancel_reason,status"
    write_landing(
        "subscriptions",
        DAY,
        f"{header}\ns1,c1,pro,99,2024-02-01T00:00:00Z,2026-03-01T00:00:00Z,price,active\n",
    )
    assert load(warehouse_con, landing_dir, "subscriptions").rows_loaded == 1


def test_window_bounds_are_relative_to_each_file(warehouse_con, landing_dir, write_landing):
    day = date(2026, 3, 1)
    write_landing("web_events", day, web_event("a", timestamp="2026-03-02T12:00:00Z") + "\n")
    result = load(warehouse_con, landing_dir, "web_events", day)
    assert result.rows_loaded == 1


# --- item 12: the reject-rate guard -------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "rejected", "fails"),
    [
        (3, 1, False),  # a small daily file with one bad line: 33 %, but one line
        (3, 3, True),  # a small file rejected wholesale
        (100, 5, False),  # exactly 5 %
        (100, 6, True),
        (10_000, 2, False),
    ],
)
def test_reject_rate_limit(lines, rejected, fails):
    assert RejectRateLimit().exceeded(lines, rejected) is fails


def test_reject_rate_limit_from_env(monkeypatch):
    monkeypatch.setenv("JOURNEY_MAX_REJECT_RATE", "10%")
    monkeypatch.setenv("JOURNEY_MAX_REJECT_RATE_WEB_EVENTS", "0.2")
    monkeypatch.setenv("JOURNEY_REJECT_RATE_MIN_REJECTED", "1")
    assert RejectRateLimit.from_env("orders") == RejectRateLimit(0.10, 1)
    assert RejectRateLimit.from_env("web_events") == RejectRateLimit(0.2, 1)
    monkeypatch.setenv("JOURNEY_MAX_REJECT_RATE", "lots")
    with pytest.raises(ValueError, match="JOURNEY_MAX_REJECT_RATE='lots'"):
        RejectRateLimit.from_env("orders")


def test_a_latin1_export_fails_the_reconcile_check_with_rate_and_reasons(
    journey_env, write_landing
):
    # A good day and a day exported in latin-1: every line carries an accented name.
    write_landing("orders", DAY, orders_csv(*(order(str(i)) for i in range(40))))
    latin1 = orders_csv(*(order(f"x{i}").replace("pro,", "pro-é,") for i in range(6)))
    write_landing("orders", NEXT_DAY, latin1.encode("latin-1"))
    write_landing("web_events", DAY, web_event("m1") + "\n")

    result = dg.materialize(
        [build_ingestion_asset("orders"), build_ingestion_asset("web_events")],
        resources=_resources(journey_env),
        partition_key=MONTH,
        raise_on_error=False,
    )

    assert not result.success
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations()}
    assert checks["web_events"].passed
    orders = checks["orders"]
    assert not orders.passed
    assert orders.metadata["reject_rate"].value == pytest.approx(6 / 46, abs=1e-6)
    assert orders.description.splitlines()[:2] == [
        "orders: 6 of 46 line(s) rejected (13.0%; limit 5.0%, JOURNEY_MAX_REJECT_RATE)",
        "files over the limit: orders/2026-01-06.csv: 6 of 6 lines rejected (100.0%)",
    ]
    top = orders.metadata["top_reject_reasons"].value
    assert top.startswith("6 × plan: ") and "(first: orders/2026-01-06.csv line 2)" in top
    # Every line is still loaded or rejected: the good day is in raw.orders.
    with duckdb.connect(str(journey_env.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone() == (40,)


def test_a_few_rejects_in_small_files_pass(journey_env, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2", amount="abc"), order("3")))
    result = dg.materialize(
        [build_ingestion_asset("orders")],
        resources=_resources(journey_env),
        partition_key=MONTH,
    )
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed
    assert evaluation.metadata["reject_rate"].value == pytest.approx(1 / 3, abs=1e-6)


# --- item 13: CR-only line endings ----------------------------------------------------------


def test_a_cr_only_csv_loads_with_physical_line_numbers(warehouse_con, landing_dir, write_landing):
    body = orders_csv(
        order("1"),
        order("2").replace(",pro,", ',"pro\nplus",'),  # a quoted value over two lines
        order("3", amount="abc"),
        order("4"),
    )
    write_landing("orders", DAY, body.replace("\n", "\r"))
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (3, 1)
    loaded = warehouse_con.execute(
        "select order_id, _line_number, plan from raw.orders order by 1"
    ).fetchall()
    assert loaded == [("1", 2, "pro"), ("2", 3, "pro\rplus"), ("4", 6, "pro")]
    assert [(r[1], r[2]) for r in rejected(warehouse_con, "orders")] == [(5, "amount")]
    assert reconcile_partition(warehouse_con, "orders", DAY, landing_dir).passed


def test_a_cr_only_jsonl_loads(warehouse_con, landing_dir, write_landing):
    write_landing("web_events", DAY, "\r".join([web_event("a"), "{bad", web_event("b")]) + "\r")
    result = load(warehouse_con, landing_dir, "web_events")
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    assert [(r[1], r[3]) for r in rejected(warehouse_con, "web_events")] == [(2, "invalid JSON")]
    assert reconcile_partition(warehouse_con, "web_events", DAY, landing_dir).passed


def test_an_unreadable_header_names_the_file(warehouse_con, landing_dir, write_landing):
    # A stray CR inside the header of an LF file: Python's csv module refuses it.
    write_landing("orders", DAY, orders_csv(order("1")).replace("email,", "email\r,", 1))
    with pytest.raises(LoadError, match=r"^orders/2026-01-05\.csv: line 1: cannot read the header"):
        load(warehouse_con, landing_dir, "orders")


# --- item 13: a feature empty inside one calibration fold -----------------------------------


def test_boosting_fits_when_a_feature_is_empty_in_one_calibration_fold():
    """`journey run --people 800 --days 100 --seed 7` crashed training with "window shape
    cannot be larger than input array shape": calibration folds are contiguous blocks of the
    training rows, and a feature known only on the latest rows had no value in one fold's
    fit, which sklearn's histogram binning cannot handle."""
    import numpy as np
    import pandas as pd

    from ml.features import FeatureColumns
    from ml.train import build_pipeline

    rng = np.random.default_rng(0)
    n = 600
    y = pd.Series(np.tile([0, 0, 1], n // 3))
    frame = pd.DataFrame(
        {
            "activity": rng.normal(size=n) + y,
            # only the last 10 % of rows (of each class) have it: empty in the first folds
            "rare": np.where(np.arange(n) >= n * 0.9, rng.normal(size=n), np.nan),
        }
    )
    columns = FeatureColumns(numeric=["activity", "rare"], categorical=[])
    for family in ("hist_gradient_boosting", "blend"):
        pipeline = build_pipeline(family, columns, calibration="sigmoid")
        pipeline.fit(frame, y)
        scores = pipeline.predict_proba(frame)[:, 1]
        assert np.isfinite(scores).all()
        assert scores[y == 1].mean() > scores[y == 0].mean()


# --- item 11: stray landing files -----------------------------------------------------------


def _stray_files(landing_dir, write_landing) -> dict[str, str]:
    """A stray `latest.csv`, a file before the first partition and a future-dated one."""
    today = datetime.now(UTC).date()
    future = today + timedelta(days=1)
    (landing_dir / "orders").mkdir(parents=True, exist_ok=True)
    (landing_dir / "orders" / "latest.csv").write_text(orders_csv(order("latest")))
    write_landing("orders", "2025-12-01", orders_csv(order("early")))
    write_landing("web_events", future, web_event("future", timestamp=f"{future}T08:00:00Z"))
    return {
        "orders/latest.csv": "the file name is not a day",
        "orders/2025-12-01.csv": "is before the first daily partition 2026-01-01",
        f"web_events/{future}.jsonl": f"is after today ({today}, UTC)",
    }


def test_sensor_reports_each_stray_file_and_requests_the_others(
    journey_env, write_landing, monkeypatch, capfd
):
    monkeypatch.setenv("JOURNEY_START_DATE", "2026-01-01")
    write_landing("orders", DAY, orders_csv(order("1")))
    stray = _stray_files(journey_env.landing_dir, write_landing)
    landing = LandingResource(root=str(journey_env.landing_dir))
    context = dg.build_sensor_context(cursor=None, resources={"landing": landing})
    result = landing_file_sensor(context)
    [request] = result.run_requests
    assert request.partition_key == MONTH
    assert request.tags["journey/changed_sources"] == "orders"
    assert "latest" not in request.run_key and "2025-12-01" not in request.run_key
    # The tick's log (Dagster's console handler in a test; the tick history in the UI).
    warnings = [line for line in capfd.readouterr().err.splitlines() if " - WARNING - " in line]
    for name, why in stray.items():
        [line] = [w for w in warnings if name in w]
        assert why in line
    # The future file is not marked as requested: it is planned on its day.
    assert not any("web_events" in rel for rel in json.loads(result.cursor))


# --- the real commands (slower: `journey` processes on a small demo) ------------------------


def _journey(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("journey")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)


def _query(env: dict[str, str], sql: str) -> list[tuple]:
    with duckdb.connect(env["JOURNEY_WAREHOUSE"], read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.e2e
def test_journey_ingest_reports_stray_files_and_loads_the_others(tmp_path: Path) -> None:
    env = {**_demo_env(tmp_path), "JOURNEY_START_DATE": "2026-01-01"}
    landing = Path(env["JOURNEY_LANDING_DIR"])
    generate(landing, tmp_path / "truth", people=60, days=4, seed=7, start="2026-01-01")
    written = {p.name for p in (landing / "orders").iterdir()}

    def write_landing(source: str, day: object, content: str) -> Path:
        path = landing / source / f"{day}.{SOURCES[source]}"
        path.write_text(content)
        return path

    stray = _stray_files(landing, write_landing)
    result = _journey(env, "ingest")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name, why in stray.items():
        [line] = [line for line in lines if name in line]
        assert line.strip().startswith(f"not loaded: {name}: ") and why in line
    assert "landing: " in result.stdout and "2026-01-01..2026-01-04" in result.stdout
    loaded = _query(env, "select distinct _source_file from raw.orders order by 1")
    assert {row[0] for row in loaded} <= {f"orders/{name}" for name in written}
    assert _query(env, "select count(*) from raw.orders where order_id like '%latest%'") == [(0,)]
    assert _query(env, "select count(*) from raw.web_events") > [(0,)]


@pytest.mark.e2e
def test_events_dated_1970_and_2099_change_no_snapshot_or_customer(tmp_path: Path) -> None:
    """Issue 12: two such events for a known user turned 10 weekly snapshots into 6,754 and
    changed the person's customer_id. Now: rejected with file, line, field and value; the
    snapshots, customer_features and the customer_id stay as they were."""
    env = {**_demo_env(tmp_path), "JOURNEY_HASH_KEY": "test-hash-key"}
    landing = Path(env["JOURNEY_LANDING_DIR"])
    generate(landing, tmp_path / "truth", people=150, days=35, seed=7, start="2026-01-01")
    for command in ("ingest", "transform"):
        result = _journey(env, command)
        assert result.returncode == 0, result.stdout[-4000:]

    def figures(user_id: str) -> tuple:
        return (
            _query(env, "select * from intermediate.int_features_data_bounds"),
            _query(env, "select count(*) from intermediate.int_features_snapshot_dates"),
            _query(env, "select count(*) from marts.customer_features"),
            _query(
                env,
                "select customer_id from intermediate.int_customer_identifiers "
                f"where identifier_type = 'user_id' and identifier = '{user_id}'",
            ),
        )

    [(user_id, day)] = _query(
        env,
        "select user_id, _partition_date from raw.web_events where user_id is not null "
        "group by all order by count(*) desc, 1 limit 1",
    )
    before = figures(user_id)
    path = landing / "web_events" / f"{day}.jsonl"
    lines_before = len(path.read_text().splitlines())
    template = json.loads(
        next(line for line in path.read_text().splitlines() if f'"{user_id}"' in line)
    )
    with path.open("a") as handle:
        for message_id, year in (("bad-1970", 1970), ("bad-2099", 2099)):
            timestamp = f"{year}-01-01T00:00:00Z"
            event = {**template, "messageId": message_id, "timestamp": timestamp}
            handle.write(json.dumps(event) + "\n")
    for command in ("ingest", "transform"):
        result = _journey(env, command, "--from", str(day), "--to", str(day))
        assert result.returncode == 0, result.stdout[-4000:]

    rejects = _query(
        env,
        "select _source_file, _line_number, field, reason from raw.web_events__rejected "
        "where reason like 'implausible timestamp%' order by _line_number",
    )
    name = f"web_events/{day}.jsonl"
    assert rejects == [
        (
            name,
            lines_before + 1,
            "timestamp",
            "implausible timestamp (more than 30 days before the file's day, "
            f"JOURNEY_MAX_EVENT_AGE_DAYS): 1970-01-01 00:00:00+00 in the file of {day}",
        ),
        (
            name,
            lines_before + 2,
            "timestamp",
            "implausible timestamp (more than 1 day(s) after the file's day, "
            f"JOURNEY_MAX_FUTURE_DAYS): 2099-01-01 00:00:00+00 in the file of {day}",
        ),
    ]
    assert figures(user_id) == before
    assert before[1][0][0] >= 5  # weekly snapshots over 35 days
