"""dbt foundation: identity resolution and sessionization against ground truth, and
incremental builds equal to full refreshes.

The fixture writes a small, fully known set of landing files (or uses the demo generator when
it exists), loads them into a temporary DuckDB warehouse and runs the real `dbt build`.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.settings import DBT_PROJECT_DIR, SOURCES

DBT = str(Path(sys.executable).with_name("dbt"))
START = date(2026, 1, 1)

# --------------------------------------------------------------------------------------------
# A small synthetic world with known answers. Kept independent of the demo generator so the
# edge cases this module is about (late and duplicate events, 30-minute gaps, campaign
# switches, generic emails, identity chains) are guaranteed to be present.
# --------------------------------------------------------------------------------------------

CAMPAIGNS = (
    ("google", "cpc", "brand_search"),
    ("linkedin", "social", "q1_launch"),
    ("newsletter", "email", "weekly"),
)
REFERRERS = ("https://www.google.com/", "https://news.ycombinator.com/", None, None)
GENERIC = ("", "unknown", "test@example.com", "noreply@acme-analytics.com", " N/A ")
UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1",
)
PAGES = ("/", "/pricing", "/features", "/docs/getting-started", "/blog/cohorts", "/signup")


@dataclass
class World:
    rng: random.Random
    days: int
    files: dict[tuple[str, date], list] = field(default_factory=dict)
    identifiers: set[tuple[str, str, str]] = field(default_factory=set)
    sessions: list[tuple[str, str]] = field(default_factory=list)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:07d}"

    def emit(self, source: str, day: date, row) -> bool:
        """Queue a record for its export file; False when that file is past the last day."""
        # Records are exported on their day, a few of them one or two days late.
        last_day = START + timedelta(days=self.days - 1)
        if day > last_day:
            return False
        late = self.rng.random() < 0.03
        export_day = day + timedelta(days=self.rng.choice((1, 2))) if late else day
        export_day = min(export_day, last_day)
        self.files.setdefault((source, export_day), []).append(row)
        if source == "web_events" and self.rng.random() < 0.02:  # re-delivered
            self.files.setdefault((source, export_day), []).append(row)
        return True


def _iso(ts: datetime, offset_minutes: int) -> str:
    return ts.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()


def _messy(email: str, rng: random.Random) -> str:
    """The same address as another system might type it."""
    return rng.choice((email, email.upper(), f"  {email}", email.title(), f"{email} "))


def _web_sessions(world: World, person: str, anon: str, ua: str, offset: int,
                  login: tuple[str, str] | None) -> None:
    """A device's visits; the device belongs to `person` in the ground truth only once it
    identifies (before that nothing in the data can link it)."""
    rng = world.rng
    day0 = START + timedelta(days=rng.randrange(world.days))
    t = datetime.combine(day0, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
        minutes=rng.randrange(24 * 60))
    identified = False
    quick_follow = False
    previous: tuple[str, str, str] | None = None
    for _ in range(rng.randint(1, 6)):
        session = world.next_id("S")
        if quick_follow and previous:
            # Back within minutes from a different campaign: a new session by the campaign rule.
            campaign = rng.choice([c for c in CAMPAIGNS if c[0] != previous[0]])
        else:
            campaign = rng.choice(CAMPAIGNS) if rng.random() < 0.4 else None
        referrer = None if campaign else rng.choice(REFERRERS)
        for i in range(rng.randint(1, 6)):
            message_id = world.next_id("m")
            page = rng.choice(PAGES)
            url = f"https://www.acme-analytics.com{page}"
            payload = {
                "messageId": message_id, "type": "page", "anonymousId": anon,
                "timestamp": _iso(t, offset),
                "context": {"page": {"url": url, "path": page, "title": page.strip("/") or "home",
                                     "referrer": referrer if i == 0 else url},
                            "userAgent": ua},
                "properties": {"path": page},
            }
            if i == 0 and campaign:
                source, medium, name = campaign
                payload["context"]["campaign"] = {"source": source, "medium": medium, "name": name}
                payload["context"]["page"]["url"] = f"{url}?utm_source={source}&utm_medium={medium}"
            if login and not identified and i == 1:
                identified = True
                user_id, email = login
                payload = {**payload, "type": "identify", "userId": user_id,
                           "traits": {"email": _messy(email, rng)}}
            elif identified and login:
                payload["userId"] = login[0]
            if page == "/signup" and rng.random() < 0.5:
                payload = {**payload, "type": "track", "event": "Signed Up"}
            if world.emit("web_events", t.date(), payload):
                world.sessions.append((message_id, session))
                if login and "userId" in payload:
                    world.identifiers.add(("user_id", login[0], person))
                    world.identifiers.add(("anonymous_id", anon, person))
            # Gaps inside a session; sometimes exactly the 30-minute timeout (same session).
            t += timedelta(seconds=1800 if rng.random() < 0.05 else rng.randrange(5, 1500))
        previous = campaign
        quick_follow = previous is not None and rng.random() < 0.25
        if quick_follow:
            t += timedelta(minutes=rng.randrange(0, 20))
        else:
            t += timedelta(minutes=rng.choice((31, 45, 90, 600, 1500, 4000)))


def build_world(people: int = 300, anonymous: int = 300, days: int = 30, seed: int = 7) -> World:
    rng = random.Random(seed)
    world = World(rng=rng, days=days)
    for p in range(people):
        person = f"P{p:05d}"
        email = f"person{p}@{rng.choice(('gmail.com', 'acme-corp.io', 'outlook.com'))}"
        world.identifiers.add(("email", email, person))
        offset = rng.choice((-300, 0, 60, 330))
        day = START + timedelta(days=rng.randrange(days))
        ts = datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc) + timedelta(
            minutes=rng.randrange(1440))
        contact_id = None
        if rng.random() < 0.7:
            contact_id = f"C{p:05d}"
            world.identifiers.add(("contact_id", contact_id, person))
            row = [contact_id, _messy(email, rng), "ann", "lee", "acme", "smb", "DE", "lead",
                   _iso(ts, offset), _iso(ts, offset), "true"]
            world.emit("crm_contacts", day, row)
            if rng.random() < 0.3:  # an update a few days later
                later = ts + timedelta(days=rng.randint(1, 5))
                updated = [*row[:7], "customer", row[8], _iso(later, offset), "false"]
                world.emit("crm_contacts", later.date(), updated)
        user_id = f"u_{p:05d}" if rng.random() < 0.6 else None
        for _ in range(rng.randint(1, 3)):
            anon = world.next_id("a-")
            login = (user_id, email) if user_id and rng.random() < 0.8 else None
            _web_sessions(world, person, anon, rng.choice(UA), offset, login)
            if ("anonymous_id", anon, person) not in world.identifiers:
                world.identifiers.add(("anonymous_id", anon, f"V{anon}"))
        if contact_id and rng.random() < 0.5:
            order = [world.next_id("o"), contact_id, _messy(email, rng), _iso(ts, offset), "paid",
                     "199.00", "USD", "pro", "new"]
            world.emit("orders", day, order)
            world.emit("subscriptions", day, [world.next_id("sub"), contact_id, "pro", "199.00",
                                              _iso(ts, offset), "", "", "active"])
        for _ in range(rng.randint(0, 3)):
            world.emit("email_events", day, [world.next_id("e"), _messy(email, rng), "c1",
                                              "January newsletter", rng.choice(("open", "click")),
                                              _iso(ts + timedelta(hours=1), offset)])
        if rng.random() < 0.2:
            world.emit("support_tickets", day, [world.next_id("t"), _messy(email, rng),
                                                _iso(ts, offset), _iso(ts, offset), "", "email",
                                                "normal", "open", "", "SSO setup", "help"])
        # Junk identifiers shared by many: must never merge these people.
        if rng.random() < 0.1:
            world.emit("email_events", day, [world.next_id("e"), rng.choice(GENERIC), "c1",
                                              "January newsletter", "open", _iso(ts, offset)])
            if contact_id:
                world.emit("orders", day, [world.next_id("o"), contact_id, rng.choice(GENERIC),
                                           _iso(ts, offset), "paid", "49.00", "USD", "starter",
                                           "new"])
    for _ in range(anonymous):
        anon = world.next_id("a-")
        world.identifiers.add(("anonymous_id", anon, f"V{anon}"))
        _web_sessions(world, f"V{anon}", anon, rng.choice(UA), 0, None)
    return world


CSV_HEADERS = {
    "crm_contacts": ("contact_id", "email", "first_name", "last_name", "company", "segment",
                     "country", "lifecycle_stage", "created_at", "updated_at",
                     "marketing_consent"),
    "email_events": ("event_id", "email", "campaign_id", "campaign_name", "event_type",
                     "occurred_at"),
    "support_tickets": ("ticket_id", "requester_email", "created_at", "updated_at", "solved_at",
                        "channel", "priority", "status", "satisfaction", "subject",
                        "description"),
    "orders": ("order_id", "contact_id", "email", "ordered_at", "status", "amount", "currency",
               "plan", "order_type"),
    "subscriptions": ("subscription_id", "contact_id", "plan", "mrr", "started_at",
                      "canceled_at", "cancel_reason", "status"),
    "privacy_requests": ("request_id", "email", "request_type", "requested_at"),
}


def write_world(world: World, landing: Path, truth: Path) -> None:
    for source in SOURCES:
        (landing / source).mkdir(parents=True, exist_ok=True)
    for day in (START + timedelta(days=d) for d in range(world.days)):
        for source, ext in SOURCES.items():
            rows = world.files.get((source, day), [])
            path = landing / source / f"{day.isoformat()}.{ext}"
            if ext == "jsonl":
                path.write_text("".join(json.dumps(r) + "\n" for r in rows))
            else:
                with path.open("w", newline="") as f:
                    writer = csv.writer(f)
                    writer.writerow(CSV_HEADERS[source])
                    writer.writerows(rows)
    truth.mkdir(parents=True, exist_ok=True)
    with (truth / "identifiers.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("identifier_type", "identifier", "person_id"))
        writer.writerows(sorted(world.identifiers))
    with (truth / "web_event_sessions.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("message_id", "true_session_id"))
        writer.writerows(world.sessions)


# --------------------------------------------------------------------------------------------
# Loading: the ingestion helper's loader when present, else a minimal contract-following one.
# --------------------------------------------------------------------------------------------

RAW_TYPES = {
    "crm_contacts": {"created_at": "timestamptz", "updated_at": "timestamptz",
                     "marketing_consent": "boolean"},
    "email_events": {"occurred_at": "timestamptz"},
    "support_tickets": {"created_at": "timestamptz", "updated_at": "timestamptz",
                        "solved_at": "timestamptz"},
    "orders": {"ordered_at": "timestamptz", "amount": "decimal(12,2)"},
    "subscriptions": {"mrr": "decimal(12,2)", "started_at": "timestamptz",
                      "canceled_at": "timestamptz"},
    "privacy_requests": {"requested_at": "timestamptz"},
}
META = "_partition_date date, _source_file varchar, _line_number bigint, _loaded_at timestamptz"


def _fallback_load(con: duckdb.DuckDBPyConnection, source: str, path: Path, day: date,
                   landing: Path) -> None:
    """Load one landing file into raw.<source> following docs/raw_tables.md (no rejects:
    the synthetic files are clean)."""
    rel = path.relative_to(landing).as_posix()
    con.execute("create schema if not exists raw")
    if source == "web_events":
        con.execute(
            "create table if not exists raw.web_events (message_id varchar, type varchar, "
            "event varchar, anonymous_id varchar, user_id varchar, "
            f"event_timestamp timestamptz, payload json, {META})")
        rows = []
        for n, line in enumerate(path.read_text().splitlines(), start=1):
            obj = json.loads(line)
            rows.append((obj["messageId"], obj["type"], obj.get("event"), obj.get("anonymousId"),
                         obj.get("userId"), obj["timestamp"], line, n))
        frame = pd.DataFrame(rows, columns=["message_id", "type", "event", "anonymous_id",
                                            "user_id", "ts", "payload", "line"])
        select = ("select message_id, type, event, anonymous_id, user_id, "
                  "cast(ts as timestamptz), cast(payload as json)")
    else:
        columns = CSV_HEADERS[source]
        types = RAW_TYPES[source]
        cols = ", ".join(f"{c} {types.get(c, 'varchar')}" for c in columns)
        con.execute(f"create table if not exists raw.{source} ({cols}, {META})")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame["line"] = range(2, len(frame) + 2)
        select = "select " + ", ".join(
            f"cast(nullif({c}, '') as {types[c]})" if c in types else c for c in columns)
    con.execute(f"delete from raw.{source} where _partition_date = ?", [day])
    con.register("landing_frame", frame)
    con.execute(f"insert into raw.{source} {select}, cast(? as date), ?, line, now() "
                "from landing_frame", [day, rel])
    con.unregister("landing_frame")


def load_landing(warehouse: Path, landing: Path, days: list[date],
                 use_ingest: bool = True) -> None:
    load_file = None
    if use_ingest:
        try:
            from orchestration.ingest.loaders import load_file
        except ImportError:
            load_file = None
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("set TimeZone = 'UTC'")
        for day in days:
            for source, ext in SOURCES.items():
                path = landing / source / f"{day.isoformat()}.{ext}"
                if not path.exists():
                    continue
                if load_file is not None:
                    load_file(con, source, path, day, landing)
                else:
                    _fallback_load(con, source, path, day, landing)
    finally:
        con.close()


def dbt(args: list[str], warehouse: Path, *extra: str) -> float:
    """Run the dbt CLI against `warehouse`; returns the elapsed seconds."""
    env = {**os.environ, "JOURNEY_WAREHOUSE": str(warehouse)}
    started = time.perf_counter()
    result = subprocess.run(
        [DBT, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
         str(DBT_PROJECT_DIR), "--target-path", str(warehouse.parent / "target"),
         "--log-path", str(warehouse.parent / "logs"), *extra],
        env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}")
    return time.perf_counter() - started
