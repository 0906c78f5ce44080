"""Erasure of one person on a demo: their rows per table before and after, the landing files
rewritten, and what the `privacy_erasure` asset costs with 0 and with 1 pending request.

    .venv/bin/python -m benchmarks.bench_erasure --root /tmp/bench_erasure --people 1500 --days 150

Builds the demo with `journey run` under --root (skipped when it exists), picks the known
person with the most rows across web events, orders, tickets and emails, adds a rejected
line that names them, refreshes once with nothing pending, then adds an erasure request for
them as a new day's privacy_requests export and runs `journey refresh` for that day.
Counts use the tombstone machinery (keyed hashes of the person's identifiers) over every
table of the warehouse and of the serving copy; landing files are searched for the values.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from orchestration.privacy import erasure
from orchestration.settings import path_environment

KEY = "bench-erasure-key"


def demo_env(root: Path) -> dict[str, str]:
    return {
        **os.environ,
        **path_environment(root / "data"),
        "JOURNEY_HASH_KEY": KEY,
        "JOURNEY_AUC_FLOOR": "0.6",
    }


def journey(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    command = [str(Path(sys.executable).with_name("journey")), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr}")
    return time.perf_counter() - started


def pick_person(warehouse: Path) -> tuple[str, dict[str, list[str]]]:
    """The known customer with the most source rows who has an order and a ticket."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        customer_id = con.execute(
            """
            with emails as (
                select customer_id, identifier as email from intermediate.int_customer_identifiers
                where identifier_type = 'email'
            ),
            per_customer as (
                select
                    emails.customer_id,
                    (select count(*) from staging.stg_billing__orders as o
                     where o.email = emails.email) as orders,
                    (select count(*) from staging.stg_support__tickets as t
                     where t.requester_email = emails.email) as tickets,
                    (select count(*) from staging.stg_esp__email_events as e
                     where e.email = emails.email) as mails
                from emails
            ),
            events as (
                select customer_id, count(*) as events
                from intermediate.int_web_events_sessionized group by customer_id
            )
            select per_customer.customer_id
            from per_customer inner join events using (customer_id)
            group by per_customer.customer_id
            having sum(orders) > 0 and sum(tickets) > 0 and sum(mails) > 0
            order by max(events) + sum(orders) + sum(tickets) + sum(mails) desc, customer_id
            limit 1
            """
        ).fetchone()[0]
        rows = con.execute(
            "select identifier_type, identifier from intermediate.int_customer_identifiers "
            "where customer_id = ? order by all",
            [customer_id],
        ).fetchall()
    identifiers: dict[str, list[str]] = {}
    for identifier_type, value in rows:
        identifiers.setdefault(identifier_type, []).append(value)
    return customer_id, identifiers


def person_rows(path: Path, customer_id: str, identifiers: dict[str, list[str]]) -> dict[str, int]:
    """Rows keyed by the person's identifiers in every table (the erasure's own matching)."""
    from orchestration.privacy.pseudonyms import keyed_hash

    keys = [keyed_hash(KEY, f"{t}:{v}") for t, values in identifiers.items() for v in values] + [
        keyed_hash(KEY, f"customer_id:{customer_id}")
    ]
    with duckdb.connect(str(path), read_only=True) as con:
        con.execute(
            "create temp table person_keys as "
            "select unnest(?::varchar[]) as identifier_key, 'person' as request_id",
            [keys],
        )
        con.execute("set variable journey_erase_key = ?", [KEY])
        counts = {}
        for target in erasure.discover_targets(con):
            counts[target.label] = con.execute(
                f"select count(*) from ({erasure._hits_sql(target, 'person_keys', None)})"
            ).fetchone()[0]
    return counts


def landing_files_with(landing: Path, identifiers: dict[str, list[str]]) -> int:
    values = [v for vs in identifiers.values() for v in vs]
    pattern = re.compile(
        "|".join(rf"(?<![A-Za-z0-9_.@+\-]){re.escape(v)}(?![A-Za-z0-9_.@+\-])" for v in values),
        re.IGNORECASE,
    )
    return sum(
        1
        for path in landing.rglob("*")
        if path.is_file() and pattern.search(path.read_text(errors="replace"))
    )


