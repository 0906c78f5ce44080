"""The customer marts on a small real warehouse: demo exports → raw.* → dbt → marts.*.

One module-scoped build (300 people, 50 days) backs every test; the leakage test then
appends later data to the raw tables, rebuilds, and compares the point-in-time features.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.demo import generate
from orchestration.ingest.loaders import load_file
from orchestration.settings import DBT_PROJECT_DIR, SOURCES

START = date(2026, 1, 1)
DAYS = 50
SHIFT_DAYS = 12  # how far after the original data the appended rows land
OWN_PATHS = [
    "path:models/intermediate/customer",
    "path:models/marts/customers",
    "path:models/marts/funnel",
    "path:models/marts/attribution",
    "path:models/marts/ml",
]
LABELS = ["churned_within_30d", "purchased_within_14d"]


@dataclass(frozen=True)
class Warehouse:
    path: Path
    dbt_args: list[str]

    def connect(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=read_only)

    def frame(self, sql: str) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql).df()


def _dbt(args: list[str]) -> None:
    # A separate process: dbt-duckdb keeps its connection open inside the invoking process,
    # which would lock the file against the test's own read-only connections.
    dbt = Path(sys.executable).with_name("dbt")
    # The pseudonym key (customer_id, email_hash) the pipeline would export; tests/conftest.py's.
    env = {**os.environ, "JOURNEY_HASH_KEY": "test-hash-key"}
    done = subprocess.run([str(dbt), *args], capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise AssertionError(
            f"dbt {' '.join(args[:1])} failed:\n{done.stdout[-4000:]}{done.stderr[-2000:]}"
        )


def _build(warehouse: Warehouse, *, full_refresh: bool = False) -> None:
    # Upstream models are run (not tested) so that another area's failing test cannot hide
    # these results; this area's data, unit and singular tests then run in full.
    _dbt(["seed", *warehouse.dbt_args])
    _dbt(["run", *warehouse.dbt_args, *(["--full-refresh"] if full_refresh else [])])
    _dbt(["test", *warehouse.dbt_args, "--select", *OWN_PATHS])


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    root = tmp_path_factory.mktemp("marts")
    landing = root / "landing"
    generate(landing, root / "truth", people=300, days=DAYS, seed=11, start=START.isoformat())
    path = root / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("set TimeZone = 'UTC'")
        for source, extension in SOURCES.items():
            for offset in range(DAYS):
                day = START + timedelta(days=offset)
                load_file(
                    con, source, landing / source / f"{day.isoformat()}.{extension}", day, landing
                )

    previous = os.environ.get("JOURNEY_WAREHOUSE")
    os.environ["JOURNEY_WAREHOUSE"] = str(path)
    # A private target dir: other processes may be compiling the same project concurrently.
    dbt_args = [
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(root / "target"),
        "--log-path",
        str(root / "logs"),
    ]
    built = Warehouse(path, dbt_args)
    try:
        _build(built)
        yield built
    finally:
        if previous is None:
            os.environ.pop("JOURNEY_WAREHOUSE", None)
        else:
            os.environ["JOURNEY_WAREHOUSE"] = previous
        shutil.rmtree(root / "target", ignore_errors=True)


def test_dim_customers_has_one_row_per_known_person(warehouse: Warehouse) -> None:
    dim = warehouse.frame("select * from marts.dim_customers")
    known = warehouse.frame(
        "select distinct customer_id from intermediate.int_customer_identifiers where is_known"
    )
    assert len(dim) > 100
    assert dim["customer_id"].is_unique
    assert set(dim["customer_id"]) == set(known["customer_id"])
    # Everyone known has a first sighting; buyers have revenue and a first purchase.
    assert dim["first_seen_at"].notna().all()
    buyers = dim[dim["orders_count"] > 0]
    assert len(buyers) > 5
    assert buyers["first_purchase_at"].notna().all()
    assert (dim.loc[dim["is_customer"], "mrr"] > 0).all()
    erased = dim[dim["is_erased"]]
    assert erased["email_hash"].isna().all() and erased["company"].isna().all()
    assert dim.loc[~dim["is_erased"], "email_hash"].str.fullmatch(r"[0-9a-f]{64}").mean() > 0.9


def test_no_raw_email_in_any_mart(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' and data_type = 'VARCHAR'"
        ).fetchall()
        assert {"dim_customers", "customer_features", "fct_attribution"} <= {t for t, _ in columns}
        leaks = {
            f"marts.{table}.{column}": count
            for table, column in columns
            if (
                count := con.execute(
                    f'select count(*) from marts."{table}" where "{column}" like \'%@%\''
                ).fetchone()[0]
            )
        }
    assert leaks == {}


def test_attribution_credits_sum_to_one_per_conversion_and_model(warehouse: Warehouse) -> None:
    attribution = warehouse.frame("select * from marts.fct_attribution")
    conversions = warehouse.frame("select * from intermediate.int_attribution_conversions")
    assert len(conversions) > 5
    totals = attribution.groupby(["conversion_id", "attribution_model"])["credit"].sum()
    assert len(totals) == 8 * len(conversions)  # six rule-based models, markov and shapley
    assert (totals - 1).abs().max() < 1e-9
    channels = warehouse.frame(
        "select attribution_model, sum(conversions_credited) as credited, "
        "sum(revenue_credited) as revenue from marts.agg_channel_attribution group by 1"
    )
    assert (channels["credited"] - len(conversions)).abs().max() < 1e-6
    assert (channels["revenue"] - float(conversions["revenue"].sum())).abs().max() < 1e-6


def test_funnel_reconciles_and_is_monotonic(warehouse: Warehouse) -> None:
    funnel = warehouse.frame("select * from marts.fct_customer_funnel")
    daily = warehouse.frame("select * from marts.agg_funnel_daily")
    stages = ["awareness", "consideration", "evaluation", "purchase", "retention"]
    for stage in stages:
        assert daily[f"{stage}_customers"].sum() == funnel[f"{stage}_at"].notna().sum(), stage
    for earlier, later in zip(stages, stages[1:], strict=False):
        reached = funnel[funnel[f"{later}_at"].notna()]
        assert (reached[f"{earlier}_at"] <= reached[f"{later}_at"]).all(), (earlier, later)
    # A real funnel narrows.
    counts = [funnel[f"{stage}_at"].notna().sum() for stage in stages[:4]]
    assert counts == sorted(counts, reverse=True) and counts[3] > 0


def test_paths_and_cohorts_cover_every_customer(warehouse: Warehouse) -> None:
    paths = warehouse.frame("select * from marts.agg_paths")
    customers = warehouse.frame("select count(*) as n from marts.dim_customers")["n"][0]
    conversions = warehouse.frame(
        "select count(*) as n from intermediate.int_attribution_conversions"
    )
    assert paths["total_customers"].sum() == customers
    assert paths["converting_customers"].sum() == conversions["n"][0]
    longest = paths["path"].str.count(" > ") + 1
    assert (longest[paths["path"] != "(none)"] <= 5).all()
    steps = paths["path"].str.split(" > ")
    assert not steps.map(lambda s: any(a == b for a, b in zip(s, s[1:], strict=False))).any()
    cohorts = warehouse.frame("select * from marts.agg_cohort_retention")
    first_months = cohorts[cohorts["months_since_first_purchase"] == 0]
    assert (first_months["active_customers"] <= first_months["cohort_size"]).all()
    assert first_months["retention_rate"].min() > 0.5


def test_features_are_point_in_time_and_labels_complete(warehouse: Warehouse) -> None:
    features = warehouse.frame("select * from marts.customer_features")
    bounds = warehouse.frame("select * from intermediate.int_features_data_bounds").iloc[0]
    dim = warehouse.frame("select customer_id, first_seen_at from marts.dim_customers")
    assert not features.duplicated(["customer_id", "snapshot_date"]).any()
    snapshots = sorted(features["snapshot_date"].unique())
    assert snapshots[0] == pd.Timestamp(START) and snapshots[-1] == pd.Timestamp(
        bounds["latest_data_date"]
    )
    merged = features.merge(dim, on="customer_id")
    assert (merged["first_seen_at"] < merged["feature_cutoff_at"]).all()
    incomplete = features["churn_label_window_end"] > pd.Timestamp(bounds["latest_data_date"])
    assert features.loc[incomplete, "churned_within_30d"].isna().all()
    assert features.loc[~features["is_customer_at_snapshot"], "churned_within_30d"].isna().all()
    assert features["purchased_within_14d"].notna().sum() > 50
    assert (
        features["sessions_last_30d"].sum() > 0 and features["logged_in_events_last_30d"].sum() > 0
    )


def _append_later_data(warehouse: Warehouse, latest: date) -> None:
    """Add rows dated after `latest` to raw.*: a copy of the last 10 days of web, email,
    ticket and order activity shifted SHIFT_DAYS later, later upgrade and cancellation
    exports of active subscriptions, and first orders of people who had never bought."""
    shift = f"interval {SHIFT_DAYS} day"
    since = f"timestamptz '{latest - timedelta(days=9)}'"
    with warehouse.connect(read_only=False) as con:
        con.execute(f"""
            insert into raw.web_events by name
            select * replace (message_id || '-later' as message_id,
                              event_timestamp + {shift} as event_timestamp,
                              _partition_date + {SHIFT_DAYS} as _partition_date)
            from raw.web_events where event_timestamp >= {since}
        """)
        con.execute(f"""
            insert into raw.email_events by name
            select * replace (event_id || '-later' as event_id,
                              occurred_at + {shift} as occurred_at,
                              _partition_date + {SHIFT_DAYS} as _partition_date)
            from raw.email_events where occurred_at >= {since}
        """)
        con.execute(f"""
            insert into raw.support_tickets by name
            select * replace (ticket_id || '-later' as ticket_id,
                              created_at + {shift} as created_at,
                              updated_at + {shift} as updated_at,
                              solved_at + {shift} as solved_at,
                              'bad' as satisfaction,
                              _partition_date + {SHIFT_DAYS} as _partition_date)
            from raw.support_tickets where created_at >= {since}
        """)
        con.execute(f"""
            insert into raw.orders by name
            select * replace (order_id || '-later' as order_id, ordered_at + {shift} as ordered_at,
                              _partition_date + {SHIFT_DAYS} as _partition_date)
            from raw.orders where ordered_at >= {since}
        """)
        # Later exports of every active subscription (from its latest export): an upgrade
        # 2 days after `latest`, then a cancellation 5 days after it, exported on the last
        # new day. Neither may change an earlier snapshot's plan, mrr or customer state.
        active = """
            select * from raw.subscriptions
            qualify row_number() over (
                partition by subscription_id order by _partition_date desc, _line_number desc
            ) = 1
        """
        con.execute(f"""
            insert into raw.subscriptions by name
            select * replace ('business' as plan, cast(799 as decimal(12, 2)) as mrr,
                              date '{latest + timedelta(days=2)}' as _partition_date,
                              _line_number + 100000 as _line_number)
            from ({active}) where canceled_at is null and status = 'active'
        """)
        con.execute(f"""
            insert into raw.subscriptions by name
            select * replace (timestamptz '{latest + timedelta(days=5)} 12:00:00+00' as canceled_at,
                              'canceled' as status, 'too_expensive' as cancel_reason,
                              date '{latest + timedelta(days=SHIFT_DAYS)}' as _partition_date,
                              _line_number + 200000 as _line_number)
            from ({active}) where canceled_at is null and status = 'active'
        """)
        # First paid orders for CRM contacts who never ordered, 3 days after `latest`.
        con.execute(f"""
            insert into raw.orders by name
            select * from (
                select
                    'ord-later-' || contacts.contact_id as order_id,
                    contacts.contact_id, contacts.email,
                    timestamptz '{latest + timedelta(days=3)} 09:00:00+00' as ordered_at,
                    'paid' as status, cast(49 as decimal(12, 2)) as amount, 'USD' as currency,
                    'starter' as plan, 'new' as order_type,
                    date '{latest + timedelta(days=3)}' as _partition_date,
                    'orders/later.csv' as _source_file,
                    row_number() over (order by contacts.contact_id) + 1 as _line_number,
                    now() as _loaded_at
                from (select distinct contact_id, email from raw.crm_contacts) as contacts
                where contacts.contact_id not in (
                    select contact_id from raw.orders where contact_id is not null
                )
                order by contacts.contact_id
                limit 40
            )
        """)


def test_appending_later_data_changes_no_earlier_feature_or_complete_label(
    warehouse: Warehouse,
) -> None:
    before = warehouse.frame("select * from marts.customer_features")
    latest = warehouse.frame("select latest_data_date from intermediate.int_features_data_bounds")[
        "latest_data_date"
    ][0]
    latest = pd.Timestamp(latest).date()

    _append_later_data(warehouse, latest)
    _build(warehouse, full_refresh=True)

    after = warehouse.frame("select * from marts.customer_features")
    new_latest = warehouse.frame(
        "select latest_data_date from intermediate.int_features_data_bounds"
    )["latest_data_date"][0]
    assert pd.Timestamp(new_latest).date() == latest + timedelta(days=SHIFT_DAYS)
    assert after["snapshot_date"].max() > before["snapshot_date"].max()

    keys = ["customer_id", "snapshot_date"]
    # The old "latest day" snapshot is not on the cadence, so it is gone; every cadence
    # snapshot up to `latest` must still be there with the same customers.
    cadence = before[(before["snapshot_date"] - pd.Timestamp(START)).dt.days % 7 == 0]
    assert cadence["snapshot_date"].nunique() == DAYS // 7 + 1
    joined = cadence.merge(
        after, on=keys, how="left", suffixes=("_before", "_after"), indicator=True
    )
    assert (joined["_merge"] == "both").all(), "a customer snapshot disappeared"
    assert len(after[after["snapshot_date"] <= pd.Timestamp(latest)]) == len(cadence)

    feature_columns = [c for c in before.columns if c not in keys and c not in LABELS]
    changed = {
        column: int((~_same(joined[f"{column}_before"], joined[f"{column}_after"])).sum())
        for column in feature_columns
    }
    assert {c: n for c, n in changed.items() if n} == {}

    for label in LABELS:
        complete = joined[f"{label}_before"].notna()
        assert complete.sum() > 0, label
        same = _same(
            joined.loc[complete, f"{label}_before"], joined.loc[complete, f"{label}_after"]
        )
        assert same.all(), f"{label}: {int((~same).sum())} complete labels changed"
    # The appended data completes windows that were open: labels appear where none were.
    opened = joined["churned_within_30d_before"].isna() & joined["churned_within_30d_after"].notna()
    assert opened.sum() > 0
    assert joined.loc[opened, "churned_within_30d_after"].astype(bool).any()
    bought = (
        joined["purchased_within_14d_before"].isna() & joined["purchased_within_14d_after"].notna()
    )
    assert joined.loc[bought, "purchased_within_14d_after"].astype(bool).any()


def _same(left: pd.Series, right: pd.Series) -> pd.Series:
    both_missing = left.isna().to_numpy() & right.isna().to_numpy()
    values = [
        series.astype(object).where(series.notna(), None).to_numpy() for series in (left, right)
    ]
    return pd.Series(both_missing | (values[0] == values[1]), index=left.index)
