"""The ingestion contract of docs/raw_tables.md as data: column types of every raw table.

Kept in one place so that the loaders, the table DDL and the tests agree on it.
"""

from __future__ import annotations

from collections.abc import Iterable

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
}

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
        con.execute(_ddl(raw_table(source), {**SOURCE_COLUMNS[source], **METADATA_COLUMNS}))
        con.execute(_ddl(rejected_table(source), REJECTED_COLUMNS))
