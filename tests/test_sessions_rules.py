"""Session and channel rules (issue 9, section 2) on real exports and the real seed.

* A hand-written landing directory goes through the real loaders and `dbt build`: events
  sharing a second form one session landed by the campaign event (no zero-length `direct`
  session taking attribution credit); google/organic then google/cpc 10 s later is two
  sessions; a customer first met through a support ticket and an order is acquired by
  'non_marketing' in the funnel marts, and their touches are flagged not marketing.
* The seed `channel_rules` and the macro `channel_rule_matches` classify a table of
  (source, medium, referrer host) cases covering every channel, in GA4's priority order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.loaders import load_partitions
from orchestration.settings import DBT_PROJECT_DIR, SOURCES
from tests.test_dbt_core import dbt

DAY = date(2026, 1, 5)
UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
# Tests whose parents are all selected only (relationships to other marts are not built here).
SELECT = [
    *("--select", "+fct_sessions", "+fct_touchpoints", "+agg_funnel_daily", "+fct_attribution"),
    *("--indirect-selection", "cautious"),
]


def page(message_id: str, visitor: str, at: str, query: str = "", path: str = "/") -> str:
    url = f"https://www.shop.io{path}" + (f"?{query}" if query else "")
    return json.dumps(
        {
            "messageId": message_id,
            "type": "page",
            "anonymousId": visitor,
            "timestamp": at,
            "context": {"page": {"url": url, "path": path}, "userAgent": UA},
        }
    )


WEB_EVENTS = [
    # v-same: a campaign-less page view whose message id sorts first, and the google/cpc
    # landing, in the same second; a page view 10 s later. One paid_search session.
    page("a-plain", "v-same", "2026-01-05T10:00:00Z", path="/blog"),
    page("b-cpc", "v-same", "2026-01-05T10:00:00Z", "utm_source=google&utm_medium=cpc", "/pricing"),
    page("c-next", "v-same", "2026-01-05T10:00:10Z", path="/signup"),
    # v-medium: google/organic then google/cpc 10 s later: two sessions (GA4 / UA semantics).
    page("d-organic", "v-medium", "2026-01-05T11:00:00Z", "utm_source=google&utm_medium=organic"),
    page("e-cpc", "v-medium", "2026-01-05T11:00:10Z", "utm_source=google&utm_medium=cpc"),
    # v-same-pair: the same source and medium again 10 s later: one session.
    page("f-cpc", "v-pair", "2026-01-05T12:00:00Z", "utm_source=bing&utm_medium=cpc"),
    page("g-cpc", "v-pair", "2026-01-05T12:00:10Z", "utm_source=bing&utm_medium=cpc"),
]


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sessions_rules")
    landing = root / "landing"

    def write(source: str, text: str) -> None:
        path = landing / source / f"{DAY}.{SOURCES[source]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    write("web_events", "\n".join(WEB_EVENTS) + "\n")
    write(
        "crm_contacts",
        "contact_id,email,first_name,last_name,company,segment,country,lifecycle_stage,"
        "created_at,updated_at,marketing_consent\n"
        "c-tix,tix@shop.io,Tia,X,Shop,smb,DE,customer,2026-01-05T08:00:00Z,"
        "2026-01-05T08:00:00Z,true\n",
    )
    # c-tix's first touch is a ticket, then an order: no marketing touch at all.
    write(
        "support_tickets",
        "ticket_id,requester_email,created_at,updated_at,solved_at,channel,priority,status,"
        "satisfaction,subject,description\n"
        "t-1,tix@shop.io,2026-01-05T08:30:00Z,2026-01-05T08:30:00Z,,email,normal,open,,"
        "Invoice address,Please change it\n",
    )
    write(
        "orders",
        "order_id,contact_id,email,ordered_at,status,amount,currency,plan,order_type\n"
        "o-1,c-tix,tix@shop.io,2026-01-05T09:00:00Z,paid,49.00,USD,starter,new\n",
    )
    path = root / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        for source in SOURCES:
            loaded = load_partitions(con, source, [DAY], landing, preview=False)
            assert loaded.rows_rejected == 0, (source, loaded)
    finally:
        con.close()
    dbt(path, "build", *SELECT)
    return path


def sessions(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""
            select anonymous_id, strftime(started_at, '%H:%M:%S'), events, duration_seconds,
                   source, medium, channel, landing_path
            from intermediate.int_sessions order by anonymous_id, started_at
        """).fetchall()


def test_same_second_is_one_session_landed_by_the_campaign(warehouse: Path) -> None:
    same = [row for row in sessions(warehouse) if row[0] == "v-same"]
    # Before the rule: a 0-second 'direct' session (a-plain) and a paid_search one (b-cpc).
    assert same == [("v-same", "10:00:00", 3, 10, "google", "cpc", "paid_search", "/pricing")]


def test_source_or_medium_change_starts_a_session(warehouse: Path) -> None:
    rows = [row for row in sessions(warehouse) if row[0] in ("v-medium", "v-pair")]
    assert [(r[0], r[1], r[2], r[6]) for r in rows] == [
        ("v-medium", "11:00:00", 1, "organic_search"),
        ("v-medium", "11:00:10", 1, "paid_search"),
        ("v-pair", "12:00:00", 2, "paid_search"),
    ]


