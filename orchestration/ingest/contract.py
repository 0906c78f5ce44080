"""The ingestion contract of docs/raw_tables.md as data: column types of every raw table.

Kept in one place so that the loaders, the table DDL and the tests agree on it.

- `SOURCE_COLUMNS`: every column of `raw.<source>` (before the metadata columns). Raw tables
  always have all of them.
- `OPTIONAL_COLUMNS`: columns a file's header may leave out; they are then NULL. Every other
  column is required: a header without it fails the file.
- `ROW_RULES`: checks beyond the types; a row that breaks one is rejected with its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
    """A row is rejected when `violated` (SQL over the typed columns) is true."""

    field: str
    violated: str
    reason: str


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

# Delimiter and quote of each delimited-text format (everything but JSON lines). Snowplow
# TSV has no quoting: a `"` in a page title is text.
DELIMITED_FORMATS: dict[str, tuple[str, str]] = {"csv": (",", '"'), "tsv": ("\t", "")}

# Columns holding personal data: never shown in Dagster metadata (previews), issue 12.
PII_COLUMNS = frozenset({"email", "first_name", "last_name", "requester_email", "traits"})

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
