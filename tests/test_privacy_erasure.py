"""Erasure that reaches everything (issue 12, docs/privacy.md).

- the landing rewrite on bytes (multi-line quoted CSV records, a last record without a line
  break, JSON lines, blank lines, a byte-order mark);
- the erasure library on a hand-built DuckDB file (tombstones, deletes in every table,
  rejects, landing files, line renumbering, the log, a retry);
- end to end through `journey`: hand-written exports for two people, an erasure request for
  one of them in the next day's export, `journey refresh`, then a re-delivered old export.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration.privacy import erasure
from orchestration.privacy.landing_rewrite import remove_records, replace_atomically
from orchestration.privacy.pseudonyms import keyed_hash
from tests.conftest import _demo_env, run_journey

KEY = "test-hash-key"

# --- the landing rewrite ----------------------------------------------------------------------


def test_remove_records_multiline_csv_record_and_renumbering() -> None:
    data = (
        b"id,email,note\n"
        b'1,ann@x.io,"first line\nsecond line\n\nfourth"\n'  # lines 2-5, one record
        b"2,bo@x.io,plain\n"  # line 6
        b"\n"  # a blank line (belongs to nobody)
        b'3,ann@x.io,"x\r\ny"\r\n'  # lines 8-9, CRLF inside and after
        b"4,cy@x.io,last"  # line 10, no final line break
    )
    rewrite = remove_records(data, starts=[2, 6, 8, 10], remove={2, 8})
    assert rewrite.data == b"id,email,note\n2,bo@x.io,plain\n\n4,cy@x.io,last"
    assert rewrite.renumbered == {6: 2, 10: 4}
    assert (rewrite.removed_records, rewrite.removed_lines) == (2, 6)


def test_remove_records_last_record_without_line_break() -> None:
    data = b"id,email\n1,a@x.io\n2,b@x.io"
    assert remove_records(data, [2, 3], {3}).data == b"id,email\n1,a@x.io\n"
    assert remove_records(data, [2, 3], {2}).data == b"id,email\n2,b@x.io"


def test_remove_records_jsonl_keeps_blank_lines_and_bom() -> None:
    data = b'\xef\xbb\xbf{"a": 1}\n\n{"a": 2}\n  \n{"a": 3}\n'
    rewrite = remove_records(data, [1, 3, 5], {1, 5})
    assert rewrite.data == b'\xef\xbb\xbf\n{"a": 2}\n  \n'
    assert rewrite.renumbered == {3: 2}


def test_remove_records_refuses_lines_that_are_not_records() -> None:
    with pytest.raises(ValueError, match="not record starts"):
        remove_records(b"h\na\nb\n", [2, 3], {4})


def test_replace_atomically_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "orders" / "2026-01-05.csv"
    path.parent.mkdir()
    path.write_bytes(b"old")
    path.chmod(0o640)
    replace_atomically(path, b"new")
    assert path.read_bytes() == b"new"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == ["2026-01-05.csv"]


# --- the library on a hand-built warehouse ----------------------------------------------------


def _build_warehouse(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Raw rows and rejects of two people with their landing files, and stand-ins for the
    dbt relations the erasure reads (requests, identity graph) and one mart."""
    from orchestration.ingest.contract import ensure_raw_tables

    ensure_raw_tables(con, ["orders", "web_events", "privacy_requests"])
    orders = (
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type\n"
        'o1,c-ann," Ann@X.io ",2026-01-05T10:00:00Z,paid,10.00,USD,"pro\nplan",new\n'
        "o2,c-bo,bo@x.io,2026-01-05T11:00:00Z,paid,20.00,USD,pro,new\n"
        "o3,c-bo,ANN@X.IO,not-a-time,paid,30.00,USD,pro,new"
    )
    web = (
        '{"messageId": "m1", "type": "page", "anonymousId": "anon-ann"}\n'
        '{"messageId": "m2", "type": "page", "anonymousId": "anon-bo"}\n'
    )
    requests = (
        "request_id,email,request_type,requested_at\nr1,ann@x.io,erasure,2026-01-05T12:00:00Z\n"
    )
    for rel, text in (
        ("orders/2026-01-05.csv", orders),
        ("web_events/2026-01-05.jsonl", web),
        ("privacy_requests/2026-01-05.csv", requests),
    ):
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
        (landing / rel).write_text(text)
    con.execute(
        """
        insert into raw.orders
            (order_id, contact_id, email, _partition_date, _source_file, _line_number)
        values ('o1', 'c-ann', ' Ann@X.io ', '2026-01-05', 'orders/2026-01-05.csv', 2),
               ('o2', 'c-bo', 'bo@x.io', '2026-01-05', 'orders/2026-01-05.csv', 4);
        insert into raw.orders__rejected (_partition_date, _source_file, _line_number, raw_line)
        values ('2026-01-05', 'orders/2026-01-05.csv', 5,
                'o3,c-bo,ANN@X.IO,not-a-time,paid,30.00,USD,pro,new');
        insert into raw.web_events
            (message_id, anonymous_id, _partition_date, _source_file, _line_number)
        values ('m1', 'anon-ann', '2026-01-05', 'web_events/2026-01-05.jsonl', 1),
               ('m2', 'anon-bo', '2026-01-05', 'web_events/2026-01-05.jsonl', 2);
        insert into raw.privacy_requests (request_id, email, request_type, requested_at,
                                          _partition_date, _source_file, _line_number)
        values ('r1', 'ann@x.io', 'erasure', '2026-01-05 12:00:00+00', '2026-01-05',
                'privacy_requests/2026-01-05.csv', 2);
        create schema staging;
        create table staging.requests as select 'r1' as request_id, 'ann@x.io' as email;
        create schema intermediate;
        create table intermediate.ids as
        select * from (values
            ('email', 'ann@x.io', 'cus_ann'), ('contact_id', 'c-ann', 'cus_ann'),
            ('anonymous_id', 'anon-ann', 'cus_ann'),
            ('email', 'bo@x.io', 'cus_bo'), ('contact_id', 'c-bo', 'cus_bo'),
            ('anonymous_id', 'anon-bo', 'cus_bo')
        ) as t(identifier_type, identifier, customer_id);
        create table intermediate.int_web_event_sessions as
        select * from (values ('anon-ann', 's1'), ('user_id:usr-ann', 's2'), ('anon-bo', 's3'))
            as t(visitor_id, session_id);
        create schema marts;
        create table marts.customer_scores as
        select * from (values ('cus_ann', 0.9), ('cus_bo', 0.1)) as t(customer_id, score);
        """
    )


