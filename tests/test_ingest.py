"""Ingestion: landing files → raw.* (loaders without Dagster, then the assets, check and sensor)."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.ingest import assets as ingest_assets
from orchestration.ingest.assets import build_ingestion_asset, month_key, raw_asset_key
from orchestration.ingest.contract import SOURCE_COLUMNS, ensure_raw_tables, required_columns
from orchestration.ingest.loaders import (
    LoadError,
    count_data_lines,
    landing_path,
    load_file,
    load_partitions,
    reconcile_partition,
    reconcile_partitions,
    scan_csv_records,
)
from orchestration.ingest.sensors import landing_file_sensor
from orchestration.pipeline import partition_range_tags
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.run_config import day_run_config
from orchestration.settings import SOURCES

DAY = date(2026, 1, 5)
NEXT_DAY = date(2026, 1, 6)
ORDERS_HEADER = "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type"


def order(order_id: str, amount: str = "12.50", ordered_at: str = "2026-01-05T10:15:00+02:00"):
    return f"{order_id},c{order_id},p{order_id}@example.com,{ordered_at},paid,{amount},EUR,pro,new"


def orders_csv(*rows: str, header: str = ORDERS_HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def web_event(message_id: str, **fields) -> str:
    event = {
        "messageId": message_id,
        "type": "page",
        "anonymousId": "anon-1",
        "timestamp": "2026-01-05T10:15:00-05:00",
        "context": {"page": {"url": "https://example.com/pricing", "path": "/pricing"}},
    }
    event.update(fields)
    return json.dumps({k: v for k, v in event.items() if v is not None})


def load(con, landing_dir: Path, source: str, day: date = DAY):
    return load_file(con, source, landing_path(landing_dir, source, day), day, landing_dir)


def rejected(con, source: str) -> list[tuple]:
    return con.execute(
        f"""select _source_file, _line_number, field, reason, raw_line
            from raw.{source}__rejected order by _partition_date, _line_number"""
    ).fetchall()


def assert_reconciles(result) -> None:
    assert result.lines_read == result.rows_loaded + result.rows_rejected


# --- good files -------------------------------------------------------------------------

SAMPLE_VALUES = {
    "VARCHAR": "x",
    "TIMESTAMPTZ": "2026-01-05T10:15:00+02:00",
    "BOOLEAN": "true",
    "DECIMAL(12,2)": "12.50",
}


@pytest.mark.parametrize("source", [s for s, ext in SOURCES.items() if ext == "csv"])
def test_good_csv_loads_every_row_with_types_and_line_numbers(
    source, warehouse_con, landing_dir, write_landing
):
    columns = SOURCE_COLUMNS[source]
    row = ",".join(SAMPLE_VALUES[t] for t in columns.values())
    write_landing(source, DAY, ",".join(columns) + "\n" + row + "\n" + row + "\n")

    result = load(warehouse_con, landing_dir, source)

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (2, 2, 0)
    assert result.warnings == []
    assert result.source_file == f"{source}/{DAY}.csv"
    types = {r[0]: r[1] for r in warehouse_con.execute(f"describe raw.{source}").fetchall()}
    assert types["_line_number"] == "BIGINT"
    assert types["_partition_date"] == "DATE"
    ts_column = next(c for c, t in columns.items() if t == "TIMESTAMPTZ")
    rows = warehouse_con.execute(
        f"select _line_number, {ts_column}, _source_file from raw.{source} order by 1"
    ).fetchall()
    # 10:15 at +02:00 is 08:15 UTC: the instant is kept, not the wall-clock time.
    instant = datetime(2026, 1, 5, 8, 15, tzinfo=UTC)
    assert rows == [(2, instant, f"{source}/{DAY}.csv"), (3, instant, f"{source}/{DAY}.csv")]


def test_web_events_load_with_payload_and_utc_instants(warehouse_con, landing_dir, write_landing):
    lines = [
        web_event("m1"),
        web_event(
            "m2",
            type="track",
            event="Signed Up",
            userId="u-9",
            anonymousId=None,
            timestamp="2026-01-05T23:30:00.250+05:30",
        ),
        web_event("m3", type="identify", userId="u-9", traits={"email": "A@Example.com"}),
    ]
    write_landing("web_events", DAY, "\n".join(lines) + "\n")

    result = load(warehouse_con, landing_dir, "web_events")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (3, 3, 0)
    rows = warehouse_con.execute(
        """select message_id, type, event, anonymous_id, user_id, event_timestamp,
                  payload -> '$.context.page' ->> 'path', payload -> '$.traits' ->> 'email',
                  _line_number
           from raw.web_events order by _line_number"""
    ).fetchall()
    assert rows == [
        (
            "m1",
            "page",
            None,
            "anon-1",
            None,
            datetime(2026, 1, 5, 15, 15, tzinfo=UTC),
            "/pricing",
            None,
            1,
        ),
        (
            "m2",
            "track",
            "Signed Up",
            None,
            "u-9",
            datetime(2026, 1, 5, 18, 0, 0, 250000, tzinfo=UTC),
            "/pricing",
            None,
            2,
        ),
        (
            "m3",
            "identify",
            None,
            "anon-1",
            "u-9",
            datetime(2026, 1, 5, 15, 15, tzinfo=UTC),
            "/pricing",
            "A@Example.com",
            3,
        ),
    ]
    assert warehouse_con.execute(
        "select typeof(payload) from raw.web_events limit 1"
    ).fetchall() == [("JSON",)]


def test_tables_exist_before_any_file(warehouse_con):
    ensure_raw_tables(warehouse_con)
    tables = {
        r[0]
        for r in warehouse_con.execute(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        ).fetchall()
    }
    assert tables == set(SOURCES) | {f"{s}__rejected" for s in SOURCES}


# --- bad lines ----------------------------------------------------------------------------


def test_bad_csv_lines_are_rejected_with_line_field_and_reason(
    warehouse_con, landing_dir, write_landing
):
    write_landing(
        "orders",
        DAY,
        orders_csv(
            order("1"),  # line 2: good
            order("2", amount="abc"),  # line 3: wrong type
            order("3", ordered_at="yesterday"),  # line 4: bad timestamp
            order("4") + ",surplus",  # line 5: too many fields
            "5,c5,short",  # line 6: too few fields
            '6,c6,"a ""quoted"", value",2026-01-05T10:15:00Z,paid,1,EUR,pro,new',  # 7: good
            '7,c7,"x"y,2026-01-05T10:15:00Z,paid,1,EUR,pro,new',  # line 8: text after quote
            order("8"),  # line 9: good
        ),
    )

    result = load(warehouse_con, landing_dir, "orders")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (8, 3, 5)
    assert_reconciles(result)
    got = {
        line: (f, field, reason) for f, line, field, reason, _ in rejected(warehouse_con, "orders")
    }
    assert set(got) == {3, 4, 5, 6, 8}
    assert {f for f, _, _ in got.values()} == {"orders/2026-01-05.csv"}
    assert got[3][1] == "amount" and '"abc"' in got[3][2]
    assert got[4][1] == "ordered_at" and '"yesterday"' in got[4][2]
    assert got[5][2].startswith("TOO MANY COLUMNS")
    assert got[6][2].startswith("MISSING COLUMNS")
    assert got[8][1] == "email" and "UNQUOTED VALUE" in got[8][2]
    raw_lines = {line: raw for _, line, _, _, raw in rejected(warehouse_con, "orders")}
    assert raw_lines[3] == order("2", amount="abc")
    loaded = warehouse_con.execute(
        "select _line_number, order_id, email, amount from raw.orders order by 1"
    ).fetchall()
    assert loaded == [
        (2, "1", "p1@example.com", Decimal("12.50")),
        (7, "6", 'a "quoted", value', Decimal("1.00")),
        (9, "8", "p8@example.com", Decimal("12.50")),
    ]


def test_two_errors_on_one_line_make_one_rejected_row(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1", amount="abc", ordered_at="never")))
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.lines_read, result.rows_rejected) == (1, 1)
    [(_, line, field, reason, _)] = rejected(warehouse_con, "orders")
    assert (line, field) == (2, "amount, ordered_at")
    assert '"abc"' in reason and '"never"' in reason


def test_multiline_values_and_blank_lines_keep_physical_line_numbers(
    warehouse_con, landing_dir, write_landing
):
    header = ",".join(required_columns("support_tickets"))
    ticket = "t{n},a@x.com,2026-01-05T10:00:00Z,2026-01-05T11:00:00Z,,email,high,open,,Help,{d}"
    content = "\n".join(
        [
            header,
            ticket.format(n=1, d='"first line\nsecond line\nthird, with comma"'),  # lines 2-4
            "",  # line 5: blank
            ticket.format(n=2, d="plain"),  # line 6
            ticket.format(n=3, d='"bad ""quote"" and"') + ",too many",  # line 7: rejected
            ticket.format(n=4, d='"crlf\r\ninside"'),  # lines 8-9
        ]
    )
    write_landing("support_tickets", DAY, content + "\n")

    result = load(warehouse_con, landing_dir, "support_tickets")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    assert result.blank_lines == 1
    assert any("1 blank line" in w for w in result.warnings)
    rows = warehouse_con.execute(
        "select ticket_id, _line_number, description, solved_at from raw.support_tickets order by 2"
    ).fetchall()
    assert rows == [
        ("t1", 2, "first line\nsecond line\nthird, with comma", None),
        ("t2", 6, "plain", None),
        ("t4", 8, "crlf\r\ninside", None),
    ]
    assert [r[1] for r in rejected(warehouse_con, "support_tickets")] == [7]
    assert (
        count_data_lines(landing_path(landing_dir, "support_tickets", DAY), "support_tickets") == 4
    )


def test_unterminated_quote_rejects_the_rest_of_the_file_as_one_record(
    warehouse_con, landing_dir, write_landing
):
    write_landing(
        "orders", DAY, orders_csv(order("1"), '2,c2,"never closed,2026-01-05T10:15:00Z', order("3"))
    )
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    [(_, line, _, reason, raw)] = rejected(warehouse_con, "orders")
    assert line == 3 and "unterminated quote" in reason
    assert order("3") in raw  # what was swallowed stays visible in the rejected row


def test_non_utf8_csv_line_is_rejected_by_line(warehouse_con, landing_dir, write_landing):
    content = orders_csv(order("1"), order("2"), order("3")).encode()
    content = content.replace(b"p2@example.com", b"p2\xff\xfe@example.com")
    write_landing("orders", DAY, content)

    result = load(warehouse_con, landing_dir, "orders")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    [(_, line, field, reason, raw)] = rejected(warehouse_con, "orders")
    assert (line, field) == (3, "email")
    assert "INVALID ENCODING" in reason
    assert raw.startswith("2,c2,p2\ufffd\ufffd@example.com")


def test_bom_is_stripped(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, b"\xef\xbb\xbf" + orders_csv(order("1")).encode())
    write_landing("web_events", DAY, b"\xef\xbb\xbf" + web_event("m1").encode() + b"\n")
    assert load(warehouse_con, landing_dir, "orders").rows_loaded == 1
    assert load(warehouse_con, landing_dir, "web_events").rows_loaded == 1
    assert warehouse_con.execute("select order_id from raw.orders").fetchall() == [("1",)]


def test_crlf_file_loads(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2")).replace("\n", "\r\n"))
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    assert warehouse_con.execute("select max(order_type) from raw.orders").fetchall() == [("new",)]


def test_unknown_column_is_ignored_with_a_warning(warehouse_con, landing_dir, write_landing):
    # Columns in another order plus one the contract does not know.
    header = "coupon,amount,order_id,contact_id,email,ordered_at,status,currency,plan,order_type"
    write_landing(
        "orders",
        DAY,
        orders_csv("SAVE10,9.99,1,c1,a@x.com,2026-01-05T10:15:00Z,paid,EUR,pro,new", header=header),
    )
    result = load(warehouse_con, landing_dir, "orders")
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)
    assert any("unknown column(s) coupon" in w for w in result.warnings)
    assert warehouse_con.execute("select order_id, amount from raw.orders").fetchall() == [
        ("1", Decimal("9.99"))
    ]


def test_missing_required_column_fails_the_file(warehouse_con, landing_dir, write_landing):
    header = ORDERS_HEADER.replace(",amount", "")
    write_landing(
        "orders", DAY, orders_csv("1,c1,a@x.com,2026-01-05T10:15:00Z,paid,EUR,p,n", header=header)
    )
    with pytest.raises(
        LoadError, match=r"orders/2026-01-05\.csv: line 1: missing required column\(s\) amount"
    ):
        load(warehouse_con, landing_dir, "orders")


@pytest.mark.parametrize(
    "content, match",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", "header is not valid UTF-8"),
        (b"\x00\x01\x02 binary \x03", "missing required column"),
        # Mixed line endings put DuckDB's strict parser in an invalid state: the whole file fails.
        (f"{ORDERS_HEADER}\n{order('1')}\r\n{order('2')}\n".encode(), "could not parse"),
    ],
)
def test_unparseable_file_raises_naming_the_file(
    warehouse_con, landing_dir, write_landing, content, match
):
    write_landing("orders", DAY, content)
    with pytest.raises(LoadError, match="orders/2026-01-05.csv") as excinfo:
        load(warehouse_con, landing_dir, "orders")
    assert match in str(excinfo.value)


def test_failed_file_leaves_the_previous_load_in_place(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1")))
    load(warehouse_con, landing_dir, "orders")
    write_landing("orders", DAY, orders_csv(order("2"), header="order_id,amount"))
    with pytest.raises(LoadError):
        load(warehouse_con, landing_dir, "orders")
    assert warehouse_con.execute("select order_id from raw.orders").fetchall() == [("1",)]


def test_empty_header_only_and_missing_files(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1")))
    load(warehouse_con, landing_dir, "orders")

    write_landing("orders", DAY, b"")
    empty = load(warehouse_con, landing_dir, "orders")
    assert (empty.lines_read, empty.rows_loaded, empty.file_bytes, empty.missing) == (
        0,
        0,
        0,
        False,
    )
    assert any("empty file" in w for w in empty.warnings)
    # An empty file replaces what the day held before.
    assert warehouse_con.execute("select count(*) from raw.orders").fetchall() == [(0,)]

    write_landing("orders", DAY, ORDERS_HEADER + "\n")
    header_only = load(warehouse_con, landing_dir, "orders")
    assert (header_only.lines_read, header_only.rows_loaded, header_only.rows_rejected) == (0, 0, 0)
    assert header_only.warnings == []

    missing = load(warehouse_con, landing_dir, "orders", day=NEXT_DAY)
    assert missing.missing and missing.rows_loaded == 0
    assert missing.warnings == ["orders/2026-01-06.csv: file not found; partition left empty"]


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_a_day_without_a_file_loads_empty_for_every_source(warehouse_con, landing_dir, source):
    # A day without web events once failed to bind the timestamp window (NULL-typed day).
    result = load(warehouse_con, landing_dir, source)
    assert result.missing and (result.rows_loaded, result.rows_rejected) == (0, 0)
    assert warehouse_con.execute(f"select count(*) from raw.{source}").fetchall() == [(0,)]


def test_web_event_rejections(warehouse_con, landing_dir, write_landing):
    lines = [
        web_event("ok-1").encode(),  # 1
        b"",  # 2: blank, not a data line
        b"{not json",  # 3
        b"[1, 2]",  # 4
        web_event(None).encode(),  # 5: no messageId
        web_event("m", type=None).encode(),  # 6
        web_event("m", anonymousId=None).encode(),  # 7: no anonymousId nor userId
        web_event("m", timestamp="05/01/2026 10:15").encode(),  # 8
        web_event("m", timestamp=None).encode(),  # 9
        web_event("m", userId="cafX").encode().replace(b"cafX", b"caf\xe9"),  # 10: latin-1
        web_event("ok-2", anonymousId=None, userId="u1").encode(),  # 11
    ]
    write_landing("web_events", DAY, b"\r\n".join(lines) + b"\r\n")

    result = load(warehouse_con, landing_dir, "web_events")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected, result.blank_lines) == (
        10,
        2,
        8,
        1,
    )
    got = [
        (line, field, reason) for _, line, field, reason, _ in rejected(warehouse_con, "web_events")
    ]
    assert got == [
        (3, None, "invalid JSON"),
        (4, None, "not a JSON object"),
        (5, "messageId", "missing messageId"),
        (6, "type", "missing type"),
        (7, "anonymousId, userId", "neither anonymousId nor userId"),
        (8, "timestamp", 'unparseable timestamp "05/01/2026 10:15"'),
        (9, "timestamp", "missing timestamp"),
        (10, None, "invalid UTF-8"),
    ]
    assert warehouse_con.execute(
        "select message_id, _line_number from raw.web_events order by 2"
    ).fetchall() == [("ok-1", 1), ("ok-2", 11)]


# --- partitions: idempotency and replacement ----------------------------------------------


def test_loading_the_same_file_twice_is_idempotent(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2", amount="abc")))
    first = load(warehouse_con, landing_dir, "orders")
    second = load(warehouse_con, landing_dir, "orders")
    assert (first.rows_loaded, first.rows_rejected) == (second.rows_loaded, second.rows_rejected)
    counts = warehouse_con.execute(
        "select (select count(*) from raw.orders), (select count(*) from raw.orders__rejected)"
    ).fetchall()
    assert counts == [(1, 1)]


def test_reloading_a_partition_replaces_only_that_day(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2", amount="abc")))
    write_landing("orders", NEXT_DAY, orders_csv(order("10"), order("11", amount="x")))
    load(warehouse_con, landing_dir, "orders", DAY)
    load(warehouse_con, landing_dir, "orders", NEXT_DAY)
    before_next_day = warehouse_con.execute(
        "select order_id, _loaded_at from raw.orders where _partition_date = ?", [NEXT_DAY]
    ).fetchall()

    write_landing("orders", DAY, orders_csv(order("1"), order("3"), order("4")))
    result = load(warehouse_con, landing_dir, "orders", DAY)

    assert (result.rows_loaded, result.rows_rejected) == (3, 0)
    by_day = warehouse_con.execute(
        "select _partition_date, list(order_id order by order_id) from raw.orders "
        "group by 1 order by 1"
    ).fetchall()
    assert by_day == [(DAY, ["1", "3", "4"]), (NEXT_DAY, ["10"])]
    assert warehouse_con.execute(
        "select _partition_date, _line_number from raw.orders__rejected"
    ).fetchall() == [(NEXT_DAY, 3)]
    after_next_day = warehouse_con.execute(
        "select order_id, _loaded_at from raw.orders where _partition_date = ?", [NEXT_DAY]
    ).fetchall()
    assert after_next_day == before_next_day


# --- the reconcile check (library side) -------------------------------------------------


def test_reconcile_passes_after_a_load_and_fails_when_rows_go_missing(
    warehouse_con, landing_dir, write_landing
):
    write_landing("orders", DAY, orders_csv(order("1"), order("2"), order("3", amount="bad")))
    load(warehouse_con, landing_dir, "orders")
    ok = reconcile_partition(warehouse_con, "orders", DAY, landing_dir)
    assert ok.passed and (ok.lines_in_file, ok.rows_loaded, ok.rows_rejected) == (3, 2, 1)

    warehouse_con.execute("delete from raw.orders where order_id = '2'")
    lost = reconcile_partition(warehouse_con, "orders", DAY, landing_dir)
    assert not lost.passed
    assert (
        lost.describe()
        == "orders/2026-01-05.csv: 3 data line(s) in the file, 1 loaded + 1 rejected"
    )

    load(warehouse_con, landing_dir, "orders")
    write_landing("orders", DAY, orders_csv(order("1"), order("2"), order("3"), order("4")))
    assert not reconcile_partition(warehouse_con, "orders", DAY, landing_dir).passed


@pytest.mark.parametrize(
    "data, lines",
    [
        (b"h\na\nb", [1, 2, 3]),
        (b"h\r\na\r\n\r\nb\r\n", [1, 2, 3, 4]),
        (b'h\n"a\nb",c\nd\n', [1, 2, 4]),
        (b'h\nx,"a ""q""\n\n",c\nd\n', [1, 2, 5]),
        (b'h\nab"c\nd\n', [1, 2, 3]),  # a quote inside an unquoted value is a literal
        (b'h\n"ab"c,"d\ne\n', [1, 2]),  # the second value opens a quote that never closes
    ],
)
def test_scanner_record_boundaries(data, lines):
    assert scan_csv_records(data).lines == lines


def test_line_numbers_stay_exact_on_a_large_file(warehouse_con, landing_dir, write_landing):
    """Enough rows for DuckDB to read in parallel: accepted rows must keep file order."""
    rows, line, expected = [], 2, {}
    for i in range(60_000):
        if i % 997 == 0:
            rows.append(f'{i},c,"multi\nline",2026-01-05T10:15:00Z,paid,1,EUR,pro,new')
            expected[str(i)] = line
            line += 2
        elif i % 1009 == 0:
            rows.append(order(str(i), amount="oops"))
            line += 1
        else:
            rows.append(order(str(i)))
            expected[str(i)] = line
            line += 1
    write_landing("orders", DAY, orders_csv(*rows))

    result = load(warehouse_con, landing_dir, "orders")

    assert result.rows_loaded == len(expected) and result.rows_rejected == 60_000 - len(expected)
    mismatches = warehouse_con.execute(
        "select count(*) from raw.orders o join (select unnest(?) as id, unnest(?) as line) e "
        "on o.order_id = e.id where o._line_number <> e.line",
        [list(expected), list(expected.values())],
    ).fetchall()
    assert mismatches == [(0,)]


# --- Dagster: assets, check, sensor, definitions -----------------------------------------


def _resources(settings) -> dict:
    return {
        "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
        "landing": LandingResource(root=str(settings.landing_dir)),
    }


def _materializations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dict]:
    found = {}
    for event in result.get_asset_materialization_events():
        mat = event.event_specific_data.materialization
        found[(mat.asset_key.path[-1], mat.partition)] = {
            k: v.value for k, v in mat.metadata.items()
        }
    return found


MONTH = "2026-01-01"  # the ingestion partition of DAY and NEXT_DAY
NEXT_MONTH_DAY = date(2026, 2, 3)


def test_materialize_a_month_of_files_in_one_run(journey_env, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2", amount="abc")))
    write_landing("orders", NEXT_DAY, orders_csv(order("3"), order("4"), order("5")))
    write_landing("web_events", DAY, web_event("m1") + "\n")
    # web_events has no file on NEXT_DAY: a warning, not a failure.
    assets = [build_ingestion_asset("orders"), build_ingestion_asset("web_events")]

    result = dg.materialize(assets, resources=_resources(journey_env), partition_key=MONTH)

    assert result.success
    meta = _materializations(result)
    assert set(meta) == {("orders", MONTH), ("web_events", MONTH)}
    orders = meta[("orders", MONTH)]
    assert (orders["rows_loaded"], orders["rows_rejected"], orders["lines_read"]) == (4, 1, 5)
    assert orders["dagster/row_count"] == 4 and orders["files"] == 2
    assert "orders/2026-01-06.csv: 3 loaded, 0 rejected" in orders["files_loaded"]
    assert "| order_id |" in orders["preview"]
    assert meta[("web_events", MONTH)]["files"] == 1
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {"orders_lines_reconcile", "web_events_lines_reconcile"}
    assert all(c.passed for c in checks.values())
    assert checks["orders_lines_reconcile"].metadata["lines_in_files"].value == 5

    with duckdb.connect(str(journey_env.warehouse_path), read_only=True) as con:
        counts = con.execute(
            "select _partition_date, count(*) from raw.orders group by 1 order by 1"
        ).fetchall()
    assert counts == [(DAY, 1), (NEXT_DAY, 3)]


def test_a_range_of_months_is_one_run_and_config_narrows_it_to_days(journey_env, write_landing):
    write_landing("orders", DAY, orders_csv(order("1")))
    write_landing("orders", NEXT_DAY, orders_csv(order("2")))
    write_landing("orders", NEXT_MONTH_DAY, orders_csv(order("3")))
    asset = build_ingestion_asset("orders")

    result = dg.materialize(
        [asset],
        resources=_resources(journey_env),
        tags=partition_range_tags(MONTH, "2026-02-01"),
    )
    assert result.success
    assert set(_materializations(result)) == {("orders", MONTH), ("orders", "2026-02-01")}

    # Only NEXT_DAY is reloaded: the other days keep their rows (and load times).
    with duckdb.connect(str(journey_env.warehouse_path)) as con:
        before = con.execute("select order_id, _loaded_at from raw.orders order by 1").fetchall()
    write_landing("orders", NEXT_DAY, orders_csv(order("2"), order("2b")))
    one_day = day_run_config(str(NEXT_DAY), str(NEXT_DAY), ["ingest"])
    narrowed = dg.materialize(
        [asset],
        resources=_resources(journey_env),
        partition_key=MONTH,
        run_config={"ops": {"raw__orders": one_day["ops"]["raw__orders"]}},
    )
    assert narrowed.success
    with duckdb.connect(str(journey_env.warehouse_path), read_only=True) as con:
        after = con.execute("select order_id, _loaded_at from raw.orders order by 1").fetchall()
    assert [row[0] for row in after] == ["1", "2", "2b", "3"]
    assert after[0] == before[0] and after[-1] == before[-1]


def test_failing_reconcile_check_fails_the_run(journey_env, write_landing, monkeypatch):
    write_landing("orders", DAY, orders_csv(order("1"), order("2")))
    real_load_partitions = ingest_assets.load_partitions

    def lossy_load_partitions(con, source, days, root, **kwargs):
        result = real_load_partitions(con, source, days, root, **kwargs)
        con.execute("delete from raw.orders where order_id = '2'")  # a row lost on the way
        return result

    monkeypatch.setattr(ingest_assets, "load_partitions", lossy_load_partitions)

    result = dg.materialize(
        [build_ingestion_asset("orders")],
        resources=_resources(journey_env),
        partition_key=MONTH,
        raise_on_error=False,
    )

    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed
    assert "1 loaded + 0 rejected" in evaluation.metadata["mismatches"].value


def test_sensor_requests_one_run_per_month_with_changed_files(journey_env, write_landing):
    orders = write_landing("orders", DAY, orders_csv(order("1")))
    write_landing("web_events", DAY, web_event("m1") + "\n")
    write_landing("orders", NEXT_MONTH_DAY, orders_csv(order("2")))
    write_landing("orders", "2099-01-01", orders_csv(order("3")))  # not a partition yet: waits
    (journey_env.landing_dir / "orders" / "notes.txt").write_text("ignored")
    landing = LandingResource(root=str(journey_env.landing_dir))

    def tick(cursor):
        context = dg.build_sensor_context(cursor=cursor, resources={"landing": landing})
        return landing_file_sensor(context)

    first = tick(None)
    requests = sorted(first.run_requests, key=lambda r: r.partition_key)
    assert [r.partition_key for r in requests] == [MONTH, "2026-02-01"]
    # Each request runs daily_refresh (the sensor's job) for the month; the tag names sources.
    assert [r.tags["journey/changed_sources"] for r in requests] == ["orders,web_events", "orders"]
    assert all(r.asset_selection is None for r in requests)
    assert "orders/2026-01-05.csv@" in requests[0].run_key

    assert tick(first.cursor).run_requests == []

    stat = orders.stat()
    orders.write_text(orders_csv(order("1"), order("9")))
    os.utime(orders, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    [changed] = tick(first.cursor).run_requests
    assert changed.partition_key == MONTH
    assert changed.tags["journey/changed_sources"] == "orders"
    assert changed.run_key != requests[0].run_key


def test_definitions_load_and_wire_resources_from_settings(journey_env):
    from orchestration.definitions import build_definitions

    defs = build_definitions()
    dg.Definitions.validate_loadable(defs)
    repo = defs.get_repository_def()
    keys = set(repo.asset_graph.get_all_asset_keys())
    assert {raw_asset_key(s) for s in SOURCES} <= keys
    sensor = repo.get_sensor_def("landing_file_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "daily_refresh"
    assert Path(defs.resources["warehouse"].path) == journey_env.warehouse_path
    assert Path(defs.resources["landing"].root) == journey_env.landing_dir


# --- optional columns, ranges, Snowplow ---------------------------------------------------

FIXTURES = Path(__file__).parent / "fixtures" / "snowplow"


def test_optional_link_ids_load_when_present_and_are_null_when_absent(
    warehouse_con, landing_dir, write_landing
):
    write_landing("orders", DAY, orders_csv(order("1")))
    write_landing(
        "orders",
        NEXT_DAY,
        orders_csv(order("2") + ",u-2,anon-2", header=ORDERS_HEADER + ",user_id,anonymous_id"),
    )
    loaded = load_partitions(warehouse_con, "orders", [DAY, NEXT_DAY], landing_dir)
    assert (loaded.rows_loaded, loaded.rows_rejected) == (2, 0)
    assert all(p.warnings == [] for p in loaded.partitions)
    assert warehouse_con.execute(
        "select order_id, user_id, anonymous_id from raw.orders order by 1"
    ).fetchall() == [("1", None, None), ("2", "u-2", "anon-2")]
    for source in ("subscriptions", "support_tickets"):
        assert {"user_id", "anonymous_id"} <= set(SOURCE_COLUMNS[source])
        assert "user_id" not in required_columns(source)


def test_raw_tables_of_an_older_contract_gain_the_new_columns(warehouse_con):
    warehouse_con.execute("create schema raw")
    warehouse_con.execute("create table raw.orders (order_id varchar, _partition_date date)")
    ensure_raw_tables(warehouse_con, ["orders"])
    columns = [r[0] for r in warehouse_con.execute("describe raw.orders").fetchall()]
    assert {"user_id", "anonymous_id", "_line_number"} <= set(columns)


def test_a_range_is_loaded_at_once_and_missing_days_cost_nothing(
    warehouse_con, landing_dir, write_landing
):
    days = [DAY + timedelta(days=i) for i in range(255)]
    with_files = {days[0]: "1", days[100]: "2", days[254]: "3"}
    for day, order_id in with_files.items():
        write_landing("orders", day, orders_csv(order(order_id), order(order_id + "x", "bad")))

    loaded = load_partitions(warehouse_con, "orders", days, landing_dir)

    assert (loaded.files, loaded.rows_loaded, loaded.rows_rejected) == (3, 3, 3)
    assert sum(p.missing for p in loaded.partitions) == 252
    assert loaded.seconds < 5  # 252 missing days are a failed open each, not a transaction
    assert warehouse_con.execute(
        "select _partition_date, _source_file, _line_number from raw.orders order by 1"
    ).fetchall() == [(d, f"orders/{d}.csv", 2) for d in with_files]
    checks = reconcile_partitions(warehouse_con, "orders", days, landing_dir)
    assert len(checks) == 255 and all(c.passed for c in checks)
    assert sum(c.lines_in_file for c in checks) == 6


def test_an_unreadable_file_fails_the_range_and_changes_no_day(
    warehouse_con, landing_dir, write_landing
):
    write_landing("orders", DAY, orders_csv(order("1")))
    write_landing("orders", NEXT_DAY, orders_csv(order("2")))
    load_partitions(warehouse_con, "orders", [DAY, NEXT_DAY], landing_dir)

    write_landing("orders", DAY, orders_csv(order("3")))
    # Mixed line endings: DuckDB fails the whole read; the error names the file.
    write_landing("orders", NEXT_DAY, f"{ORDERS_HEADER}\n{order('4')}\r\n{order('5')}\n")
    with pytest.raises(LoadError, match=r"orders/2026-01-06\.csv: DuckDB could not parse"):
        load_partitions(warehouse_con, "orders", [DAY, NEXT_DAY], landing_dir)
    assert warehouse_con.execute("select order_id from raw.orders order by 1").fetchall() == [
        ("1",),
        ("2",),
    ]


def test_files_with_different_headers_load_in_one_range(warehouse_con, landing_dir, write_landing):
    write_landing("orders", DAY, orders_csv(order("1"), order("2", amount="x")))
    reordered = "amount,order_id,contact_id,email,ordered_at,status,currency,plan,order_type"
    write_landing(
        "orders",
        NEXT_DAY,
        orders_csv(
            "bad,9,c9,a@x.com,2026-01-06T10:00:00Z,paid,EUR,pro,new",
            "9.99,10,c10,a@x.com,2026-01-06T10:00:00Z,paid,EUR,pro,new",
            header=reordered,
        ),
    )
    loaded = load_partitions(warehouse_con, "orders", [DAY, NEXT_DAY], landing_dir)
    assert [(p.rows_loaded, p.rows_rejected) for p in loaded.partitions] == [(1, 1), (1, 1)]
    assert rejected(warehouse_con, "orders")[1][:3] == ("orders/2026-01-06.csv", 2, "amount")
    assert warehouse_con.execute(
        "select order_id, amount, _line_number from raw.orders order by 1"
    ).fetchall() == [("1", Decimal("12.50"), 2), ("10", Decimal("9.99"), 3)]


def test_preview_masks_personal_data(warehouse_con, landing_dir, write_landing):
    columns = SOURCE_COLUMNS["crm_contacts"]
    row = ",".join(SAMPLE_VALUES[t] for t in columns.values())
    write_landing("crm_contacts", DAY, ",".join(columns) + "\n" + row + "\n")
    write_landing(
        "web_events", DAY, web_event("m1", type="identify", traits={"email": "a@x.com"}) + "\n"
    )
    [contact] = load(warehouse_con, landing_dir, "crm_contacts").preview
    assert contact["email"] == contact["first_name"] == contact["last_name"] == "***"
    # The CRM key identifies the person in the source system too (PII_COLUMNS); coarse
    # attributes stay visible.
    assert contact["contact_id"] == contact["company"] == "***"
    assert contact["segment"] == "x"
    [event] = load(warehouse_con, landing_dir, "web_events").preview
    assert "a@x.com" not in json.dumps(event, default=str)


def _copy_snowplow_fixture(landing_dir: Path) -> list[date]:
    folder = landing_dir / "snowplow_events"
    folder.mkdir(parents=True, exist_ok=True)
    days = []
    for path in sorted(FIXTURES.glob("*.tsv")):
        (folder / path.name).write_bytes(path.read_bytes())
        days.append(date.fromisoformat(path.stem))
    return days


def test_snowplow_fixture_loads(warehouse_con, landing_dir):
    days = _copy_snowplow_fixture(landing_dir)

    loaded = load_partitions(warehouse_con, "snowplow_events", days, landing_dir)

    assert [(p.lines_read, p.rows_loaded, p.rows_rejected) for p in loaded.partitions] == [
        (16, 16, 0),
        (19, 18, 1),
    ]
    assert any("unknown column(s) v_tracker" in w for w in loaded.partitions[0].warnings)
    [(source_file, line, field, reason, raw)] = rejected(warehouse_con, "snowplow_events")
    assert (source_file, line, field) == ("snowplow_events/2026-01-06.tsv", 9, "collector_tstamp")
    assert reason.startswith("CAST") and "06/01/2026 19:09" in raw
    assert all(
        c.passed for c in reconcile_partitions(warehouse_con, "snowplow_events", days, landing_dir)
    )
    first = warehouse_con.execute(
        """select collector_tstamp, mkt_source, mkt_medium, mkt_campaign, domain_sessionidx,
                  _line_number, _source_file
           from raw.snowplow_events order by collector_tstamp limit 1"""
    ).fetchone()
    # Snowplow timestamps carry no offset: they are UTC.
    assert first[0] == datetime(2026, 1, 5, 9, 2, 11, 814000, tzinfo=UTC)
    assert first[1:] == ("google", "cpc", "winter_sale", 1, 2, "snowplow_events/2026-01-05.tsv")
    summary = warehouse_con.execute(
        """select count(distinct domain_userid), count(distinct user_id),
                  count(*) filter (where event = 'page_view'),
                  count(*) filter (where event = 'struct'), sum(tr_total)
           from raw.snowplow_events"""
    ).fetchone()
    assert summary == (3, 1, 22, 11, Decimal("588.00"))
    types = dict(
        warehouse_con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where table_name = 'snowplow_events'"
        ).fetchall()
    )
    assert (types["derived_tstamp"], types["tr_total"], types["page_title"]) == (
        "TIMESTAMP WITH TIME ZONE",
        "DECIMAL(12,2)",
        "VARCHAR",
    )


def test_snowplow_row_rules(warehouse_con, landing_dir, write_landing):
    header = "event_id\tevent\tcollector_tstamp\tdomain_userid\tuser_id\tpage_title"
    lines = [
        'e1\tpage_view\t2026-01-05 10:15:00.123\td1\t\tSay "hi"',  # 2: loaded, quote is text
        "\tpage_view\t2026-01-05 10:16:00\td1\t\tx",  # 3: no event_id
        "e3\tpage_view\t2026-01-05 10:17:00\t\t\tx",  # 4: no visitor id at all
        "e4\tstruct\t2026-01-05 10:18:00\t\tu-1\tx",  # 5: user_id alone is enough
        "e5\tstruct\tsoon\td1\t\tx",  # 6: bad timestamp
    ]
    write_landing("snowplow_events", DAY, "\n".join([header, *lines]) + "\n")
    warehouse_con.execute("set TimeZone = 'America/New_York'")  # the load still reads UTC

    result = load(warehouse_con, landing_dir, "snowplow_events")

    assert (result.lines_read, result.rows_loaded, result.rows_rejected) == (5, 2, 3)
    got = [
        (line, field, reason)
        for _, line, field, reason, _ in rejected(warehouse_con, "snowplow_events")
    ]
    assert got[:2] == [
        (3, "event_id", "missing event_id"),
        (4, "domain_userid, user_id", "neither domain_userid nor user_id"),
    ]
    assert got[2][:2] == (6, "collector_tstamp") and '"soon"' in got[2][2]
    assert warehouse_con.execute(
        "select event_id, page_title, collector_tstamp from raw.snowplow_events order by 1"
    ).fetchall() == [
        ("e1", 'Say "hi"', datetime(2026, 1, 5, 10, 15, 0, 123000, tzinfo=UTC)),
        ("e4", "x", datetime(2026, 1, 5, 10, 18, tzinfo=UTC)),
    ]
    assert warehouse_con.execute("select current_setting('TimeZone')").fetchone() == (
        "America/New_York",
    )


def test_materialize_a_month_records_its_days_and_one_summary(journey_env, write_landing):
    days = _copy_snowplow_fixture(journey_env.landing_dir)
    result = dg.materialize(
        [build_ingestion_asset("snowplow_events")],
        resources=_resources(journey_env),
        partition_key=month_key(days[0]),
    )
    assert result.success
    meta = _materializations(result)
    summary = meta[("snowplow_events", month_key(days[0]))]
    assert "preview" in summary
    assert (summary["run_files"], summary["run_rows_loaded"], summary["run_rows_rejected"]) == (
        2,
        34,
        1,
    )
    assert summary["run_rows_per_second"] > 0
    assert (summary["rows_loaded"], summary["files"]) == (34, 2)
    assert f"snowplow_events/{days[0]}.tsv: 16 loaded" in summary["files_loaded"]
    [check] = result.get_asset_check_evaluations()
    # Every day of the month from the first export day on is reconciled (most have no file).
    assert check.passed and check.metadata["partitions_checked"].value == 31 - days[0].day + 1


def test_bulk_web_events_payload_is_written_with_zstd_and_settings_are_restored(
    warehouse_con, landing_dir, write_landing
):
    # More than one row group (122,880 rows): the insert writes row groups itself.
    lines = [web_event(f"m{i}", context={"page": {"path": f"/p/{i % 97}"}}) for i in range(130_000)]
    write_landing("web_events", DAY, "\n".join(lines) + "\n")
    warehouse_con.execute("set force_compression = 'uncompressed'")  # the caller's choice

    result = load(warehouse_con, landing_dir, "web_events")

    assert (result.rows_loaded, result.rows_rejected) == (130_000, 0)
    compressions = {
        row[0]
        for row in warehouse_con.execute(
            """select compression from pragma_storage_info('raw.web_events')
               where column_name = 'payload' and segment_type <> 'VALIDITY'"""
        ).fetchall()
    }
    assert "ZSTD" in compressions
    assert warehouse_con.execute("select current_setting('force_compression')").fetchone() == (
        "uncompressed",
    )