def test_non_marketing_origins_stay_out_of_marketing_channels(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        touches = con.execute("""
            select touch_type, channel, is_marketing from marts.fct_touchpoints
            order by touched_at
        """).fetchall()
        assert touches == [("support_ticket", "support", False), ("order", "billing", False)]
        funnel_channels = {
            row[0]
            for row in con.execute(
                "select acquisition_channel from marts.fct_customer_funnel "
                "union all select acquisition_channel from marts.agg_funnel_daily"
            ).fetchall()
        }
        assert funnel_channels == {"non_marketing"}
        # The mart-wide rule: no funnel row is labelled with a non-marketing touch channel.
        assert not funnel_channels & {"support", "billing"}
        # Attribution never credits them either: the conversion gets a synthetic direct touch.
        credited = con.execute("select distinct channel from marts.fct_attribution").fetchall()
        assert credited == [("direct",)]


# (utm_source, utm_medium, referrer host, expected channel): every channel of the seed, and
# the GA4 priorities between them (paid before display before organic; social and video by
# source before their organic media; referral medium before email).
CHANNEL_CASES = [
    (None, None, None, "direct"),
    ("google", "cpc", None, "paid_search"),
    ("bing", "paid_search", None, "paid_search"),
    ("google", "cpm", None, "paid_search"),  # GA4: Paid Search is checked before Display
    ("adwords", "cpc", None, "paid_search"),  # unlisted source, search-ad medium
    ("facebook", "cpc", None, "paid_social"),
    ("linkedin", "paid_social", None, "paid_social"),
    ("facebook", "cpm", None, "paid_social"),  # GA4: Paid Social before Display
    ("youtube", "cpv", None, "paid_video"),
    ("dv360", "display", None, "display"),
    ("criteo", "cpm", None, "display"),
    ("criteo", "retargeting", None, "paid_other"),
    ("partner", "paid", None, "paid_other"),
    ("facebook", "social", None, "social"),
    ("linkedin", None, None, "social"),
    ("acme-blog", "social-network", None, "social"),
    (None, None, "linkedin.com", "social"),
    (None, None, "t.co", "social"),
    ("youtube", None, None, "video"),
    ("acme", "video", None, "video"),
    (None, None, "youtube.com", "video"),
    ("google", "organic", None, "organic_search"),
    ("bing", None, None, "organic_search"),
    (None, None, "google.com", "organic_search"),
    (None, None, "duckduckgo.com", "organic_search"),
    ("partner", "referral", None, "referral"),
    (None, None, "g2.com", "referral"),
    ("newsletter", "email", None, "email"),
    ("email", None, None, "email"),
    ("weekly_newsletter", None, None, "email"),
    ("awin", "affiliate", None, "affiliates"),
    ("spotify", "audio", None, "audio"),
    ("sms", None, None, "sms"),
    ("twilio", "sms", None, "sms"),
    ("firebase", None, None, "mobile_push"),
    ("app", "web_push", None, "mobile_push"),
    ("acme", "banana", None, "other"),
]


def _literal(value: str | None) -> str:
    return "cast(null as varchar)" if value is None else "'" + value.replace("'", "''") + "'"


def test_channel_rules_classify_every_channel(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    dbt(warehouse, "seed", "--select", "channel_rules")
    cases = " union all ".join(
        f"select {n} as case_number, {_literal(s)} as source, {_literal(m)} as medium, "
        f"{_literal(r)} as referrer_host"
        for n, (s, m, r, _) in enumerate(CHANNEL_CASES)
    )
    # The same macro int_sessions uses, against the real seed, first match by priority.
    inline = f"""
        with cases as ({cases}),
        matched as (
            select cases.case_number, rules.channel,
                   row_number() over (partition by cases.case_number order by rules.priority) as n
            from cases
            inner join {{{{ ref('channel_rules') }}}} as rules
                on {{{{ channel_rule_matches('rules', 'cases.source', 'cases.medium',
                                             'cases.referrer_host') }}}}
        )
        select case_number, channel from matched where n = 1 order by case_number
    """
    env = {**os.environ, "JOURNEY_WAREHOUSE": str(warehouse), "JOURNEY_HASH_KEY": "test-hash-key"}
    shown = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "--quiet",
            "show",
            "--inline",
            inline,
            "--limit",
            "-1",
            "--output",
            "json",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    got = {row["case_number"]: row["channel"] for row in json.loads(shown.stdout)["show"]}
    expected = {n: case[3] for n, case in enumerate(CHANNEL_CASES)}
    wrong = {n: (CHANNEL_CASES[n][:3], got.get(n)) for n in expected if got.get(n) != expected[n]}
    assert wrong == {}
    # Every channel the seed can assign is exercised.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select distinct channel from seeds.channel_rules").fetchall()
    seed_channels = {row[0] for row in rows}
    assert seed_channels == set(expected.values())
