"""Erasure requests applied to the warehouse and the landing files (docs/privacy.md).

Plain functions on a DuckDB connection (no Dagster), so they are tested without it.

1. `pending_requests`: erasure and opt-out requests of `raw.privacy_requests` not yet in
   `privacy.erasure_log`. Nothing pending costs one small query.
2. `record_tombstones`: each erasure request's person, resolved through the identity graph
   (`int_customer_identifiers`, brought up to date by the caller), becomes keyed hashes in
   `privacy.erased_identifiers`: every email, user id, anonymous id and contact id of every
   customer owning the request's email, their customer ids, and the request's own email.
   Plain identifiers never leave DuckDB and are never stored.
3. `erase`: deletes from every table of every schema but `privacy` the rows whose identifier
   columns hash to those keys (found from information_schema, values normalised as identity
   resolution does them), and rejected lines holding one as a whole token; removes the
   records from the landing files first (atomically) and renumbers the raw rows of those
   files so that `_line_number` stays true. One transaction per table.
4. `log_requests`: one row per request in `privacy.erasure_log`, rows removed per table in
   `privacy.erasure_log_tables`: counts, never identifiers.

Everything is driven by the tombstone, not by plain values held in Python, so that a retry
after a crash (the request is pending until logged) removes what the first attempt left.
This is data lifecycle, not transformation: the SQL is generic over tables and columns.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.ingest.contract import quote_ident
from orchestration.ingest.sentiment import DERIVED_RAW_TABLES
from orchestration.privacy.landing_rewrite import (
    record_texts,
    remove_records,
    replace_atomically,
)
from orchestration.privacy.pseudonyms import keyed_hash

log = logging.getLogger(__name__)

PRIVACY_SCHEMA = "privacy"
TOMBSTONE = f"{PRIVACY_SCHEMA}.erased_identifiers"
ERASURE_LOG = f"{PRIVACY_SCHEMA}.erasure_log"
ERASURE_LOG_TABLES = f"{PRIVACY_SCHEMA}.erasure_log_tables"
# Request types applied by the pipeline: erasure here, opt-out by dbt (consent cleared).
APPLIED_REQUEST_TYPES = ("erasure", "opt_out")
IDENTIFIER_TYPES = ("email", "user_id", "anonymous_id", "contact_id")

# The same tables as dbt_project/macros/erasure.sql `create_privacy_tables` (a test compares).
PRIVACY_DDL = (
    f"create schema if not exists {PRIVACY_SCHEMA}",
    f"""create table if not exists {TOMBSTONE} (
        identifier_type varchar not null,
        identifier_key varchar not null,
        request_id varchar not null,
        erased_at timestamp not null
    )""",
    f"""create table if not exists {ERASURE_LOG} (
        request_id varchar not null,
        request_type varchar not null,
        received_at timestamp,
        applied_at timestamp not null,
        tables_touched integer not null,
        rows_removed bigint not null,
        landing_files_rewritten integer not null
    )""",
    f"""create table if not exists {ERASURE_LOG_TABLES} (
        request_id varchar not null,
        table_name varchar not null,
        rows_removed bigint not null
    )""",
)

# Whitespace that staging's trim_whitespace strips (dbt_project/macros/identifiers.sql).
_WS = "' ' || chr(9) || chr(10) || chr(13) || chr(160)"
# A token of a rejected line: what an email or id is made of; anything else separates.
TOKEN_PATTERN = r"[A-Za-z0-9_.@+\-]+"
_KEY = "getvariable('journey_erase_key')"


def _hash(preimage: str) -> str:
    """SQL for keyed_hash(preimage): md5(key || preimage), as dbt's keyed_hash macro."""
    return f"md5({_KEY} || {preimage})"


def _id_key(identifier_type: str, column: str) -> str:
    value = f"trim(cast({column} as varchar), {_WS})"
    if identifier_type == "email":
        value = f"lower({value})"
    return _hash(f"'{identifier_type}:' || {value}")


