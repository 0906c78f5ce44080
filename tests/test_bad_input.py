"""Bad input that used to get through (issue 12 items 10-13): implausible timestamps, stray
landing files, files rejected wholesale, CR-only line endings."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.ingest.contract import TimestampWindow
from tests.test_ingest import DAY, load, order, orders_csv, rejected, web_event

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