def test_erase_removes_the_person_everywhere_and_logs_counts(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _build_warehouse(con, landing)
    erasure.ensure_privacy_tables(con)
    pending = erasure.pending_requests(con)
    assert [(r.request_id, r.request_type) for r in pending] == [("r1", "erasure")]

    added = erasure.record_tombstones(
        con,
        KEY,
        ["r1"],
        requests_relation="staging.requests",
        identifiers_relation="intermediate.ids",
    )
    # email, contact_id, anonymous_id and customer_id of Ann; never a plain value stored.
    assert added == 4
    stored = con.execute("select identifier_type, identifier_key from privacy.erased_identifiers")
    rows = dict(stored.fetchall())
    assert rows["email"] == keyed_hash(KEY, "email:ann@x.io")
    assert rows["customer_id"] == keyed_hash(KEY, "customer_id:cus_ann")
    assert not any("ann" in value for value in rows.values())

    result = erasure.erase(con, KEY, ["r1"], landing)
    assert result.rows_by_table() == {
        "intermediate.ids": 3,
        "intermediate.int_web_event_sessions": 1,
        "marts.customer_scores": 1,
        "raw.orders": 1,
        "raw.orders__rejected": 1,
        "raw.privacy_requests": 1,
        "raw.web_events": 1,
        "staging.requests": 1,
    }
    assert result.files_rewritten == {
        "orders/2026-01-05.csv",
        "web_events/2026-01-05.jsonl",
        "privacy_requests/2026-01-05.csv",
    }
    assert (landing / "orders/2026-01-05.csv").read_text() == (
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type\n"
        "o2,c-bo,bo@x.io,2026-01-05T11:00:00Z,paid,20.00,USD,pro,new\n"
    )
    assert (landing / "web_events/2026-01-05.jsonl").read_text() == (
        '{"messageId": "m2", "type": "page", "anonymousId": "anon-bo"}\n'
    )
    assert (landing / "privacy_requests/2026-01-05.csv").read_text() == (
        "request_id,email,request_type,requested_at\n"
    )
    # The rows left point at their new lines, so raw and the files still reconcile.
    assert con.execute("select order_id, _line_number from raw.orders").fetchall() == [("o2", 2)]
    assert con.execute("select _line_number from raw.web_events").fetchall() == [(1,)]
    assert con.execute("select visitor_id from intermediate.int_web_event_sessions").fetchall()
    assert erasure.remaining_rows(con, KEY) == {}

    erasure.log_requests(con, pending, result)
    assert erasure.pending_requests(con) == []
    log = con.execute(
        "select request_id, request_type, tables_touched, rows_removed, landing_files_rewritten "
        "from privacy.erasure_log"
    ).fetchall()
    assert log == [("r1", "erasure", 8, 10, 3)]
    per_table = con.execute(
        "select table_name, rows_removed from privacy.erasure_log_tables order by 1"
    ).fetchall()
    assert ("raw.orders__rejected", 1) in per_table and len(per_table) == 8
    con.close()


def test_erase_retry_after_the_files_were_rewritten(tmp_path: Path) -> None:
    """A crash between the landing rewrite and the deletes: the retry only deletes."""
    landing = tmp_path / "landing"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _build_warehouse(con, landing)
    erasure.ensure_privacy_tables(con)
    erasure.record_tombstones(
        con,
        KEY,
        ["r1"],
        requests_relation="staging.requests",
        identifiers_relation="intermediate.ids",
    )
    (landing / "web_events/2026-01-05.jsonl").write_text(
        '{"messageId": "m2", "type": "page", "anonymousId": "anon-bo"}\n'
    )
    result = erasure.erase(con, KEY, ["r1"], landing)
    assert result.warnings == []
    assert con.execute("select message_id, _line_number from raw.web_events").fetchall() == [
        ("m2", 1)
    ]
    con.close()


def test_erase_leaves_a_changed_landing_file_alone(tmp_path: Path, monkeypatch) -> None:
    landing = tmp_path / "landing"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _build_warehouse(con, landing)
    erasure.ensure_privacy_tables(con)
    erasure.record_tombstones(
        con,
        KEY,
        ["r1"],
        requests_relation="staging.requests",
        identifiers_relation="intermediate.ids",
    )
    changed = '{"messageId": "m9"}\n{"messageId": "m8"}\n{"messageId": "m7"}\n'
    (landing / "web_events/2026-01-05.jsonl").write_text(changed)
    result = erasure.erase(con, KEY, ["r1"], landing)
    assert any("web_events/2026-01-05.jsonl" in w and "changed" in w for w in result.warnings)
    assert (landing / "web_events/2026-01-05.jsonl").read_text() == changed
    assert result.rows_by_table()["raw.web_events"] == 1  # the warehouse is erased anyway
    con.close()


def test_landing_rewrite_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOURNEY_ERASE_LANDING", "false")
    landing = tmp_path / "landing"
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    _build_warehouse(con, landing)
    before = (landing / "orders/2026-01-05.csv").read_bytes()
    erasure.ensure_privacy_tables(con)
    erasure.record_tombstones(
        con,
        KEY,
        ["r1"],
        requests_relation="staging.requests",
        identifiers_relation="intermediate.ids",
    )
    result = erasure.erase(con, KEY, ["r1"], landing)
    assert result.files_rewritten == set()
    assert (landing / "orders/2026-01-05.csv").read_bytes() == before
    assert erasure.remaining_rows(con, KEY) == {}
    con.close()


def test_dbt_hook_creates_the_same_privacy_tables(tmp_path: Path) -> None:
    """macros/erasure.sql `create_privacy_tables` (rendered for DuckDB) = PRIVACY_DDL."""
    macro = (Path(__file__).parent.parent / "dbt_project/macros/erasure.sql").read_text()
    body = re.search(r"create_privacy_tables\(\) -%\}(.*?)\{%- endmacro", macro, re.S).group(1)
    types = {
        "{{ dbt.type_string() }}": "varchar",
        "{{ dbt.type_timestamp() }}": "timestamp",
        "{{ dbt.type_int() }}": "integer",
        "{{ dbt.type_bigint() }}": "bigint",
    }
    for jinja, sql in types.items():
        body = body.replace(jinja, sql)
    schemas = []
    for statements in (body.split(";"), erasure.PRIVACY_DDL):
        con = duckdb.connect()
        for statement in statements:
            con.execute(statement)
        schemas.append(
            con.execute(
                "select table_name, column_name, data_type, is_nullable "
                "from information_schema.columns where table_schema = 'privacy' order by all"
            ).fetchall()
        )
        con.close()
    assert schemas[0] == schemas[1] and len(schemas[0]) == 14


# --- end to end through `journey` -------------------------------------------------------------

DAYS = ("2026-01-05", "2026-01-06", "2026-01-07")
REQUEST_DAY = "2026-01-08"
REDELIVERY_DAY = "2026-01-09"
ANN = {"email": "Ann.Lee@Mail.test", "user_id": "usr-ann", "anon": "anon-ann", "contact": "c-ann"}
BO = {"email": "bo.kim@mail.test", "user_id": "usr-bo", "anon": "anon-bo", "contact": "c-bo"}
# Erased by the first run already (a request in the first exports: a fresh warehouse).
CY = {"email": "cy@mail.test", "user_id": "usr-cy", "anon": "anon-cy", "contact": "c-cy"}


def _event(n: int, person: dict[str, str], day: str, kind: str) -> str:
    event = {
        "messageId": f"{person['anon']}-{day}-{n}",
        "type": kind,
        "anonymousId": person["anon"],
        "timestamp": f"{day}T09:0{n}:00Z",
        "context": {"page": {"url": f"https://shop.test/p{n}", "path": f"/p{n}"}},
    }
    if kind == "identify":
        event |= {"userId": person["user_id"], "traits": {"email": person["email"]}}
    return json.dumps(event)


def write_two_people(landing: Path) -> None:
    """Ann (to be erased) and Bo, each with web events, a CRM contact, an order, a ticket and
    email events; one rejected email event naming Ann (upper case, bad timestamp)."""
    for folder in ("web_events", "crm_contacts", "orders", "support_tickets", "email_events"):
        (landing / folder).mkdir(parents=True, exist_ok=True)
    for d, day in enumerate(DAYS):
        lines = []
        for person in (ANN, BO, CY):
            kinds = ["identify", "page", "page"] if d == 0 else ["page", "page"]
            lines += [_event(n, person, day, kind) for n, kind in enumerate(kinds)]
        (landing / "web_events" / f"{day}.jsonl").write_text("\n".join(lines) + "\n")
        emails = ["event_id,email,campaign_id,campaign_name,event_type,occurred_at"]
        for person in (ANN, BO):
            emails.append(f"e-{person['anon']}-{d},{person['email']},c1,Jan,open,{day}T08:00:00Z")
        if d == 1:
            emails.append(f"e-bad-{d},{ANN['email'].upper()},c1,Jan,open,not-a-time")
        (landing / "email_events" / f"{day}.csv").write_text("\n".join(emails) + "\n")
    first = DAYS[0]
    (landing / "crm_contacts" / f"{first}.csv").write_text(
        "contact_id,email,first_name,last_name,company,segment,country,lifecycle_stage,"
        "created_at,updated_at,marketing_consent\n"
        f"{ANN['contact']},{ANN['email']},Ann,Lee,Acme,smb,DE,lead,{first}T08:00:00Z,"
        f"{first}T08:00:00Z,true\n"
        f"{BO['contact']},{BO['email']},Bo,Kim,Initech,smb,SE,lead,{first}T08:00:00Z,"
        f"{first}T08:00:00Z,true\n"
        f"{CY['contact']},{CY['email']},Cy,Ode,Hooli,smb,FR,lead,{first}T08:00:00Z,"
        f"{first}T08:00:00Z,true\n"
    )
    (landing / "privacy_requests").mkdir(parents=True, exist_ok=True)
    (landing / "privacy_requests" / f"{DAYS[2]}.csv").write_text(
        "request_id,email,request_type,requested_at\n"
        f"req-0,{CY['email']},erasure,{DAYS[2]}T12:00:00Z\n"
    )
    (landing / "orders" / f"{DAYS[1]}.csv").write_text(
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type,"
        "user_id,anonymous_id\n"
        f'o-ann,{ANN["contact"]},{ANN["email"]},{DAYS[1]}T10:00:00Z,paid,49.00,USD,"pro\nyearly",'
        f"new,{ANN['user_id']},{ANN['anon']}\n"
        f"o-bo,{BO['contact']},{BO['email']},{DAYS[1]}T11:00:00Z,paid,49.00,USD,pro,new,,\n"
    )
    (landing / "support_tickets" / f"{DAYS[2]}.csv").write_text(
        "ticket_id,requester_email,created_at,updated_at,solved_at,channel,priority,status,"
        "satisfaction,subject,description\n"
        f"t-ann,{ANN['email']},{DAYS[2]}T09:00:00Z,{DAYS[2]}T09:00:00Z,,email,low,new,,Help,"
        '"two\nlines"\n'
        f"t-bo,{BO['email']},{DAYS[2]}T09:00:00Z,{DAYS[2]}T09:00:00Z,,email,low,new,,Hi,x\n"
    )


def _values(person: dict[str, str]) -> list[str]:
    return [person["email"], person["user_id"], person["anon"], person["contact"]]


def _token_pattern(person: dict[str, str]) -> re.Pattern[str]:
    return re.compile(
        "|".join(
            rf"(?<![A-Za-z0-9_.@+\-]){re.escape(v)}(?![A-Za-z0-9_.@+\-])" for v in _values(person)
        ),
        re.IGNORECASE,
    )


def customer_ids_of(warehouse: Path, person: dict[str, str]) -> set[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            row[0]
            for row in con.execute(
                "select customer_id from intermediate.int_customer_identifiers "
                "where lower(identifier) in (select lower(unnest(?::varchar[])))",
                [_values(person)],
            ).fetchall()
        }


def person_rows(path: Path, person: dict[str, str], customer_ids: set[str]) -> dict[str, int]:
    """Rows of every table (but privacy's) holding one of the person's values as a whole
    token (case-insensitively), or one of their customer ids."""
    pattern = _token_pattern(person)
    counts: dict[str, int] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_schema <> 'privacy' "
            "and table_catalog = current_database()"
        ).fetchall()
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            counts[f"{schema}.{table}"] = sum(
                1
                for row in rows
                if any(isinstance(v, str) and (v in customer_ids or pattern.search(v)) for v in row)
            )
    return counts


