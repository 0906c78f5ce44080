"""Ticket sentiment at ingestion: the days of `raw.support_tickets` just loaded → scores in
`raw.support_ticket_sentiment` (docs/ingestion.md, "Ticket sentiment").

Why here and not in dbt: the whole dbt project is one `dbt build` asset, so a Python step
between two models would make a cycle in the asset graph. Scoring the rows as they land keeps
the graph a line: ingest (+ scores) → dbt → ml. The scoring itself is `ml.sentiment`; this
module only reads the day's rows, calls it and replaces the day's scores (delete + insert in
one transaction, so re-running a day never duplicates). The text is not stored again: a
hash says which text a score belongs to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pyarrow as pa

from ml.sentiment import score_texts, scorer_version, text_hash, ticket_text
from orchestration.ingest.contract import RAW_SCHEMA, raw_table

SENTIMENT_TABLE_NAME = "support_ticket_sentiment"
SENTIMENT_TABLE = f"{RAW_SCHEMA}.{SENTIMENT_TABLE_NAME}"
SENTIMENT_SOURCE = "support_tickets"
# Raw tables written by an ingestion asset beside its own, keyed by the parent's id alone:
# (table, parent source, id column). dbt's source of the table is that asset in Dagster
# (transform/translator.py); erasure removes its rows with the parent's (privacy/erasure.py).
DERIVED_RAW_TABLES: tuple[tuple[str, str, str], ...] = (
    (SENTIMENT_TABLE_NAME, SENTIMENT_SOURCE, "ticket_id"),
)
SENTIMENT_DDL = f"""
create table if not exists {SENTIMENT_TABLE} (
    ticket_id varchar,
    updated_at timestamptz,
    text_hash varchar,
    sentiment_score double,
    sentiment_label varchar,
    scorer_version varchar,
    _partition_date date,
    _loaded_at timestamptz
)"""


@dataclass(frozen=True)
class SentimentLoad:
    """What one scoring of a range of days wrote."""

    rows_scored: int
    texts_scored: int
    negative: int
    neutral: int
    positive: int
    scorer_version: str


def ensure_sentiment_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"create schema if not exists {RAW_SCHEMA}")
    con.execute(SENTIMENT_DDL)


def score_ticket_days(con: duckdb.DuckDBPyConnection, days: Sequence[date]) -> SentimentLoad:
    """Replace the scores of `days` with one row per distinct ticket version loaded on them
    (ticket, updated_at, text): an exact re-delivery in the same file is scored once."""
    ensure_sentiment_table(con)
    versions = con.execute(
        f"""
        select distinct trim(ticket_id), updated_at, subject, description, _partition_date
        from {raw_table(SENTIMENT_SOURCE)}
        where _partition_date in (select unnest(?::date[]))
          and nullif(trim(ticket_id), '') is not null
        """,
        [list(days)],
    ).fetchall()
    texts = [ticket_text(subject, description) for _, _, subject, description, _ in versions]
    scores = score_texts(texts)
    version = scorer_version()
    table = pa.table(
        {
            "ticket_id": pa.array([v[0] for v in versions], pa.string()),
            "updated_at": pa.array([v[1] for v in versions], pa.timestamp("us", tz="UTC")),
            "text_hash": pa.array([text_hash(t) for t in texts], pa.string()),
            "sentiment_score": pa.array([s.score for s in scores], pa.float64()),
            "sentiment_label": pa.array([s.label for s in scores], pa.string()),
            "_partition_date": pa.array([v[4] for v in versions], pa.date32()),
        }
    )
    con.execute("begin transaction")
    try:
        con.execute(
            f"delete from {SENTIMENT_TABLE} where _partition_date in (select unnest(?::date[]))",
            [list(days)],
        )
        con.register("_ticket_sentiment_rows", table)
        con.execute(
            f"""
            insert into {SENTIMENT_TABLE}
            select ticket_id, updated_at, text_hash, sentiment_score, sentiment_label,
                   ?, _partition_date, ?::timestamptz
            from _ticket_sentiment_rows
            """,
            [version, datetime.now(UTC)],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.unregister("_ticket_sentiment_rows")
    labels = [s.label for s in scores]
    return SentimentLoad(
        rows_scored=len(scores),
        texts_scored=len(set(texts)),
        negative=labels.count("negative"),
        neutral=labels.count("neutral"),
        positive=labels.count("positive"),
        scorer_version=version,
    )


__all__ = [
    "DERIVED_RAW_TABLES",
    "SENTIMENT_TABLE",
    "SENTIMENT_TABLE_NAME",
    "SentimentLoad",
    "ensure_sentiment_table",
    "score_ticket_days",
]
