"""Known incidents planted in the demo exports, so that anomaly alerts can be measured.

After every person is simulated, three days get an incident, written over the landing files:

- `checkout_outage`: the payment provider is down for a UTC day; every order placed that day
  (paid or later refunded) is exported as `failed`.
- `tracking_drop`: the web tag misses most (90 %) of the sessions that land from paid search
  (utm_medium=cpc) for a day; their events never reach the export.
- `campaign_spike`: a social campaign goes viral for a day; extra one-to-three-page sessions of
  new anonymous visitors land from it (half as many as the day's other sessions).

The days come from their own RNG stream (seeded by the demo seed), so every other draw of the
generator stays the same; they fall after the first six weeks (the baseline needs comparable
weekdays) and before the last three days, at least a week apart, and only in a demo of at
least MIN_DAYS days. The truth goes to `incidents.csv`: one row per metric the incident moves
(`role` primary = the alert that must fire, secondary = a consequence that may fire too).
"""

from __future__ import annotations

import csv
import json
import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from orchestration.demo import catalog as cat
from orchestration.demo.sink import iso_timestamp

MIN_DAYS = 63
FIRST_DAY = 42  # six same weekdays of history before the earliest incident
LAST_MARGIN = 3  # late deliveries land up to three days after the event
MIN_GAP_DAYS = 7
TRACKING_DROP_SHARE = 0.9
SPIKE_SHARE = 0.5  # extra sessions as a share of the day's sessions
SPIKE_CAMPAIGN = {"source": "linkedin", "medium": "social", "name": "viral_launch_video"}
SPIKE_CHANNEL = "social"
DROPPED_CHANNEL = "paid_search"
KINDS = ("checkout_outage", "tracking_drop", "campaign_spike")

INCIDENTS_HEADER = ("day", "kind", "metric", "dimension", "direction", "role", "detail")

# (metric, dimension, direction, role) per kind; '*' = any dimension.
AFFECTED: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "checkout_outage": (
        ("failed_orders", "(all)", "up", "primary"),
        ("orders", "(all)", "down", "primary"),
        ("evaluation_to_purchase", "(all)", "down", "secondary"),
        ("revenue", "*", "down", "secondary"),
    ),
    "tracking_drop": (
        ("channel_sessions", DROPPED_CHANNEL, "down", "primary"),
        ("channel_share", DROPPED_CHANNEL, "down", "secondary"),
        ("channel_share", "*", "up", "secondary"),
        ("sessions", "(all)", "down", "secondary"),
        ("new_visitors", "(all)", "down", "secondary"),
    ),
    "campaign_spike": (
        ("sessions", "(all)", "up", "primary"),
        ("channel_sessions", SPIKE_CHANNEL, "up", "primary"),
        ("new_visitors", "(all)", "up", "secondary"),
        ("channel_share", "*", "up", "secondary"),
        ("channel_share", "*", "down", "secondary"),
    ),
}


@dataclass(frozen=True)
class Incident:
    day: int
    kind: str


def plan_incidents(seed: int, days: int) -> list[Incident]:
    """The incident days of a demo: deterministic in (seed, days), empty for a short demo."""
    if days < MIN_DAYS:
        return []
    rng = random.Random(f"journey-demo-incidents:{seed}")
    candidates = list(range(FIRST_DAY, days - LAST_MARGIN))
    chosen: list[int] = []
    for _ in range(1000):
        if len(chosen) == len(KINDS):
            break
        day = rng.choice(candidates)
        if all(abs(day - other) >= MIN_GAP_DAYS for other in chosen):
            chosen.append(day)
    return [Incident(day, kind) for day, kind in zip(chosen, KINDS, strict=False)]


def _utc_day(text: str, start_ts: int) -> int | None:
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None  # a deliberately malformed row: leave it as it is
    return int(ts - start_ts) // 86400


def _delivery_files(landing: Path, source: str, dates: tuple[str, ...], day: int) -> list[Path]:
    ext = "jsonl" if source == "web_events" else "csv"
    return [
        landing / source / f"{dates[d]}.{ext}"
        for d in range(day, min(day + LAST_MARGIN + 1, len(dates)))
    ]


def _checkout_outage(landing: Path, dates: tuple[str, ...], start_ts: int, day: int) -> str:
    changed = 0
    for path in _delivery_files(landing, "orders", dates, day):
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        at, status = header.index("ordered_at"), header.index("status")
        for row in body:
            placed_that_day = len(row) == len(header) and _utc_day(row[at], start_ts) == day
            if placed_that_day and row[status] in ("paid", "refunded"):
                row[status] = "failed"
                changed += 1
        with path.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows([header, *body])
    return f"{changed} order rows exported as failed"


def _event(line: str) -> dict | None:
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _true_sessions(truth: Path) -> dict[str, str]:
    """message_id -> true_session_id of the generator's truth (its header row included)."""
    with (truth / "web_event_sessions.csv").open(encoding="utf-8", newline="") as f:
        return dict(csv.reader(f))