def landing_files_with(landing: Path, person: dict[str, str]) -> list[str]:
    pattern = _token_pattern(person)
    return sorted(
        str(p.relative_to(landing))
        for p in landing.rglob("*")
        if p.is_file() and pattern.search(p.read_text(errors="replace"))
    )


@pytest.mark.e2e
def test_erasure_end_to_end(tmp_path: Path) -> None:
    env = _demo_env(tmp_path)
    env["JOURNEY_HASH_KEY"] = KEY
    env.pop("JOURNEY_START_DATE", None)
    landing = Path(env["JOURNEY_LANDING_DIR"])
    warehouse = Path(env["JOURNEY_WAREHOUSE"])
    serving = Path(env["JOURNEY_SERVING"])
    write_two_people(landing)
    old_exports = tmp_path / "old_exports"
    shutil.copytree(landing, old_exports)
    run_journey(env, "run", "--skip-generate")
    assert {t: n for t, n in person_rows(warehouse, CY, set()).items() if n} == {}
    assert landing_files_with(landing, CY) == []

    ann_ids, bo_ids = customer_ids_of(warehouse, ANN), customer_ids_of(warehouse, BO)
    assert len(ann_ids) == 1 and len(bo_ids) == 1
    ann_before = person_rows(warehouse, ANN, ann_ids)
    bo_before = person_rows(warehouse, BO, bo_ids)
    for table in ("raw.web_events", "raw.orders", "raw.support_tickets", "raw.email_events"):
        assert ann_before[table] > 0, table
    assert ann_before["raw.email_events__rejected"] == 1
    assert ann_before["marts.dim_customers"] == 1 and ann_before["marts.fct_sessions"] > 0
    assert sum(person_rows(serving, ANN, ann_ids).values()) > 0

    # The request arrives with the next day's exports (and that day's web traffic of Bo).
    (landing / "privacy_requests" / f"{REQUEST_DAY}.csv").write_text(
        "request_id,email,request_type,requested_at\n"
        f"req-1, {ANN['email'].upper()} ,Erasure,{REQUEST_DAY}T07:00:00Z\n"
        f"req-2,{BO['email']},opt_out,{REQUEST_DAY}T07:30:00Z\n"
    )
    (landing / "web_events" / f"{REQUEST_DAY}.jsonl").write_text(
        _event(0, BO, REQUEST_DAY, "page") + "\n"
    )
    run_journey(env, "refresh")

    ann_after = person_rows(warehouse, ANN, ann_ids)
    assert {t: n for t, n in ann_after.items() if n} == {}
    assert {t: n for t, n in person_rows(serving, ANN, ann_ids).items() if n} == {}
    assert landing_files_with(landing, ANN) == []
    # Bo keeps every row he had (plus the new day's page view and his opt-out request).
    bo_after = person_rows(warehouse, BO, bo_ids)
    for table, count in bo_before.items():
        assert bo_after.get(table, 0) >= count, table
    assert bo_after["raw.web_events"] == bo_before["raw.web_events"] + 1
    assert bo_after["raw.orders"] == bo_before["raw.orders"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        consent = con.execute(
            "select marketing_consent from marts.dim_customers where customer_id in "
            "(select customer_id from intermediate.int_customer_identifiers where identifier = ?)",
            [BO["contact"]],
        ).fetchall()
        assert consent == [(False,)]
        log = con.execute(
            "select request_id, request_type, is_applied, tables_touched, rows_removed, "
            "rows_removed_by_table, landing_files_rewritten "
            "from marts.privacy_request_log order by request_id"
        ).fetchall()
    first_run, (rid, kind, applied, touched, removed, by_table, files), optout = log
    assert first_run[:3] == ("req-0", "erasure", True) and first_run[4] > 0
    assert (rid, kind, applied) == ("req-1", "erasure", True)
    by_table = json.loads(by_table)
    assert touched == len(by_table) and removed == sum(by_table.values())
    assert by_table["raw.email_events__rejected"] == 1
    assert by_table["raw.orders"] == 1 and by_table["raw.support_tickets"] == 1
    assert by_table["marts.dim_customers"] == 1
    assert by_table["raw.web_events"] == ann_before["raw.web_events"]
    assert files == len(landing_files_with(old_exports, ANN)) + 1  # + the request's file
    assert optout[:5] == ("req-2", "opt_out", True, 0, 0)
    log_text = json.dumps(log, default=str).lower()
    assert not any(v.lower() in log_text for v in _values(ANN))

    # An old export re-delivered as a new day's file: Ann stays gone, in raw too.
    shutil.copy(
        old_exports / "web_events" / f"{DAYS[0]}.jsonl",
        landing / "web_events" / f"{REDELIVERY_DAY}.jsonl",
    )
    shutil.copy(
        old_exports / "email_events" / f"{DAYS[1]}.csv",
        landing / "email_events" / f"{REDELIVERY_DAY}.csv",
    )
    run_journey(env, "refresh")
    assert {t: n for t, n in person_rows(warehouse, ANN, ann_ids).items() if n} == {}
    assert {t: n for t, n in person_rows(serving, ANN, ann_ids).items() if n} == {}
    assert landing_files_with(landing, ANN) == []
    bo_final = person_rows(warehouse, BO, bo_ids)
    assert bo_final["raw.web_events"] > bo_after["raw.web_events"]  # Bo's re-sent lines stay


def test_privacy_erasure_asset_with_nothing_to_erase(journey_env, warehouse_con) -> None:
    """Only an opt-out pending: logged, no dbt call, no tombstone; metadata counts only."""
    import dagster as dg

    from orchestration.ingest.contract import ensure_raw_tables
    from orchestration.privacy.assets import privacy_erasure
    from orchestration.resources import LandingResource, WarehouseResource
    from orchestration.transform.project import dbt_cli_resource

    ensure_raw_tables(warehouse_con, ["privacy_requests"])
    warehouse_con.execute(
        "insert into raw.privacy_requests (request_id, email, request_type, requested_at, "
        "_partition_date, _source_file, _line_number) values "
        "(' r9 ', 'bo@x.io', ' OPT_OUT ', '2026-01-05 12:00:00+00', '2026-01-05', 'f', 2)"
    )
    warehouse_con.close()
    result = dg.materialize(
        [privacy_erasure],
        resources={
            "dbt": dbt_cli_resource(),
            "warehouse": WarehouseResource(path=str(journey_env.warehouse_path)),
            "landing": LandingResource(root=str(journey_env.landing_dir)),
        },
    )
    assert result.success
    [tombstone] = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["privacy", "erased_identifiers"])
    ]
    assert tombstone["requests_applied"].value == 1
    assert tombstone["opt_outs_applied"].value == 1
    assert tombstone["erasures_applied"].value == 0
    assert tombstone["rows_removed"].value == 0 and tombstone["tombstones"].value == 0
    [check] = result.get_asset_check_evaluations()
    assert check.passed
    with duckdb.connect(str(journey_env.warehouse_path), read_only=True) as con:
        log = con.execute("select request_id, request_type, rows_removed from privacy.erasure_log")
        assert log.fetchall() == [("r9", "opt_out", 0)]