# Identifier columns by name → the identifier types their values are keyed as. user_id also
# as an email: Snowplow trackers often set the user id to the address.
COLUMN_TYPES: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "requester_email": ("email",),
    "identified_email": ("email",),
    "user_id": ("user_id", "email"),
    "anonymous_id": ("anonymous_id",),
    "domain_userid": ("anonymous_id",),
    "contact_id": ("contact_id",),
    "customer_id": ("customer_id",),
}
# (value column, type column) pairs of the identity models.
TYPED_COLUMNS = (
    ("identifier", "identifier_type"),
    ("identifier_a", "identifier_type_a"),
    ("identifier_b", "identifier_type_b"),
)


@dataclass(frozen=True)
class Request:
    request_id: str
    request_type: str
    received_at: datetime | None


@dataclass(frozen=True)
class Target:
    """A table holding identifiers, and the SQL that keys them."""

    schema: str
    name: str
    key_exprs: tuple[str, ...]
    raw_line: bool = False  # a rejects table: match tokens of raw_line
    lineage: bool = False  # has _source_file/_line_number (a raw table)
    partitioned: bool = False  # has _partition_date

    @property
    def relation(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class ErasureResult:
    """What `erase` removed: rows per request and table, landing files per request."""

    rows: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    files: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    warnings: list[str] = field(default_factory=list)

    def rows_by_table(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for tables in self.rows.values():
            for table, count in tables.items():
                totals[table] += count
        return dict(sorted(totals.items()))

    @property
    def files_rewritten(self) -> set[str]:
        return {name for names in self.files.values() for name in names}


def ensure_privacy_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in PRIVACY_DDL:
        con.execute(statement)


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )


def pending_requests(con: duckdb.DuckDBPyConnection) -> list[Request]:
    """Erasure and opt-out requests not yet applied, oldest first; normalised like
    stg_privacy__requests (trimmed id, lower-cased type, first delivery of an id)."""
    if not _table_exists(con, "raw", "privacy_requests"):
        return []
    rows = con.execute(
        f"""
        select request_id, request_type, requested_at
        from (
            select
                trim(request_id) as request_id,
                lower(trim(request_type)) as request_type,
                cast(timezone('UTC', requested_at) as timestamp) as requested_at,
                row_number() over (
                    partition by trim(request_id) order by _partition_date, _line_number
                ) as delivery_number
            from raw.privacy_requests
            where nullif(trim(request_id), '') is not null
        ) as requests
        where delivery_number = 1
          and request_type in (select unnest(?::varchar[]))
          and request_id not in (select request_id from {ERASURE_LOG})
        order by requested_at nulls last, request_id
        """,
        [list(APPLIED_REQUEST_TYPES)],
    ).fetchall()
    return [Request(*row) for row in rows]


@contextmanager
def _keyed(con: duckdb.DuckDBPyConnection, key: str) -> Iterator[None]:
    """The pseudonym key as a session variable for the SQL of this module, reset after."""
    con.execute("set variable journey_erase_key = ?", [key])
    try:
        yield
    finally:
        con.execute("reset variable journey_erase_key")


def record_tombstones(
    con: duckdb.DuckDBPyConnection,
    key: str,
    request_ids: Sequence[str],
    *,
    requests_relation: str = "staging.stg_privacy__requests",
    identifiers_relation: str = "intermediate.int_customer_identifiers",
) -> int:
    """Add the keyed identifiers of each erasure request's person to the tombstone; returns
    the number of new keys. The caller has just built `identifiers_relation` (the identity
    graph) and `requests_relation` (requests with normalised emails, generic ones null).

    A request absent from `requests_relation` (its email is already tombstoned, so staging
    filters it) keeps its own email, trimmed and lower-cased from raw."""
    if not request_ids:
        return 0
    erased_at = datetime.now(UTC).replace(tzinfo=None)
    before = con.execute(f"select count(*) from {TOMBSTONE}").fetchone()[0]
    with _keyed(con, key):
        con.execute(
            f"""
            insert into {TOMBSTONE}
            with pending as (
                select distinct unnest(?::varchar[]) as request_id
            ),
            staged as (
                select requests.request_id, requests.email
                from {requests_relation} as requests
                inner join pending on pending.request_id = requests.request_id
            ),
            unstaged as (
                select distinct trim(raw.request_id) as request_id,
                       lower(trim(raw.email, {_WS})) as email
                from raw.privacy_requests as raw
                inner join pending on pending.request_id = trim(raw.request_id)
                where trim(raw.request_id) not in (select request_id from staged)
                  and nullif(trim(raw.email, {_WS}), '') is not null
            ),
            requests as (
                select request_id, email from staged where email is not null
                union
                select request_id, email from unstaged
            ),
            customers as (
                select distinct requests.request_id, ids.customer_id
                from requests
                inner join {identifiers_relation} as ids
                    on ids.identifier_type = 'email' and ids.identifier = requests.email
            ),
            erased as (
                select customers.request_id, ids.identifier_type, ids.identifier
                from customers
                inner join {identifiers_relation} as ids on ids.customer_id = customers.customer_id
                union
                select request_id, 'customer_id', customer_id from customers
                union
                select request_id, 'email', email from requests
            ),
            keyed as (
                select distinct
                    identifier_type,
                    {_hash("identifier_type || ':' || identifier")} as identifier_key,
                    request_id
                from erased
            )
            select identifier_type, identifier_key, request_id, ?::timestamp
            from keyed
            where not exists (
                select 1 from {TOMBSTONE} as known
                where known.identifier_key = keyed.identifier_key
                  and known.request_id = keyed.request_id
            )
            """,
            [list(request_ids), erased_at],
        )
    return con.execute(f"select count(*) from {TOMBSTONE}").fetchone()[0] - before


def discover_targets(con: duckdb.DuckDBPyConnection) -> list[Target]:
    """Every base table outside `privacy` with an identifier column (information_schema)."""
    columns: dict[tuple[str, str], set[str]] = defaultdict(set)
    for schema, table, column in con.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t
            on t.table_catalog = c.table_catalog
            and t.table_schema = c.table_schema
            and t.table_name = c.table_name
        where t.table_type = 'BASE TABLE'
          and t.table_catalog = current_database()
          and t.table_schema not in (?, 'information_schema', 'pg_catalog')
        """,
        [PRIVACY_SCHEMA],
    ).fetchall():
        columns[(schema, table)].add(column.lower())
    targets = []
    for (schema, table), names in sorted(columns.items()):
        keys: list[str] = []
        for column, types in COLUMN_TYPES.items():
            if column in names:
                keys += [_id_key(t, quote_ident(column)) for t in types]
        if "visitor_id" in names:
            # visitor_id is the anonymous id, or 'user_id:<id>' for events without one: that
            # is already a key's preimage.
            keys.append(
                _hash(
                    "case when starts_with(visitor_id, 'user_id:') then visitor_id "
                    "else 'anonymous_id:' || visitor_id end"
                )
            )
        for value, kind in TYPED_COLUMNS:
            if value in names and kind in names:
                keys.append(_hash(f"{quote_ident(kind)} || ':' || {quote_ident(value)}"))
        raw_line = schema == "raw" and "raw_line" in names
        if not keys and not raw_line:
            continue
        targets.append(
            Target(
                schema,
                table,
                tuple(keys),
                raw_line=raw_line,
                lineage={"_source_file", "_line_number"} <= names,
                partitioned="_partition_date" in names,
            )
        )
    return targets


def _hits_sql(target: Target, keys: str, window: tuple[date, date] | None) -> str:
    """(rid, request_id, _source_file, _line_number) of the target's rows matching `keys`."""
    where = ""
    if window and target.partitioned:
        where = "where _partition_date between $first and $last"
    source_file = "_source_file" if target.lineage else "null"
    line_number = "_line_number" if target.lineage else "null"
    if target.raw_line:
        types = ", ".join(f"('{t}')" for t in IDENTIFIER_TYPES)
        token_key = _hash("typ || ':' || case when typ = 'email' then lower(token) else token end")
        keyed = f"""
            select rid, source_file, line_number, {token_key} as identifier_key
            from (
                select rowid as rid, {source_file} as source_file, {line_number} as line_number,
                       unnest(regexp_extract_all(raw_line, '{TOKEN_PATTERN}')) as token
                from {target.relation} {where}
            ) as tokens, (values {types}) as types(typ)"""
    else:
        exprs = ", ".join(target.key_exprs)
        keyed = f"""
            select rowid as rid, {source_file} as source_file, {line_number} as line_number,
                   unnest([{exprs}]) as identifier_key
            from {target.relation} {where}"""
    return f"""
        select keyed.rid, min(keys.request_id) as request_id,
               any_value(keyed.source_file) as source_file,
               any_value(keyed.line_number) as line_number
        from ({keyed}) as keyed
        inner join {keys} as keys on keys.identifier_key = keyed.identifier_key
        group by keyed.rid"""


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")


def _landing_enabled() -> bool:
    import os

    return os.environ.get("JOURNEY_ERASE_LANDING", "true").strip().lower() not in {
        "false",
        "0",
        "no",
        "off",
    }


def erase(
    con: duckdb.DuckDBPyConnection,
    key: str,
    request_ids: Sequence[str] | None,
    landing_root: Path | None,
    *,
    window: tuple[date, date] | None = None,
    raw_only: bool = False,
) -> ErasureResult:
    """Delete every row keyed by the tombstone entries of `request_ids` (None: the whole
    tombstone) from every table but `privacy`'s, and their records from the landing files
    (unless JOURNEY_ERASE_LANDING=false or `landing_root` is None).

    `window` and `raw_only` make the sweep of a refresh: raw rows of the run's days only
    (a re-delivered export of an erased person), everything downstream being filtered by
    staging already."""
    result = ErasureResult()
    keys = f"_erase_keys_{uuid.uuid4().hex[:12]}"
    con.execute(
        f"create temp table {keys} as select distinct identifier_key, request_id "
        f"from {TOMBSTONE} "
        + ("where request_id in (select unnest(?::varchar[]))" if request_ids is not None else ""),
        [list(request_ids)] if request_ids is not None else [],
    )
    try:
        if not con.execute(f"select count(*) from {keys}").fetchone()[0]:
            return result
        key_set = {row[0] for row in con.execute(f"select identifier_key from {keys}").fetchall()}
        targets = [t for t in discover_targets(con) if not raw_only or t.schema == "raw"]
        params = {"first": window[0], "last": window[1]} if window else {}
        with _keyed(con, key):
            # Before the parent rows go: they are what says which derived rows are the person's.
            _erase_derived(con, keys, targets, params, window, result)
            _erase_raw(con, key, keys, key_set, targets, params, window, landing_root, result)
            for target in targets:
                if target.schema == "raw":
                    continue
                with _transaction(con):
                    counts = _delete_hits(con, target, keys, None, {})
                for request_id, count in counts.items():
                    result.rows[request_id][target.label] = count
    finally:
        con.execute(f"drop table if exists {keys}")
    return result


def _delete_hits(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    keys: str,
    window: tuple[date, date] | None,
    params: dict[str, date],
) -> dict[str, int]:
    """Delete the target's matching rows (inside the caller's transaction); counts per request."""
    hits = f"_erase_hits_{uuid.uuid4().hex[:12]}"
    con.execute(f"create temp table {hits} as {_hits_sql(target, keys, window)}", params)
    try:
        counts = dict(
            con.execute(f"select request_id, count(*) from {hits} group by all").fetchall()
        )
        if counts:
            con.execute(f"delete from {target.relation} where rowid in (select rid from {hits})")
        return counts
    finally:
        con.execute(f"drop table if exists {hits}")


def _erase_derived(
    con: duckdb.DuckDBPyConnection,
    keys: str,
    targets: list[Target],
    params: dict[str, date],
    window: tuple[date, date] | None,
    result: ErasureResult,
) -> None:
    """Rows of DERIVED_RAW_TABLES (written at ingestion beside a parent table, keyed by its id
    alone, no identifier column) whose id is on a parent row being erased, every partition."""
    parents = {t.name: t for t in targets if t.schema == "raw"}
    for table, parent, id_column in DERIVED_RAW_TABLES:
        target = parents.get(parent)
        if target is None or not _table_exists(con, "raw", table):
            continue
        column = quote_ident(id_column)
        relation = f"raw.{quote_ident(table)}"
        ids = f"_erase_ids_{uuid.uuid4().hex[:12]}"
        con.execute(
            f"""
            create temp table {ids} as
            select trim(parent.{column}) as id, min(hits.request_id) as request_id
            from ({_hits_sql(target, keys, window)}) as hits
            inner join {target.relation} as parent on parent.rowid = hits.rid
            group by 1
            """,
            params,
        )
        try:
            with _transaction(con):
                counts = dict(
                    con.execute(
                        f"select ids.request_id, count(*) from {relation} as d "
                        f"inner join {ids} as ids on ids.id = d.{column} group by all"
                    ).fetchall()
                )
                con.execute(f"delete from {relation} where {column} in (select id from {ids})")
        finally:
            con.execute(f"drop table if exists {ids}")
        for request_id, count in counts.items():
            result.rows[request_id][f"raw.{table}"] = count


def _erase_raw(
    con: duckdb.DuckDBPyConnection,
    key: str,
    keys: str,
    key_set: set[str],
    targets: list[Target],
    params: dict[str, date],
    window: tuple[date, date] | None,
    landing_root: Path | None,
    result: ErasureResult,
) -> None:
    """Raw tables (rows and rejects) and their landing files: find the matching rows, rewrite
    the files they came from, then delete the rows and renumber the rest of those files, one
    transaction per table. Files first: a crash in between leaves rows whose next attempt
    notices the file already rewritten (its record count) and only deletes."""
    raw = [t for t in targets if t.schema == "raw"]
    hits: dict[str, list[tuple[str, str | None, int | None]]] = {}
    for target in raw:
        hits[target.label] = [
            tuple(row)
            for row in con.execute(
                f"select request_id, source_file, line_number "
                f"from ({_hits_sql(target, keys, window)})",
                params,
            ).fetchall()
        ]
    renumber: dict[str, dict[str, dict[int, int]]] = defaultdict(dict)  # table → file → map
    if landing_root is not None and _landing_enabled():
        by_source: dict[str, list[Target]] = defaultdict(list)
        for target in raw:
            if target.lineage:
                by_source[target.name.removesuffix("__rejected")].append(target)
        for source, tables in sorted(by_source.items()):
            _rewrite_source_files(
                con, key, key_set, source, tables, hits, landing_root, renumber, result
            )
    for target in raw:
        with _transaction(con):
            counts = _delete_hits(con, target, keys, window, params)
            _renumber(con, target, renumber.get(target.label, {}))
        for request_id, count in counts.items():
            result.rows[request_id][target.label] = count


def _rewrite_source_files(
    con: duckdb.DuckDBPyConnection,
    key: str,
    key_set: set[str],
    source: str,
    tables: list[Target],
    hits: dict[str, list[tuple[str, str | None, int | None]]],
    landing_root: Path,
    renumber: dict[str, dict[str, dict[int, int]]],
    result: ErasureResult,
) -> None:
    from orchestration.ingest.loaders import count_data_lines

    removed: dict[str, set[int]] = defaultdict(set)
    requests_of: dict[str, set[str]] = defaultdict(set)
    for target in tables:
        for request_id, source_file, line_number in hits[target.label]:
            if source_file is not None and line_number is not None:
                removed[source_file].add(int(line_number))
                requests_of[source_file].add(request_id)
    # Every record start of the affected files, one query per table (not per file).
    starts_of: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for target in tables:
        for source_file, line_number in con.execute(
            f"select _source_file, _line_number from {target.relation} "
            "where _source_file in (select unnest(?::varchar[]))",
            [sorted(removed)],
        ).fetchall():
            starts_of[source_file][target.label].append(int(line_number))
    for source_file in sorted(removed):
        path = landing_root / source_file
        if not path.is_file():
            continue  # the file is gone: nothing to rewrite
        starts_by_table = {t.label: starts_of[source_file].get(t.label, []) for t in tables}
        starts = [line for lines in starts_by_table.values() for line in lines]
        records_in_file = count_data_lines(path, source)
        data = path.read_bytes()
        if records_in_file == len(starts):
            texts = record_texts(data, starts, removed[source_file])
            bad = [line for line, text in texts.items() if not _holds_key(text, key, key_set)]
            if bad:
                result.warnings.append(
                    f"{source_file}: lines {sorted(bad)[:5]} hold no erased identifier; the file "
                    "changed since it was loaded and was left as it is (reload it)"
                )
                continue
            rewrite = remove_records(data, starts, removed[source_file])
            replace_atomically(path, rewrite.data)
        elif records_in_file == len(starts) - len(removed[source_file]):
            # An earlier attempt rewrote the file and stopped before deleting the rows.
            rewrite = remove_records(_placeholder(starts), starts, removed[source_file])
        else:
            result.warnings.append(
                f"{source_file}: {records_in_file} record(s) in the file but "
                f"{len(starts)} loaded; the file changed since it was loaded and was left "
                "as it is (reload it, then the next refresh removes the erased records)"
            )
            continue
        for request_id in requests_of[source_file]:
            result.files[request_id].add(source_file)
        for label, lines in starts_by_table.items():
            of_table = set(lines)
            mapping = {old: new for old, new in rewrite.renumbered.items() if old in of_table}
            if mapping:
                renumber[label][source_file] = mapping


def _placeholder(starts: Sequence[int]) -> bytes:
    """A file of as many one-line records as the highest start, for renumbering only."""
    return b"x\n" * max(starts, default=0)


def _holds_key(text: str, key: str, key_set: set[str]) -> bool:
    """Whether a record's text holds a token keyed in the tombstone: a check that the file
    still is what was loaded before a record is cut out of it."""
    for token in re.findall(TOKEN_PATTERN, text):
        for identifier_type in IDENTIFIER_TYPES:
            value = token.lower() if identifier_type == "email" else token
            if keyed_hash(key, f"{identifier_type}:{value}") in key_set:
                return True
    return False


def _renumber(
    con: duckdb.DuckDBPyConnection, target: Target, by_file: dict[str, dict[int, int]]
) -> None:
    """New first lines of the records kept in rewritten files: one update per table."""
    rows = [(f, old, new) for f, mapping in by_file.items() for old, new in mapping.items()]
    if not rows:
        return
    files, olds, news = (list(column) for column in zip(*rows, strict=True))
    con.execute(
        f"""
        update {target.relation} as t
        set _line_number = m.new_line
        from (
            select unnest(?::varchar[]) as source_file, unnest(?::bigint[]) as old_line,
                   unnest(?::bigint[]) as new_line
        ) as m
        where t._source_file = m.source_file and t._line_number = m.old_line
        """,
        [files, olds, news],
    )


def log_requests(
    con: duckdb.DuckDBPyConnection, requests: Sequence[Request], result: ErasureResult
) -> None:
    """One log row per applied request (an opt-out removes nothing: dbt clears its consent)."""
    applied_at = datetime.now(UTC).replace(tzinfo=None)
    with _transaction(con):
        for request in requests:
            tables = {t: n for t, n in result.rows.get(request.request_id, {}).items() if n}
            con.execute(
                f"insert into {ERASURE_LOG} values (?, ?, ?, ?, ?, ?, ?)",
                [
                    request.request_id,
                    request.request_type,
                    request.received_at,
                    applied_at,
                    len(tables),
                    sum(tables.values()),
                    len(result.files.get(request.request_id, ())),
                ],
            )
            for table, count in sorted(tables.items()):
                con.execute(
                    f"insert into {ERASURE_LOG_TABLES} values (?, ?, ?)",
                    [request.request_id, table, count],
                )


def remaining_rows(
    con: duckdb.DuckDBPyConnection, key: str, *, schemas: Sequence[str] | None = None
) -> dict[str, int]:
    """Rows of each table (outside `privacy`) still keyed by the tombstone: all zero after a
    successful erasure. Costs one hashed scan of every identifier column."""
    result: dict[str, int] = {}
    keys = f"_erase_keys_{uuid.uuid4().hex[:12]}"
    con.execute(
        f"create temp table {keys} as select distinct identifier_key, request_id from {TOMBSTONE}"
    )
    try:
        if not con.execute(f"select count(*) from {keys}").fetchone()[0]:
            return result
        with _keyed(con, key):
            for target in discover_targets(con):
                if schemas is not None and target.schema not in schemas:
                    continue
                count = con.execute(
                    f"select count(*) from ({_hits_sql(target, keys, None)})"
                ).fetchone()[0]
                if count:
                    result[target.label] = count
    finally:
        con.execute(f"drop table if exists {keys}")
    return result
