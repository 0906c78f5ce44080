"""A user's own exports, with no internal knowledge: Snowplow web events and orders that carry
only web ids go landing → raw (the real ingestion loaders) → staging → marts (the real
`dbt build`) on a small hand-written landing directory, and the results are hand-computed.

Landing (all times UTC):

* Snowplow (`snowplow_events/*.tsv`, 40 lines, one re-delivered): visitors d-alice, d-bob,
  d-carol, d-erin, d-frank and a server-side user u-dave without a cookie; sessions split on the
  30-minute gap (exactly 30 minutes continues) and on a campaign change, one crosses midnight
  and two daily files.
* Segment (`web_events`): visitor seg-buyer lands from a LinkedIn campaign.
* Orders: o-web-only carries only anonymous_id = seg-buyer (no email, no contact_id);
  o-checkout carries anonymous_id = d-bob and the email of CRM contact c-bob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loaders import load_partitions
from orchestration.settings import SOURCES
from tests.test_dbt_core import dbt

DAY_1, DAY_2 = date(2026, 1, 5), date(2026, 1, 6)
# marts.fct_sessions with its device ids back in clear: the mart holds keyed_hash(id) under the
# test key (tests/test_dbt_core.py dbt()), the tests below name the devices.
SESSIONS = """(
    select ids.anonymous_id, sessions.* exclude (anonymous_id)
    from marts.fct_sessions as sessions
    left join (select distinct anonymous_id from intermediate.int_sessions) as ids
        on sessions.anonymous_id = md5('test-hash-key' || ids.anonymous_id)
) as fct_sessions"""

SNOWPLOW_COLUMNS = [
    "app_id", "platform", "collector_tstamp", "dvce_created_tstamp", "derived_tstamp",
    "event", "event_id", "event_name", "domain_userid", "domain_sessionid", "domain_sessionidx",
    "network_userid", "user_id", "page_url", "page_urlpath", "page_title", "page_referrer",
    "refr_urlhost", "refr_medium", "refr_source", "mkt_medium", "mkt_source", "mkt_campaign",
    "mkt_term", "mkt_content", "se_category", "se_action", "se_label", "tr_orderid", "tr_total",
    "useragent", "geo_country",
]  # fmt: skip
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"


def sp(event_id: str, visitor: str, at: str, event: str = "page_view", **fields: str) -> dict:
    """One Snowplow event; `at` is derived_tstamp (collector_tstamp is 2 s later)."""
    path = fields.pop("path", "/")
    row = {
        "app_id": "shop",
        "platform": "web",
        "collector_tstamp": at[:-2] + "02",
        "derived_tstamp": at,
        "dvce_created_tstamp": at,
        "event": event,
        "event_id": event_id,
        "event_name": {"struct": "event"}.get(event, event),
        "domain_userid": visitor,
        "page_url": f"https://www.shop.io{path}",
        "page_urlpath": path.split("?")[0],
        "useragent": DESKTOP,
    }
    row.update(fields)
    return row


def pings(prefix: str, visitor: str, times: list[str], path: str) -> list[dict]:
    return [sp(f"{prefix}{n}", visitor, t, "page_ping", path=path) for n, t in enumerate(times)]


GOOGLE_CPC = {"mkt_source": "Google", "mkt_medium": "cpc", "mkt_campaign": "spring"}

DAY_1_EVENTS = [
    # d-alice A1: paid search; the gap 10:20 -> 10:50 is exactly 30 minutes (same session).
    sp("a01", "d-alice", "2026-01-05 10:00:00", path="/pricing?utm_source=google", **GOOGLE_CPC),
    *pings("a02-", "d-alice", ["2026-01-05 10:00:30", "2026-01-05 10:01:00"], "/pricing"),
    sp("a03", "d-alice", "2026-01-05 10:05:00", path="/features"),
    sp(
        "a04",
        "d-alice",
        "2026-01-05 10:20:00",
        "struct",
        se_category="lead",
        se_action="Demo Requested",
    ),
    sp("a05", "d-alice", "2026-01-05 10:50:00", path="/docs"),
    # A2: 31 minutes later, no campaign, no referrer: direct.
    sp("a06", "d-alice", "2026-01-05 11:21:00", path="/"),
    sp("a07", "d-alice", "2026-01-05 11:25:00", path="/pricing"),
    # A3: 5 minutes later but a new campaign source: email; a signup converts it.
    sp(
        "a08",
        "d-alice",
        "2026-01-05 11:30:00",
        path="/welcome",
        mkt_source="newsletter",
        mkt_medium="email",
    ),
    sp(
        "a09",
        "d-alice",
        "2026-01-05 11:32:00",
        "struct",
        se_category="account",
        se_action="Signed Up",
        user_id="alice@shop.io",
    ),
    *pings(
        "a10-",
        "d-alice",
        ["2026-01-05 11:32:30", "2026-01-05 11:33:00", "2026-01-05 11:33:30"],
        "/welcome",
    ),
    sp("a11", "d-alice", "2026-01-05 11:40:00", path="/app", user_id="alice@shop.io"),
    # d-bob B1: organic search (referrer google, no campaign).
    sp(
        "b01",
        "d-bob",
        "2026-01-05 09:00:00",
        path="/blog",
        page_referrer="https://www.google.com/search?q=shop",
        refr_urlhost="www.google.com",
        refr_medium="search",
        refr_source="Google",
        useragent=PHONE,
    ),
    *pings(
        "b02-",
        "d-bob",
        [
            "2026-01-05 09:00:30",
            "2026-01-05 09:01:00",
            "2026-01-05 09:01:30",
            "2026-01-05 09:02:00",
        ],
        "/blog",
    ),
    sp(
        "b03",
        "d-bob",
        "2026-01-05 09:10:00",
        path="/pricing",
        page_referrer="https://www.shop.io/blog",
        refr_urlhost="www.shop.io",
        useragent=PHONE,
    ),
    # B2: 35 minutes later from LinkedIn (no campaign): social; checkout.
    sp(
        "b04",
        "d-bob",
        "2026-01-05 09:45:00",
        path="/pricing",
        page_referrer="https://www.linkedin.com/feed",
        refr_urlhost="www.linkedin.com",
        useragent=PHONE,
    ),
    sp("b05", "d-bob", "2026-01-05 09:50:00", path="/checkout", useragent=PHONE),
    sp(
        "b06",
        "d-bob",
        "2026-01-05 09:52:00",
        "transaction",
        path="/checkout",
        tr_orderid="o-checkout",
        tr_total="199.00",
        useragent=PHONE,
    ),
    # d-carol C1: referral from a partner blog at 23:50, continues past midnight (next file).
    sp(
        "c01",
        "d-carol",
        "2026-01-05 23:50:00",
        path="/",
        page_referrer="https://partnerblog.com/review",
        refr_urlhost="partnerblog.com",
    ),
    *pings(
        "c02-",
        "d-carol",
        ["2026-01-05 23:51:00", "2026-01-05 23:52:00", "2026-01-05 23:53:00"],
        "/",
    ),
    # d-erin: a single page view, a bounce (direct).
    sp("e01", "d-erin", "2026-01-05 14:00:00", path="/careers"),
    # u-dave: server-side events without a cookie, sessionized by user_id.
    sp(
        "u01",
        "",
        "2026-01-05 16:00:00",
        "struct",
        user_id="u-dave",
        se_category="billing",
        se_action="Plan Renewed",
        platform="srv",
    ),
    sp(
        "u02",
        "",
        "2026-01-05 16:20:00",
        "struct",
        user_id="u-dave",
        se_category="billing",
        se_action="Invoice Sent",
        platform="srv",
    ),
]
DAY_2_EVENTS = [
    sp(
        "a01", "d-alice", "2026-01-05 10:00:00", path="/pricing?utm_source=google", **GOOGLE_CPC
    ),  # re-delivered
    sp("c03", "d-carol", "2026-01-06 00:10:00", path="/pricing"),
    sp("c04", "d-carol", "2026-01-06 00:15:00", path="/signup"),
    *pings(
        "c05-",
        "d-carol",
        ["2026-01-06 00:15:30", "2026-01-06 00:16:00", "2026-01-06 00:16:30"],
        "/signup",
    ),
    # d-alice A4: next day, paid search again.
    sp("a12", "d-alice", "2026-01-06 08:00:00", path="/pricing", **GOOGLE_CPC),
    # d-frank: paid social campaign (facebook / paid_social: GA4 Paid Social, not organic
    # social); an unstructured event is a track call named by event_name.
    sp(
        "f01",
        "d-frank",
        "2026-01-06 12:00:00",
        path="/",
        mkt_source="facebook",
        mkt_medium="paid_social",
    ),
    sp("f02", "d-frank", "2026-01-06 12:10:00", path="/pricing"),
    sp(
        "f03",
        "d-frank",
        "2026-01-06 12:12:00",
        "unstruct",
        event_name="link_click",
        path="/pricing",
    ),
]

# (visitor, first event, events, page views, channel, converted), hand-computed from the above.
EXPECTED_SESSIONS = [
    ("d-alice", "2026-01-05 10:00:00", 6, 3, "paid_search", False),
    ("d-alice", "2026-01-05 11:21:00", 2, 2, "direct", False),
    ("d-alice", "2026-01-05 11:30:00", 6, 2, "email", True),
    ("d-alice", "2026-01-06 08:00:00", 1, 1, "paid_search", False),
    ("d-bob", "2026-01-05 09:00:00", 6, 2, "organic_search", False),
    ("d-bob", "2026-01-05 09:45:00", 3, 2, "social", True),
    ("d-carol", "2026-01-05 23:50:00", 9, 3, "referral", False),
    ("d-erin", "2026-01-05 14:00:00", 1, 1, "direct", False),
    ("d-frank", "2026-01-06 12:00:00", 3, 2, "paid_social", False),
    (None, "2026-01-05 16:00:00", 2, 0, "direct", False),
]


def snowplow_tsv(events: list[dict]) -> str:
    lines = ["\t".join(SNOWPLOW_COLUMNS)]
    lines += ["\t".join(event.get(c, "") for c in SNOWPLOW_COLUMNS) for event in events]
    return "\n".join(lines) + "\n"


def segment_line(message_id: str, at: str) -> str:
    return json.dumps(
        {
            "messageId": message_id,
            "type": "page",
            "anonymousId": "seg-buyer",
            "timestamp": at,
            "context": {
                "page": {
                    "url": "https://www.shop.io/pricing?utm_source=linkedin&utm_medium=social"
                },
                "userAgent": DESKTOP,
            },
        }
    )


def write_landing(landing: Path) -> None:
    def write(source: str, day: date, text: str) -> None:
        path = landing / source / f"{day}.{SOURCES[source]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    write("snowplow_events", DAY_1, snowplow_tsv(DAY_1_EVENTS))
    write("snowplow_events", DAY_2, snowplow_tsv(DAY_2_EVENTS))
    write(
        "web_events",
        DAY_1,
        segment_line("s1", "2026-01-05T12:00:00Z")
        + "\n"
        + segment_line("s2", "2026-01-05T12:03:00Z")
        + "\n",
    )
    write(
        "crm_contacts",
        DAY_1,
        "contact_id,email,first_name,last_name,company,segment,country,lifecycle_stage,"
        "created_at,updated_at,marketing_consent\n"
        "c-bob,Bob@Shop.io,Bob,B,Shop,smb,DE,lead,2026-01-05T09:00:00Z,2026-01-05T09:00:00Z,true\n",
    )
    # No user_id column at all (optional); anonymous_id set, email and contact_id empty.
    write(
        "orders",
        DAY_1,
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type,anonymous_id\n"
        "o-web-only,,,2026-01-05T12:10:00Z,paid,49.00,USD,starter,new,seg-buyer\n"
        "o-checkout,, bob@shop.io,2026-01-05T09:52:00Z,paid,199.00,USD,pro,new,d-bob\n",
    )


@dataclass(frozen=True)
class Built:
    warehouse: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("foreign_sources")
    landing = root / "landing"
    write_landing(landing)
    warehouse = root / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse))
    try:
        for source in SOURCES:
            loaded = load_partitions(con, source, [DAY_1, DAY_2], landing, preview=False)
            assert loaded.rows_rejected == 0, (source, loaded)
    finally:
        con.close()
    dbt(warehouse, "build")  # every model and test, on these exports alone
    return Built(warehouse)


def test_snowplow_raw_and_staging(built: Built) -> None:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    raw = con.execute("select count(*) from raw.snowplow_events").fetchone()[0]
    assert raw == len(DAY_1_EVENTS) + len(DAY_2_EVENTS) == 40
    # One row per event_id; the same columns and types as the Segment staging model.
    assert con.execute("select count(*) from staging.stg_snowplow__events").fetchone()[0] == 39
    columns = """
        select column_name, data_type from duckdb_columns()
        where schema_name = 'staging' and table_name = ? order by column_index
    """
    assert (
        con.execute(columns, ["stg_snowplow__events"]).fetchall()
        == con.execute(columns, ["stg_segment__web_events"]).fetchall()
    )
    assert con.execute(
        "select tracker, count(*) from intermediate.int_web_events group by 1 order by 1"
    ).fetchall() == [("segment", 2), ("snowplow", 39)]
    # The email used as Snowplow user_id identifies alice: her sessions belong to a customer.
    assert con.execute(
        f"select count(distinct customer_id) from {SESSIONS} where anonymous_id = 'd-alice'"
    ).fetchone() == (1,)
    # The mart itself holds only the pseudonym.
    assert con.execute(
        "select count(*) from marts.fct_sessions where anonymous_id = 'd-alice'"
    ).fetchone() == (0,)


def test_snowplow_sessions(built: Built) -> None:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    actual = con.execute(f"""
        select anonymous_id, strftime(started_at, '%Y-%m-%d %H:%M:%S'), events, page_views,
               channel, converted
        from {SESSIONS}
        where anonymous_id is distinct from 'seg-buyer'
        order by anonymous_id nulls last, started_at
    """).fetchall()
    assert actual == EXPECTED_SESSIONS
    # The midnight session spans two daily files and ends on the second day.
    assert (
        con.execute(f"select ended_at from {SESSIONS} where anonymous_id = 'd-carol'")
        .fetchone()[0]
        .isoformat()
        == "2026-01-06T00:16:30"
    )


ATTRIBUTION_MODELS = (
    "first_touch",
    "last_touch",
    "last_non_direct",
    "linear",
    "time_decay",
    "position_based",
    "markov",
    "shapley",
)


def test_order_with_only_anonymous_id_resolves_and_credits_the_session(built: Built) -> None:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    order_customer, session_customer, channel = con.execute(f"""
        select orders.customer_id, fct_sessions.customer_id, fct_sessions.channel
        from intermediate.int_funnel_orders as orders, {SESSIONS}
        where orders.order_id = 'o-web-only' and fct_sessions.anonymous_id = 'seg-buyer'
    """).fetchone()
    assert order_customer == session_customer is not None
    assert channel == "social"
    credits = con.execute("""
        select attribution_model, channel, credit, is_synthetic from marts.fct_attribution
        where conversion_id = 'o-web-only' order by attribution_model
    """).fetchall()
    # One touch: every model, rule-based or data-driven, gives it the whole conversion.
    assert [row[0] for row in credits] == sorted(ATTRIBUTION_MODELS)
    assert all(row[1:] == ("social", 1, False) for row in credits)


def test_checkout_with_anonymous_id_and_email_joins_visitor_to_contact(built: Built) -> None:
    con = duckdb.connect(str(built.warehouse), read_only=True)
    customers = con.execute("""
        select distinct customer_id from intermediate.int_customer_identifiers
        where (identifier_type, identifier) in (
            ('anonymous_id', 'd-bob'), ('email', 'bob@shop.io'), ('contact_id', 'c-bob'))
    """).fetchall()
    assert len(customers) == 1
    order_customer = con.execute(
        "select customer_id from intermediate.int_funnel_orders where order_id = 'o-checkout'"
    ).fetchone()[0]
    assert order_customer == customers[0][0]
    # Both of bob's sessions are in the lookback window and at or before the order.
    linear = con.execute("""
        select channel, credit from marts.fct_attribution
        where conversion_id = 'o-checkout' and attribution_model = 'linear' order by touched_at
    """).fetchall()
    assert linear == [("organic_search", 0.5), ("social", 0.5)]
