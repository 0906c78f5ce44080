"""A user's own exports, end to end through the `journey` command line: no demo generator,
no start date, a few files spread over months, no churn or purchase labels.

The landing files are written here by hand, so every expected number is computed in the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import _demo_env, run_journey

pytestmark = pytest.mark.e2e

# Three days far apart (the cost must follow the rows, not the 150-day span).
DAYS = ("2026-02-02", "2026-04-10", "2026-07-01")
VISITORS = ("anon-a", "anon-b")


def _page(n: int, anonymous_id: str, timestamp: str, path: str, source: str | None) -> str:
    url = f"https://shop.example{path}" + (f"?utm_source={source}&utm_medium=cpc" if source else "")
    return json.dumps(
        {
            "messageId": f"msg-{n}",
            "type": "page",
            "anonymousId": anonymous_id,
            "timestamp": timestamp,
            "context": {"page": {"url": url, "path": path}},
        }
    )


def write_foreign_landing(landing: Path) -> dict[str, int]:
    """Per day and visitor: two pages 5 minutes apart, then one 2 hours later (a new session).
    Returns the expected counts."""
    (landing / "web_events").mkdir(parents=True)
    (landing / "orders").mkdir(parents=True)
    n = 0
    for day in DAYS:
        lines = []
        for visitor in VISITORS:
            for clock, path in (("09:00", "/"), ("09:05", "/pricing"), ("11:05", "/checkout")):
                n += 1
                source = "google" if clock == "09:00" else None
                lines.append(_page(n, visitor, f"{day}T{clock}:00Z", path, source))
        (landing / "web_events" / f"{day}.jsonl").write_text("\n".join(lines) + "\n")
    # A web checkout that carries only the visitor's anonymous id and an email.
    (landing / "orders" / f"{DAYS[-1]}.csv").write_text(
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type,anonymous_id\n"
        f"o-1,,buyer@example.com,{DAYS[-1]}T11:06:00Z,paid,49.00,USD,pro,new,anon-a\n"
    )
    return {"web_events": n, "orders": 1, "sessions": len(DAYS) * len(VISITORS) * 2}


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict, str]:
    root = tmp_path_factory.mktemp("foreign")
    env = _demo_env(root)
    env.pop("JOURNEY_START_DATE", None)
    expected = write_foreign_landing(Path(env["JOURNEY_LANDING_DIR"]))
    output = run_journey(env, "run", "--skip-generate")
    return env, expected, output


def _rows(env: dict[str, str], sql: str, database: str = "JOURNEY_WAREHOUSE") -> list[tuple]:
    with duckdb.connect(env[database], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_run_builds_the_marts_and_skips_training_with_a_message(foreign) -> None:
    env, expected, output = foreign
    assert _rows(env, "select count(*) from raw.web_events") == [(expected["web_events"],)]
    assert _rows(env, "select count(*) from raw.orders") == [(1,)]
    assert _rows(env, "select count(*) from marts.fct_sessions") == [(expected["sessions"],)]
    # Training had nothing to learn from: said so, per model, and the run still exited 0.
    assert "skipped" in output
    assert "churn_model" in output and "purchase_propensity_model" in output
    # The range is the span of the files; one run per stage, not one per day.
    assert f"{DAYS[0]}..{DAYS[-1]}" in output
    assert len(output.splitlines()) <= 120


def test_serving_copy_is_published_without_models(foreign) -> None:
    env, expected, _ = foreign
    assert _rows(env, "select count(*) from marts.fct_sessions", "JOURNEY_SERVING") == [
        (expected["sessions"],)
    ]


def test_web_checkout_order_joins_the_visitors_sessions(foreign) -> None:
    """The order carries only anon-a's anonymous id (and an email no other export has): its
    customer is the visitor's, and attribution credits that visitor's real touchpoints."""
    env, _, _ = foreign
    # The mart holds the device id as keyed_hash(id) under the data dir's pseudonym key.
    key = env.get("JOURNEY_HASH_KEY") or (
        (Path(env["JOURNEY_DATA_DIR"]) / "hash.key").read_text().strip()
    )
    visitor = _rows(
        env,
        "select distinct customer_id from marts.fct_sessions "
        f"where anonymous_id = md5('{key}' || 'anon-a')",
    )
    assert len(visitor) == 1 and visitor[0][0] is not None
    credited = _rows(
        env,
        """
        select customer_id, count(*), sum(credit)
        from marts.fct_attribution
        where not is_synthetic
        group by customer_id
        """,
    )
    assert [row[0] for row in credited] == [visitor[0][0]]
    assert credited[0][1] > 0


def test_rerunning_a_range_gives_identical_tables(foreign) -> None:
    env, _, _ = foreign
    checksum = """
        select count(*), sum(hash(message_id, anonymous_id, event_timestamp, _line_number))
        from raw.web_events
    """
    before = _rows(env, checksum), _rows(env, "select count(*) from marts.fct_sessions")
    run_journey(env, "ingest", "--from", DAYS[0], "--to", DAYS[-1])
    run_journey(env, "transform")
    after = _rows(env, checksum), _rows(env, "select count(*) from marts.fct_sessions")
    assert after == before


def _journey(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("journey")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def test_misplaced_files_are_reported_and_the_others_load(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    landing = Path(env["JOURNEY_LANDING_DIR"])
    write_foreign_landing(landing)
    (landing / "orders" / "latest.csv").write_text("order_id\n")
    env["JOURNEY_START_DATE"] = "2026-03-01"
    result = _journey(env, "ingest")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    # One line per file, naming the file and what to do, before any work starts.
    assert any("orders/latest.csv" in line and "YYYY-MM-DD" in line for line in lines)
    assert any(
        f"web_events/{DAYS[0]}.jsonl" in line and f"JOURNEY_START_DATE={DAYS[0]}" in line
        for line in lines
    )
    # The other files still load (issue 12): the days from JOURNEY_START_DATE on.
    loaded = _rows(env, "select distinct _partition_date::varchar from raw.web_events order by 1")
    assert [row[0] for row in loaded] == list(DAYS[1:])