def _tracking_drop(
    landing: Path,
    truth: Path,
    dates: tuple[str, ...],
    start_ts: int,
    day: int,
    rng: random.Random,
    lines_delta: list[int],
) -> str:
    sessions_of = _true_sessions(truth)
    day_file = _delivery_files(landing, "web_events", dates, day)[0]
    paid: set[str] = set()
    for line in day_file.read_text(encoding="utf-8").splitlines():
        event = _event(line)
        campaign = ((event or {}).get("context") or {}).get("campaign") or {}
        if campaign.get("medium") == "cpc" and _utc_day(str(event["timestamp"]), start_ts) == day:
            paid.add(sessions_of.get(event["messageId"], ""))
    paid.discard("")
    lost = {s for s in sorted(paid) if rng.random() < TRACKING_DROP_SHARE}
    dropped: set[str] = set()
    for path in _delivery_files(landing, "web_events", dates, day):
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines():
            event = _event(line)
            if event and sessions_of.get(str(event.get("messageId"))) in lost:
                dropped.add(str(event["messageId"]))
                lines_delta[0] -= 1
                continue
            kept.append(line + "\n")
        path.write_text("".join(kept), encoding="utf-8")
    # The truth lists only messages that are in the export.
    rows = [(m, s) for m, s in sessions_of.items() if m not in dropped]
    with (truth / "web_event_sessions.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return f"{len(lost)} of {len(paid)} paid-search sessions ({len(dropped)} events) not tracked"


def _campaign_spike(
    landing: Path,
    truth: Path,
    dates: tuple[str, ...],
    start_ts: int,
    day: int,
    rng: random.Random,
    lines_delta: list[int],
) -> str:
    day_file = _delivery_files(landing, "web_events", dates, day)[0]
    sessions_of = _true_sessions(truth)
    today = set()
    for line in day_file.read_text(encoding="utf-8").splitlines():
        event = _event(line)
        if event and _utc_day(str(event.get("timestamp")), start_ts) == day:
            today.add(sessions_of.get(str(event.get("messageId"))))
    extra = max(30, int(SPIKE_SHARE * len(today)))
    agents = [a for group in cat.USER_AGENTS.values() for a in group]
    pages = cat.BLOG_POSTS + (cat.PRICING,)
    lines, truth_rows = [], []
    for n in range(extra):
        anonymous_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        session_id = f"incident_spike_{dates[day]}_{n:05d}"
        # Evening peak of a viral post: 12:00-23:00 UTC.
        ts = start_ts + day * 86400 + rng.randrange(12 * 3600, 23 * 3600)
        agent = rng.choice(agents)
        referrer = "https://www.linkedin.com/"
        for step in range(rng.choice((1, 1, 2, 3))):
            path, title = cat.BLOG_POSTS[0] if step == 0 else rng.choice(pages)
            url = cat.MARKETING_HOST + path
            if step == 0:
                url += "?" + "&".join(f"utm_{k}={v}" for k, v in SPIKE_CAMPAIGN.items())
            page = {"url": url, "path": path, "referrer": referrer, "title": title}
            context: dict = {"page": page, "userAgent": agent}
            if step == 0:
                context["campaign"] = dict(SPIKE_CAMPAIGN)
            message_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            event = {
                "type": "page",
                "messageId": message_id,
                "anonymousId": anonymous_id,
                "userId": None,
                "timestamp": iso_timestamp(ts, 0, zulu=True, ms=rng.randrange(1000)),
                "name": title,
                "properties": dict(page),
                "context": context,
            }
            lines.append(json.dumps(event, separators=(",", ":")) + "\n")
            truth_rows.append((message_id, session_id))
            referrer = cat.MARKETING_HOST + path
            ts += 10 + int(rng.expovariate(1 / 45))
    with day_file.open("a", encoding="utf-8") as f:
        f.write("".join(lines))
    lines_delta[0] += len(lines)
    with (truth / "web_event_sessions.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(truth_rows)
    return f"{extra} extra sessions ({len(lines)} events) from {SPIKE_CAMPAIGN['name']}"


def plant_incidents(
    landing: Path, truth: Path, dates: tuple[str, ...], start_ts: int, seed: int
) -> tuple[list[list[str]], int]:
    """Rewrite the landing files of the planned incident days (and the web-session truth to
    match); returns the rows of incidents.csv and the change in web event lines."""
    rows: list[list[str]] = []
    web_lines = [0]
    for incident in plan_incidents(seed, len(dates)):
        # One stream per incident, apart from the simulation's and from each other.
        rng = random.Random(f"journey-demo-incidents:{seed}:{incident.kind}")
        if incident.kind == "checkout_outage":
            detail = _checkout_outage(landing, dates, start_ts, incident.day)
        elif incident.kind == "tracking_drop":
            detail = _tracking_drop(landing, truth, dates, start_ts, incident.day, rng, web_lines)
        else:
            detail = _campaign_spike(landing, truth, dates, start_ts, incident.day, rng, web_lines)
        for metric, dimension, direction, role in AFFECTED[incident.kind]:
            rows.append(
                [dates[incident.day], incident.kind, metric, dimension, direction, role, detail]
            )
    return rows, web_lines[0]


__all__ = ["AFFECTED", "INCIDENTS_HEADER", "Incident", "plan_incidents", "plant_incidents"]
