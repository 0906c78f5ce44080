"""The demo-export generator: determinism, file layout, realism and ground truth.

Runs the real generator at small scale into tmp_path and checks the files it writes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.demo import generate
from orchestration.demo.catalog import CSV_HEADERS, FRICTION_PAGE, GENERIC_EMAILS
from orchestration.demo.cli import main
from orchestration.demo.generator import GROUND_TRUTH_HEADERS
from orchestration.demo.sink import DEMO_SOURCES
from orchestration.settings import SOURCES

SMALL = {"people": 300, "days": 30, "seed": 7, "start": "2026-01-01"}
DATES = [(datetime(2026, 1, 1) + timedelta(days=d)).date().isoformat() for d in range(30)]


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    generate(root / "landing", root / "truth", dirty_rate=0.01, **SMALL)
    return root


@pytest.fixture(scope="module")
def web(small: Path) -> dict:
    """Well-formed web events (deduplicated by messageId) plus dirty-data counts."""
    events: dict[str, dict] = {}
    lines = malformed = duplicates = late = 0
    for day in DATES:
        for line in (small / "landing" / "web_events" / f"{day}.jsonl").read_text().splitlines():
            lines += 1
            try:
                event = json.loads(line)
                event["_ts"] = datetime.fromisoformat(event["timestamp"])
            except (ValueError, KeyError):
                malformed += 1
                continue
            if event["messageId"] in events:
                duplicates += 1
                continue
            event["_file_day"] = day
            late += event["_ts"].astimezone(UTC).date().isoformat() < day
            events[event["messageId"]] = event
    return {
        "events": events,
        "lines": lines,
        "malformed": malformed,
        "duplicates": duplicates,
        "late": late,
    }


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _truth(small: Path, name: str) -> list[dict[str, str]]:
    return _read_csv(small / "truth" / name)


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    generate(tmp_path / "a" / "landing", tmp_path / "a" / "truth", **SMALL)
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "truth", **SMALL)
    generate(tmp_path / "c" / "landing", tmp_path / "c" / "truth", **{**SMALL, "seed": 8})
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert len(a) == 7 * 30 + len(GROUND_TRUTH_HEADERS)
    assert a == b
    differing = {name for name in a if a[name] != c[name]}
    assert {f"landing/web_events/{d}.jsonl" for d in DATES} <= differing
    assert "truth/identifiers.csv" in differing


def test_rerun_replaces_old_output(tmp_path: Path) -> None:
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    generate(landing, truth, **SMALL)
    (landing / "orders" / "1999-01-01.csv").write_text("stale\n")
    generate(landing, truth, **{**SMALL, "days": 10, "seed": 3})
    generate(
        tmp_path / "fresh" / "landing",
        tmp_path / "fresh" / "truth",
        **{**SMALL, "days": 10, "seed": 3},
    )
    assert _hashes(landing) == _hashes(tmp_path / "fresh" / "landing")
    assert _hashes(truth) == _hashes(tmp_path / "fresh" / "truth")


def test_every_source_has_one_file_per_day_with_the_documented_header(small: Path) -> None:
    for source, ext in ((s, SOURCES[s]) for s in DEMO_SOURCES):
        files = sorted(p.name for p in (small / "landing" / source).iterdir())
        assert files == [f"{d}.{ext}" for d in DATES], source
        if ext == "csv":
            for day in DATES:
                with (small / "landing" / source / f"{day}.csv").open(newline="") as f:
                    assert tuple(next(csv.reader(f))) == CSV_HEADERS[source]


def test_summary_counts_match_the_files(tmp_path: Path) -> None:
    summary = generate(tmp_path / "landing", tmp_path / "truth", **SMALL)
    for source in DEMO_SOURCES:
        lines = sum(
            len(p.read_text().splitlines()) - (source != "web_events")
            for p in (tmp_path / "landing" / source).iterdir()
        )
        assert summary.rows_per_source[source] == lines, source
    assert summary.rows_per_source["web_events"] > 5000
    assert summary.files_written == 7 * 30 + len(GROUND_TRUTH_HEADERS)


def test_web_events_follow_the_segment_spec(web: dict) -> None:
    events = web["events"].values()
    types = Counter(e["type"] for e in events)
    assert set(types) == {"page", "track", "identify"}
    for e in events:
        assert e["anonymousId"] and e["_ts"].utcoffset() is not None
        assert e["context"]["userAgent"]
        if e["type"] == "track":
            assert e["event"] and isinstance(e["properties"], dict)
        if e["type"] == "identify":
            assert e["userId"].startswith("usr_") and "@" in e["traits"]["email"]
        if "campaign" in e["context"]:
            # UTM campaigns only on the landing page view of a session.
            assert e["type"] == "page" and "utm_medium=" in e["context"]["page"]["url"]
    names = Counter(e.get("event") for e in events)
    for name in (
        "Demo Requested",
        "Signed Up",
        "Trial Started",
        "Order Completed",
        "Logged In",
        "Feature Used",
    ):
        assert names[name] > 0, name
    offsets = Counter(e["timestamp"][-1] == "Z" for e in events)
    assert 0.01 < offsets[False] / len(web["events"]) < 0.15  # some non-UTC offsets


def test_sessions_and_journeys_are_plausible(small: Path, web: dict) -> None:
    truth = {r["message_id"]: r["true_session_id"] for r in _truth(small, "web_event_sessions.csv")}
    by_device: dict[str, list[dict]] = defaultdict(list)
    for e in web["events"].values():
        by_device[e["anonymousId"]].append(e)
    session_device: dict[str, set[str]] = defaultdict(set)
    inner_gaps, boundaries, quick_restarts, cross_midnight = [], 0, 0, set()
    for device, events in by_device.items():
        events.sort(key=lambda e: e["_ts"])
        for prev, cur in zip(events, events[1:], strict=False):
            gap = (cur["_ts"] - prev["_ts"]).total_seconds()
            same = truth[prev["messageId"]] == truth[cur["messageId"]]
            if same:
                inner_gaps.append(gap)
                if prev["_ts"].astimezone(UTC).date() != cur["_ts"].astimezone(UTC).date():
                    cross_midnight.add(truth[cur["messageId"]])
            else:
                boundaries += 1
                if gap < 30 * 60:
                    quick_restarts += 1
                    # Only a campaign change may start a new session this soon.
                    assert "campaign" in cur["context"], cur
                else:
                    assert gap >= 45 * 60
        for e in events:
            session_device[truth[e["messageId"]]].add(device)
    assert max(inner_gaps) <= 20 * 60
    assert all(len(devices) == 1 for devices in session_device.values())
    assert quick_restarts <= 0.03 * boundaries
    assert cross_midnight, "some sessions should cross midnight UTC"

    n_sessions = len(session_device)
    assert 2 < len(web["events"]) / n_sessions < 8  # events per session

    identified = {e["anonymousId"] for e in web["events"].values() if e["userId"]}
    share = len(identified) / len(by_device)
    assert 0.1 < share < 0.5, share

    people = {r["person_id"]: r for r in _truth(small, "people.csv")}
    owner = {
        r["identifier"]: r["person_id"]
        for r in _truth(small, "identifiers.csv")
        if r["identifier_type"] == "anonymous_id"
    }
    visitors, evaluators, purchasers = set(), set(), set()
    sessions_per_known: Counter[str] = Counter()
    for sid in session_device:
        person = owner[next(iter(session_device[sid]))]
        if people[person]["is_anonymous"] == "false":
            sessions_per_known[person] += 1
    for e in web["events"].values():
        person = owner[e["anonymousId"]]
        visitors.add(person)
        if e["context"]["page"].get("path") == "/pricing" or e.get("event") in (
            "Demo Requested",
            "Trial Started",
        ):
            evaluators.add(person)
        if e.get("event") == "Order Completed":
            purchasers.add(person)
    assert len(visitors) > 2 * len(evaluators) > 0
    assert len(evaluators) > 2 * len(purchasers) > 0
    mean_sessions = sum(sessions_per_known.values()) / len(sessions_per_known)
    assert 2 < mean_sessions < 40


def test_dirty_data_at_roughly_the_rate(small: Path, web: dict) -> None:
    n = len(web["events"])
    assert 0.004 * n < web["duplicates"] < 0.02 * n
    assert 0.004 * n < web["late"] < 0.02 * n
    assert 0 < web["malformed"] < 0.004 * web["lines"]
    rows = [
        tuple(r.values())
        for day in DATES
        for r in _read_csv(small / "landing" / "email_events" / f"{day}.csv")
    ]
    dupes = sum(c - 1 for c in Counter(rows).values())
    assert 0.003 * len(rows) < dupes < 0.02 * len(rows)


def test_clean_run_has_no_dirty_data(tmp_path: Path) -> None:
    generate(tmp_path / "landing", tmp_path / "truth", dirty_rate=0.0, **{**SMALL, "people": 100})
    seen: set[str] = set()
    for day in DATES:
        for line in (tmp_path / "landing" / "web_events" / f"{day}.jsonl").read_text().splitlines():
            event = json.loads(line)
            assert event["messageId"] not in seen
            seen.add(event["messageId"])
            assert event["timestamp"].endswith("Z") and event["timestamp"][:10] == day


def test_ground_truth_is_consistent_with_the_exports(small: Path, web: dict) -> None:
    exported: set[str] = set()
    for source in CSV_HEADERS:
        for day in DATES:
            for row in _read_csv(small / "landing" / source / f"{day}.csv"):
                exported.update(row.values())
    for e in web["events"].values():
        exported.update((e["anonymousId"], e["userId"] or "", e.get("traits", {}).get("email", "")))
    identifiers = _truth(small, "identifiers.csv")
    keys = Counter((r["identifier_type"], r["identifier"].strip().lower()) for r in identifiers)
    assert max(keys.values()) == 1
    assert {t for t, _ in keys} == {"anonymous_id", "user_id", "email", "contact_id"}
    for r in identifiers:
        assert r["identifier"] in exported, r
        assert r["identifier"].strip().lower() not in GENERIC_EMAILS
    # Emails really do differ in case/whitespace across systems.
    raw_emails = {v for v in exported if "@" in v}
    assert len(raw_emails) > len({v.strip().lower() for v in raw_emails})

    sessions = _truth(small, "web_event_sessions.csv")
    assert {r["message_id"] for r in sessions} == set(web["events"])


def test_probabilities_follow_customer_status(small: Path) -> None:
    people = {r["person_id"]: r for r in _truth(small, "people.csv")}
    rows = _truth(small, "probabilities.csv")
    assert {r["as_of_date"] for r in rows} == {DATES[d] for d in (0, 7, 14, 21, 28, 29)}
    churn = purchase = 0
    for r in rows:
        person = people[r["person_id"]]
        assert person["is_anonymous"] == "false"
        customer_since, churned = person["became_customer_at"], person["churned_at"]
        is_customer = (
            customer_since
            and customer_since <= r["as_of_date"]
            and not (churned and churned <= r["as_of_date"])
        )
        assert bool(r["p_churn_30d"]) == bool(is_customer), r
        if r["p_purchase_14d"]:
            assert not customer_since or customer_since > r["as_of_date"], r
            assert 0 < float(r["p_purchase_14d"]) < 1
            purchase += 1
        if r["p_churn_30d"]:
            assert 0 < float(r["p_churn_30d"]) < 1
            churn += 1
    assert churn > 10 and purchase > 100


def test_true_probabilities_carry_signal_but_are_not_perfect(tmp_path: Path) -> None:
    roc_auc_score = pytest.importorskip("sklearn.metrics").roc_auc_score
    generate(tmp_path / "landing", tmp_path / "truth", people=1000, days=90, seed=11)
    people = {r["person_id"]: r for r in _read_csv(tmp_path / "truth" / "people.csv")}
    labels, scores = [], []
    last = (datetime(2026, 1, 1) + timedelta(days=89)).date()
    for r in _read_csv(tmp_path / "truth" / "probabilities.csv"):
        as_of = datetime.fromisoformat(r["as_of_date"]).date()
        if not r["p_purchase_14d"] or as_of + timedelta(days=14) > last:
            continue
        bought = people[r["person_id"]]["became_customer_at"]
        labels.append(
            bool(bought)
            and as_of < datetime.fromisoformat(bought).date() <= as_of + timedelta(days=14)
        )
        scores.append(float(r["p_purchase_14d"]))
    assert sum(labels) > 50
    assert 0.68 < roc_auc_score(labels, scores) < 0.95
    customers = sum(1 for p in people.values() if p["became_customer_at"])
    churned = sum(1 for p in people.values() if p["churned_at"])
    assert customers > 150 and churned > 15


def test_cli_writes_files_and_prints_summary(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "generate",
            "--people",
            "50",
            "--days",
            "5",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "landing"),
            "--ground-truth",
            str(tmp_path / "gt"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "chunk 1/1" in out and "web_events" in out and "total" in out
    assert len(list((tmp_path / "landing" / "orders").iterdir())) == 5


def test_rejects_ground_truth_inside_landing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        generate(tmp_path, tmp_path / "truth", people=10, days=2)


def test_package_does_not_import_dagster() -> None:
    code = "import sys, orchestration.demo.cli; assert 'dagster' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_planted_friction_loops_are_in_the_exports_and_cost_purchases(
    small: Path, web: dict
) -> None:
    loops = _truth(small, "friction.csv")
    known = sum(1 for r in _truth(small, "people.csv") if r["is_anonymous"] == "false")
    assert 0.03 * known < len(loops) < 0.3 * known  # 30 % of the people who reach signup
    session_of = {
        r["message_id"]: r["true_session_id"] for r in _truth(small, "web_event_sessions.csv")
    }
    views: Counter[tuple[str, str]] = Counter(
        (session_of[m], e["properties"]["path"])
        for m, e in web["events"].items()
        if e["type"] == "page"
    )
    for row in loops:
        assert row["friction_type"] == "loop" and row["page_path"] == FRICTION_PAGE[0]
        assert int(row["views"]) >= 3
        assert views[(row["true_session_id"], row["page_path"])] == int(row["views"]), row
        assert row["session_started_at"] <= row["first_view_at"]
    # No unplanted loops of the form page: detection can be judged against this file.
    planted = {(r["true_session_id"], r["page_path"]) for r in loops}
    assert {k for k, n in views.items() if k[1] == FRICTION_PAGE[0] and n >= 3} == planted
    # The counterfactual twin (same random numbers, friction off) purchases at least as often.
    assert sum(bool(r["purchased_at_without_friction"]) for r in loops) >= sum(
        bool(r["purchased_at"]) for r in loops
    )
