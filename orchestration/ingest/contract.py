"""The ingestion contract of docs/raw_tables.md as data: column types of every raw table.

Kept in one place so that the loaders, the table DDL and the tests agree on it.

- `SOURCE_COLUMNS`: every column of `raw.<source>` (before the metadata columns). Raw tables
  always have all of them.
- `OPTIONAL_COLUMNS`: columns a file's header may leave out; they are then NULL. Every other
  column is required: a header without it fails the file.
- `ROW_RULES`: checks beyond the types; a row that breaks one is rejected with its field.
- `TIMESTAMP_CHECKS`: which timestamp fields must fall in a plausible window around the file's
  day (`TimestampWindow`, env vars); `row_rules(source)` = `ROW_RULES` + those checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import duckdb

from orchestration.settings import SOURCES

TS = "TIMESTAMPTZ"
MONEY = "DECIMAL(12,2)"

# Source fields in file order. The CSV header may list them in any order.
SOURCE_COLUMNS: dict[str, dict[str, str]] = {
    "crm_contacts": {
        "contact_id": "VARCHAR",
        "email": "VARCHAR",
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "company": "VARCHAR",
        "segment": "VARCHAR",
        "country": "VARCHAR",
        "lifecycle_stage": "VARCHAR",
        "created_at": TS,
        "updated_at": TS,
        "marketing_consent": "BOOLEAN",
    },
    "email_events": {
        "event_id": "VARCHAR",
        "email": "VARCHAR",
        "campaign_id": "VARCHAR",
        "campaign_name": "VARCHAR",
        "event_type": "VARCHAR",
        "occurred_at": TS,
    },
    "support_tickets": {
        "ticket_id": "VARCHAR",
        "requester_email": "VARCHAR",
        "created_at": TS,
        "updated_at": TS,
        "solved_at": TS,
        "channel": "VARCHAR",
        "priority": "VARCHAR",
        "status": "VARCHAR",
        "satisfaction": "VARCHAR",
        "subject": "VARCHAR",
        "description": "VARCHAR",
        "user_id": "VARCHAR",
        "anonymous_id": "VARCHAR",
    },
    "orders": {
        "order_id": "VARCHAR",
        "contact_id": "VARCHAR",
        "email": "VARCHAR",
        "ordered_at": TS,
        "status": "VARCHAR",
        "amount": MONEY,
        "currency": "VARCHAR",
        "plan": "VARCHAR",
        "order_type": "VARCHAR",
        "user_id": "VARCHAR",
        "anonymous_id": "VARCHAR",
    },
    "subscriptions": {
        "subscription_id": "VARCHAR",
        "contact_id": "VARCHAR",
        "plan": "VARCHAR",
        "mrr": MONEY,
        "started_at": TS,
        "canceled_at": TS,
        "cancel_reason": "VARCHAR",
        "status": "VARCHAR",
        "user_id": "VARCHAR",
        "anonymous_id": "VARCHAR",
    },
    "privacy_requests": {
        "request_id": "VARCHAR",
        "email": "VARCHAR",
        "request_type": "VARCHAR",
        "requested_at": TS,
    },
    "web_events": {
        "message_id": "VARCHAR",
        "type": "VARCHAR",
        "event": "VARCHAR",
        "anonymous_id": "VARCHAR",
        "user_id": "VARCHAR",
        "event_timestamp": TS,
        "payload": "JSON",
    },
    # Snowplow atomic.events, the columns this warehouse uses (the export has ~130).
    "snowplow_events": {
        "event_id": "VARCHAR",
        "event": "VARCHAR",
        "collector_tstamp": TS,
        "domain_userid": "VARCHAR",
        "app_id": "VARCHAR",
        "platform": "VARCHAR",
        "event_name": "VARCHAR",
        "derived_tstamp": TS,
        "dvce_created_tstamp": TS,
        "domain_sessionid": "VARCHAR",
        "domain_sessionidx": "BIGINT",
        "network_userid": "VARCHAR",
        "user_id": "VARCHAR",
        "page_url": "VARCHAR",
        "page_urlpath": "VARCHAR",
        "page_title": "VARCHAR",
        "page_referrer": "VARCHAR",
        "refr_urlhost": "VARCHAR",
        "refr_medium": "VARCHAR",
        "refr_source": "VARCHAR",
        "mkt_medium": "VARCHAR",
        "mkt_source": "VARCHAR",
        "mkt_campaign": "VARCHAR",
        "mkt_term": "VARCHAR",
        "mkt_content": "VARCHAR",
        "se_category": "VARCHAR",
        "se_action": "VARCHAR",
        "se_label": "VARCHAR",
        "tr_orderid": "VARCHAR",
        "tr_total": MONEY,
        "useragent": "VARCHAR",
        "geo_country": "VARCHAR",
    },
}

# Columns a header may omit (NULL then). Linking keys on the commerce sources let a web
# checkout be joined to its sessions when the export carries them.
_LINK_IDS = frozenset({"user_id", "anonymous_id"})
_SNOWPLOW_REQUIRED = frozenset({"event_id", "event", "collector_tstamp", "domain_userid"})
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {
    "orders": _LINK_IDS,
    "subscriptions": _LINK_IDS,
    "support_tickets": _LINK_IDS,
    "snowplow_events": frozenset(SOURCE_COLUMNS["snowplow_events"]) - _SNOWPLOW_REQUIRED,
}


@dataclass(frozen=True)
class RowRule:
    """A row is rejected when `violated` (SQL over the typed columns) is true.

    `value`, when set, is a SQL expression appended to the reason, so that the reject row
    shows the offending value (e.g. the timestamp) next to its field.
    """

    field: str
    violated: str
    reason: str
    value: str | None = None

    def reason_sql(self) -> str:
        literal = "'" + self.reason.replace("'", "''") + "'"
        return literal if self.value is None else f"{literal} || ({self.value})"


ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "snowplow_events": (
        RowRule("event_id", "event_id is null", "missing event_id"),
        RowRule(
            "domain_userid, user_id",
            "domain_userid is null and user_id is null",
            "neither domain_userid nor user_id",
        ),
    ),
}

# Implausible timestamps (issue 12 item 10): one event dated 1970 and one dated 2099 once
# stretched the feature snapshots from 10 weeks to 130 years. Each checked field is either
# - "event": an event stream's own time; a line is written on the day the event happens, a
#   few days late at most (offline devices, retries). Must lie within `max_age_days` before
#   the file's day and at most `future_days` after it;
# - "record": a field of a record that is re-exported whenever it changes (orders, tickets,
#   contacts, subscriptions, privacy requests): it can legitimately be years old (an order
#   refunded today, a contact created in 2015, an erasure request re-delivered), so only the
#   absolute floor `oldest` and the future bound apply;
# - "past": like "record" without the future bound: a subscription's canceled_at can be a
#   scheduled period end.
# Not checked: Snowplow's dvce_created_tstamp (device clocks are often wrong, which is why
# Snowplow derives derived_tstamp; staging never reads it).
TIMESTAMP_CHECKS: dict[str, dict[str, str]] = {
    "web_events": {"event_timestamp": "event"},
    "snowplow_events": {"collector_tstamp": "event", "derived_tstamp": "event"},
    "email_events": {"occurred_at": "event"},
    "support_tickets": {"created_at": "record", "updated_at": "record", "solved_at": "record"},
    "orders": {"ordered_at": "record"},
    "subscriptions": {"started_at": "record", "canceled_at": "past"},
    "crm_contacts": {"created_at": "record", "updated_at": "record"},
    "privacy_requests": {"requested_at": "record"},
}

MAX_EVENT_AGE_ENV = "JOURNEY_MAX_EVENT_AGE_DAYS"
MAX_FUTURE_ENV = "JOURNEY_MAX_FUTURE_DAYS"
OLDEST_TIMESTAMP_ENV = "JOURNEY_OLDEST_TIMESTAMP"


@dataclass(frozen=True)
class TimestampWindow:
    """The plausible window of a timestamp, relative to the day of the file carrying it."""

    max_age_days: int = 30  # "event" fields: not before file day - 30 days
    future_days: int = 1  # every field but "past": before the end of file day + 1 day
    oldest: date = date(2000, 1, 1)  # "record"/"past" fields: not before (epoch-0 defaults)

    @classmethod
    def from_env(cls) -> TimestampWindow:
        """JOURNEY_MAX_EVENT_AGE_DAYS, JOURNEY_MAX_FUTURE_DAYS, JOURNEY_OLDEST_TIMESTAMP."""
        default = cls()

        def days(var: str, fallback: int) -> int:
            text = os.environ.get(var, "").strip()
            if not text:
                return fallback
            if not text.isdigit():
                raise ValueError(f"{var}={text!r}: expected a whole number of days (e.g. 30)")
            return int(text)

        oldest_text = os.environ.get(OLDEST_TIMESTAMP_ENV, "").strip()
        try:
            oldest = date.fromisoformat(oldest_text) if oldest_text else default.oldest
        except ValueError:
            raise ValueError(
                f"{OLDEST_TIMESTAMP_ENV}={oldest_text!r}: expected a day, YYYY-MM-DD"
            ) from None
        return cls(
            max_age_days=days(MAX_EVENT_AGE_ENV, default.max_age_days),
            future_days=days(MAX_FUTURE_ENV, default.future_days),
            oldest=oldest,
        )


def timestamp_rules(source: str, window: TimestampWindow) -> tuple[RowRule, ...]:
    """Rules rejecting the source's timestamps outside `window` (SQL over `_partition_date`).

    The reason names the value and the bound, so that a reject row reads as file, line,
    field, value and what to change (the env var).
    """
    rules = []
    # Days after the file's day are counted from its end: future_days = 1 allows events up to
    # the end of the next day (clock skew, time zones of the exporting system).
    # The cast: with no file for the day, the web events' line relation types the column NULL.
    partition_day = "cast(_partition_date as date)"
    latest = f"({partition_day} + interval {window.future_days + 1} day)"
    earliest = f"({partition_day} - interval {window.max_age_days} day)"
    oldest = f"timestamptz '{window.oldest.isoformat()} 00:00:00+00'"
    for column, kind in TIMESTAMP_CHECKS.get(source, {}).items():
        ident = quote_ident(column)
        shown = f"cast({ident} as varchar)"
        day = "cast(_partition_date as varchar)"
        if kind == "event":
            rules.append(
                RowRule(
                    column,
                    f"{ident} < {earliest}",
                    f"implausible timestamp (more than {window.max_age_days} days before the "
                    f"file's day, {MAX_EVENT_AGE_ENV}): ",
                    f"{shown} || ' in the file of ' || {day}",
                )
            )
        else:
            rules.append(
                RowRule(
                    column,
                    f"{ident} < {oldest}",
                    f"implausible timestamp (before {window.oldest.isoformat()}, "
                    f"{OLDEST_TIMESTAMP_ENV}): ",
                    shown,
                )
            )
        if kind != "past":
            rules.append(
                RowRule(
                    column,
                    f"{ident} >= {latest}",
                    f"implausible timestamp (more than {window.future_days} day(s) after the "
                    f"file's day, {MAX_FUTURE_ENV}): ",
                    f"{shown} || ' in the file of ' || {day}",
                )
            )
    return tuple(rules)


def row_rules(source: str, window: TimestampWindow | None = None) -> tuple[RowRule, ...]:
    """Every rule of the source: `ROW_RULES` then the timestamp window (from the env)."""
    window = window or TimestampWindow.from_env()
    return (*ROW_RULES.get(source, ()), *timestamp_rules(source, window))


# Delimiter and quote of each delimited-text format (everything but JSON lines). Snowplow
# TSV has no quoting: a `"` in a page title is text.
DELIMITED_FORMATS: dict[str, tuple[str, str]] = {"csv": (",", '"'), "tsv": ("\t", "")}

# Personal data and direct identifiers: never shown in Dagster metadata (the ingestion preview),
# which outlives any erasure (issue 12; docs/privacy.md). Raw columns masked whole: emails,
# names, the CRM/web/Snowplow identities of a person or device, IP addresses, user agents, and
# the free text a customer types (ticket subject/description) or a company name (a sole
# trader's is a person's name). Record keys (order_id, event_id, …) and coarse attributes stay.
PII_COLUMNS = frozenset(
    {
        "email",
        "requester_email",
        "first_name",
        "last_name",
        "phone",
        "company",
        "contact_id",
        "user_id",
        "anonymous_id",
        "domain_userid",
        "network_userid",
        "domain_sessionid",
        "user_ipaddress",
        "useragent",
        "subject",
        "description",
        "traits",
    }
)
# Keys masked at any depth of a JSON payload (web_events' Segment object), compared lower-case
# without `_`/`-`: userId, anonymousId, traits (email, name, phone…), context.ip,
# context.userAgent, device and advertising ids.
PII_PAYLOAD_KEYS = frozenset(
    {
        "anonymousid",
        "userid",
        "previousid",
        "groupid",
        "traits",
        "email",
        "phone",
        "firstname",
        "lastname",
        "ip",
        "useragent",
        "advertisingid",
        "deviceid",
    }
)
# An email address anywhere in a shown value (a page URL's `?email=` parameter, a note).
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")

METADATA_COLUMNS: dict[str, str] = {
    "_partition_date": "DATE",
    "_source_file": "VARCHAR",
    "_line_number": "BIGINT",
    "_loaded_at": TS,
}

REJECTED_COLUMNS: dict[str, str] = {
    "_partition_date": "DATE",
    "_source_file": "VARCHAR",
    "_line_number": "BIGINT",
    "raw_line": "VARCHAR",
    "field": "VARCHAR",
    "reason": "VARCHAR",
    "_loaded_at": TS,
}

RAW_SCHEMA = "raw"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def raw_table(source: str) -> str:
    return f"{RAW_SCHEMA}.{quote_ident(source)}"


def rejected_table(source: str) -> str:
    return f"{RAW_SCHEMA}.{quote_ident(source + '__rejected')}"


def file_extension(source: str) -> str:
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; known sources: {', '.join(SOURCES)}")
    return SOURCES[source]


def required_columns(source: str) -> list[str]:
    """Columns every file of the source must have in its header, in contract order."""
    optional = OPTIONAL_COLUMNS.get(source, frozenset())
    return [c for c in SOURCE_COLUMNS[source] if c not in optional]


def _ddl(table: str, columns: dict[str, str]) -> str:
    body = ", ".join(f"{quote_ident(name)} {type_}" for name, type_ in columns.items())
    return f"create table if not exists {table} ({body})"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, sources: Iterable[str] = SOURCES) -> None:
    """Create `raw.<source>` and `raw.<source>__rejected` if missing.

    Done before any file is loaded so that dbt always finds its sources, even for a source
    that has not delivered a file yet.
    """
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    for source in sources:
        columns = {**SOURCE_COLUMNS[source], **METADATA_COLUMNS}
        con.execute(_ddl(raw_table(source), columns))
        # Columns added to the contract later (optional ones) reach existing warehouses too.
        existing = {
            row[0]
            for row in con.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                [RAW_SCHEMA, source],
            ).fetchall()
        }
        for name, type_ in columns.items():
            if name not in existing:
                con.execute(
                    f"alter table {raw_table(source)} add column {quote_ident(name)} {type_}"
                )
        con.execute(_ddl(rejected_table(source), REJECTED_COLUMNS))