def erasure_seconds(env: dict[str, str]) -> dict:
    """Metadata of the latest privacy_erasure materialization (its own timing)."""
    os.environ["DAGSTER_HOME"] = env["DAGSTER_HOME"]
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        event = instance.get_latest_materialization_event(
            dg.AssetKey(["privacy", "erased_identifiers"])
        )
        metadata = event.asset_materialization.metadata
        return {k: v.value for k, v in metadata.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/bench_erasure"))
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    env = demo_env(args.root)
    warehouse = Path(env["JOURNEY_WAREHOUSE"])
    landing = Path(env["JOURNEY_LANDING_DIR"])
    if not warehouse.exists():
        seconds = journey(
            env, "run", "--people", str(args.people), "--days", str(args.days),
            "--seed", str(args.seed),
        )  # fmt: skip
        print(f"journey run ({args.people} people, {args.days} days): {seconds:.0f} s")
    customer_id, identifiers = pick_person(warehouse)
    last_day = max(date.fromisoformat(p.stem) for p in landing.glob("*/*.*"))
    request_day = last_day + timedelta(days=1)
    email = identifiers["email"][0]

    # A rejected line naming the person (an unparsable timestamp), in a new day's export.
    (landing / "email_events" / f"{request_day}.csv").write_text(
        "event_id,email,campaign_id,campaign_name,event_type,occurred_at\n"
        f"bench-bad-1,{email.upper()},c1,Bench,open,not-a-time\n"
    )
    # The day's web traffic: one page view of somebody else.
    (landing / "web_events" / f"{request_day}.jsonl").write_text(
        json.dumps(
            {
                "messageId": "bench-page-1",
                "type": "page",
                "anonymousId": "bench-visitor",
                "timestamp": f"{request_day}T09:00:00Z",
                "context": {"page": {"url": "https://www.acme.io/", "path": "/"}},
            }
        )
        + "\n"
    )
    seconds = journey(env, "refresh", "--from", str(request_day), "--to", str(request_day))
    idle = erasure_seconds(env)
    print(f"refresh {request_day} with 0 pending requests: {seconds:.1f} s; "
          f"privacy_erasure {idle['seconds']:.3f} s")  # fmt: skip

    before = person_rows(warehouse, customer_id, identifiers)
    files_before = landing_files_with(landing, identifiers)
    serving = Path(env["JOURNEY_SERVING"])
    serving_before = sum(person_rows(serving, customer_id, identifiers).values())

    request = landing / "privacy_requests" / f"{request_day}.csv"
    request.parent.mkdir(parents=True, exist_ok=True)
    request.write_text(
        "request_id,email,request_type,requested_at\n"
        f"bench-req-{request_day},{email},erasure,{request_day}T12:00:00Z\n"
    )
    seconds = journey(env, "refresh", "--from", str(request_day), "--to", str(request_day))
    applied = erasure_seconds(env)
    after = person_rows(warehouse, customer_id, identifiers)
    serving_after = sum(person_rows(serving, customer_id, identifiers).values())
    files_after = landing_files_with(landing, identifiers)
    seconds_again = journey(env, "refresh", "--from", str(request_day), "--to", str(request_day))
    again = erasure_seconds(env)

    print(f"\nerased person: {sum(len(v) for v in identifiers.values())} identifiers "
          f"({', '.join(f'{len(v)} {t}' for t, v in sorted(identifiers.items()))})")  # fmt: skip
    print(f"{'table':<48} {'before':>8} {'after':>6}")
    for table in sorted(before):
        if before[table] or after.get(table):
            print(f"{table:<48} {before[table]:>8,} {after.get(table, 0):>6,}")
    print(f"{'all tables':<48} {sum(before.values()):>8,} {sum(after.values()):>6,}")
    print(f"{'serving copy (all tables)':<48} {serving_before:>8,} {serving_after:>6,}")
    print(f"{'landing files holding an identifier':<48} {files_before:>8,} {files_after:>6,}")
    print(
        f"\nrefresh with 1 pending erasure: {seconds:.1f} s; privacy_erasure "
        f"{applied['seconds']:.3f} s, of which dbt {applied.get('dbt_seconds', 0):.3f} s "
        f"(rows removed {applied['rows_removed']:,}, landing files "
        f"rewritten {applied['landing_files_rewritten']})"
    )
    print(
        f"refresh again, 0 pending, tombstone of {again['tombstones']} keys: "
        f"{seconds_again:.1f} s; privacy_erasure {again['seconds']:.3f} s"
    )
    print("rows removed by table:", json.dumps(applied["rows_removed_by_table"]))


if __name__ == "__main__":
    main()
