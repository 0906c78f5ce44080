"""Load one landing file into `raw.<source>` and `raw.<source>__rejected`.

Plain functions on a DuckDB connection (no Dagster), so they are tested without it.

DuckDB parses: `read_csv` with the contract's column types and `store_rejects` for CSV,
its JSON functions for JSON lines. Python only splits the file into records to learn the
physical line each record starts on, which DuckDB does not report for accepted CSV rows.

Counting rules (the `<source>_lines_reconcile` check relies on them):
- a *data line* is a non-blank record after the CSV header (every non-blank line of a
  JSON lines file). A quoted CSV value may span physical lines; the record counts once and
  `_line_number` is the physical line it starts on (header = line 1);
- blank lines are not data lines: they are counted in `blank_lines` and otherwise ignored;
- lines read = rows loaded + rows rejected, for every file.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.ingest.contract import (
    METADATA_COLUMNS,
    SOURCE_COLUMNS,
    ensure_raw_tables,
    file_extension,
    quote_ident,
    raw_table,
    rejected_table,
    required_columns,
)

BOM = b"\xef\xbb\xbf"
PREVIEW_ROWS = 5
# RFC 4180 quoted field, with "" as the escaped quote; [^"] also matches line breaks.
_QUOTED_FIELD = re.compile(rb'"[^"]*(?:""[^"]*)*"')


class LoadError(Exception):
    """A landing file that cannot be loaded at all; the message names the file."""


@dataclass
class LoadResult:
    source: str
    partition_date: date
    source_file: str
    lines_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    blank_lines: int = 0
    file_bytes: int = 0
    missing: bool = False
    warnings: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CsvRecords:
    """Record boundaries of a CSV file; index 0 is the header."""

    starts: list[int]
    ends: list[int]  # exclusive, before the line break
    lines: list[int]  # physical line each record starts on, 1-based
    blank: list[bool]

    def text(self, data: bytes, index: int) -> str:
        raw = data[self.starts[index] : self.ends[index]].removesuffix(b"\r")
        if index == 0:
            raw = raw.removeprefix(BOM)
        return raw.decode("utf-8", errors="replace")


@dataclass
class _Staged:
    """A file parsed into a temp table of accepted rows plus rejected rows, before the swap."""

    accepted_table: str | None
    columns: list[str]
    rejects: pa.Table
    lines_read: int
    blank_lines: int
    warnings: list[str]
    rejects_view: str = ""  # name under which `rejects` is registered on the connection


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """First column of the single result row; fetchall() so that no result stays open."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0]


def landing_path(landing_root: Path, source: str, partition_date: date) -> Path:
    return landing_root / source / f"{partition_date.isoformat()}.{file_extension(source)}"


def source_file_name(path: Path, landing_root: Path) -> str:
    """Path relative to the landing dir (`orders/2026-01-05.csv`), as stored in `_source_file`."""
    try:
        return path.resolve().relative_to(landing_root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def scan_csv_records(data: bytes) -> CsvRecords:
    """Split CSV bytes into records the way DuckDB's strict RFC 4180 parser does.

    A quote opens a quoted value only at the start of a field (elsewhere it is a literal, as
    in DuckDB); an unterminated quoted value runs to the end of the file. After a quoted
    value, the rest of the field up to the next delimiter is skipped (DuckDB rejects it).
    """
    starts: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    blank: list[bool] = []
    n = len(data)
    pos, line = 0, 1
    while pos < n:
        start, start_line = pos, line
        p = pos
        while True:
            if p < n and data[p] == 0x22:  # '"' at the start of a field
                match = _QUOTED_FIELD.match(data, p)
                if match is None:
                    p = n
                    line += data.count(b"\n", start, n)
                    end = n
                    break
                line += data.count(b"\n", p, match.end())
                p = match.end()
            newline = data.find(b"\n", p)
            stop = n if newline == -1 else newline
            next_quoted = data.find(b',"', p, stop)
            if next_quoted == -1:
                end = stop
                break
            p = next_quoted + 1
        starts.append(start)
        ends.append(end)
        lines.append(start_line)
        blank.append(data[start:end] in (b"", b"\r"))
        if end < n:  # skip the line break
            line += 1
        pos = end + 1
    return CsvRecords(starts, ends, lines, blank)


def count_data_lines(path: Path, source: str) -> int:
    """Data lines of a landing file by the counting rules above (0 when missing)."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data:
        return 0
    if file_extension(source) == "csv":
        records = scan_csv_records(data)
        return sum(1 for b in records.blank[1:] if not b)
    return sum(1 for line in _split_lines(data) if line.strip())


def load_file(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    partition_date: date,
    landing_root: Path,
) -> LoadResult:
    """Load one landing file as the rows of `partition_date`, replacing what that day held.

    A missing or empty file leaves the partition empty (with a warning), it is not an error:
    a source may legitimately deliver nothing. Raises LoadError for a file that cannot be
    read at all (e.g. a required column is missing from the header).
    """
    ensure_raw_tables(con, [source])
    result = LoadResult(source, partition_date, source_file_name(path, landing_root))
    if not path.exists():
        result.missing = True
        result.warnings.append(f"{result.source_file}: file not found; partition left empty")
        _replace_partition(con, source, partition_date, result.source_file, None)
        return result

    data = path.read_bytes()
    result.file_bytes = len(data)
    if not data:
        result.warnings.append(f"{result.source_file}: empty file (0 bytes); partition left empty")
        _replace_partition(con, source, partition_date, result.source_file, None)
        return result

    stage = _stage_jsonl if file_extension(source) == "jsonl" else _stage_csv
    with _temp_names(con) as names:
        staged = stage(con, source, path, data, result.source_file, names)
        con.register(names["reject_rows"], staged.rejects)
        staged.rejects_view = names["reject_rows"]
        _replace_partition(con, source, partition_date, result.source_file, staged)
    result.lines_read = staged.lines_read
    result.blank_lines = staged.blank_lines
    result.rows_rejected = staged.rejects.num_rows
    result.warnings.extend(staged.warnings)
    result.rows_loaded, result.preview = _loaded_summary(con, source, partition_date)
    if staged.blank_lines:
        result.warnings.append(f"{result.source_file}: {staged.blank_lines} blank line(s) skipped")
    if result.rows_rejected:
        result.warnings.append(
            f"{result.source_file}: {result.rows_rejected} of {result.lines_read} line(s) "
            f"rejected, see {rejected_table(source)}"
        )
    return result


@contextmanager
def _temp_names(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, str]]:
    """Unique names for the staging objects of one load, dropped afterwards."""
    suffix = uuid.uuid4().hex[:12]
    tables = ("accepted", "rejects", "scan", "parsed")
    views = ("lines", "reject_rows")
    names = {k: f"_ingest_{k}_{suffix}" for k in (*tables, *views)}
    try:
        yield names
    finally:
        for kind in tables:
            con.execute(f"drop table if exists {names[kind]}")
        for kind in views:
            with suppress(duckdb.Error):
                con.unregister(names[kind])


def _reject_table(rows: list[tuple[int, str, str | None, str]]) -> pa.Table:
    return pa.table(
        {
            "_line_number": pa.array([r[0] for r in rows], pa.int64()),
            "raw_line": pa.array([r[1] for r in rows], pa.string()),
            "field": pa.array([r[2] for r in rows], pa.string()),
            "reason": pa.array([r[3] for r in rows], pa.string()),
        }
    )


def _read_header(data: bytes, records: CsvRecords, source_file: str) -> list[str]:
    raw = data[records.starts[0] : records.ends[0]].removeprefix(BOM).removesuffix(b"\r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{source_file}: line 1: the header is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start}); re-export the file as UTF-8"
        ) from None
    if not text.strip():
        raise LoadError(f"{source_file}: line 1 is blank; expected the CSV header")
    names = [name.strip() for name in next(csv.reader([text]))]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LoadError(f"{source_file}: line 1: duplicate column(s) {', '.join(duplicates)}")
    return names


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    data: bytes,
    source_file: str,
    names: dict[str, str],
) -> _Staged:
    records = scan_csv_records(data)
    header = _read_header(data, records, source_file)
    expected = SOURCE_COLUMNS[source]
    missing = [c for c in required_columns(source) if c not in header]
    if missing:
        raise LoadError(
            f"{source_file}: line 1: missing required column(s) {', '.join(missing)} "
            f"(header has: {', '.join(header)}); see docs/raw_tables.md"
        )
    warnings = []
    unknown = [c for c in header if c not in expected]
    if unknown:
        # Exports grow columns over time; loading the known ones keeps the pipeline running.
        warnings.append(
            f"{source_file}: line 1: unknown column(s) {', '.join(unknown)} ignored "
            "(not in the contract, docs/raw_tables.md)"
        )
    # Unknown columns are still declared (as text) so every record has the width of the header.
    column_types = {name: expected.get(name, "VARCHAR") for name in header}
    select_list = ", ".join(
        quote_ident(c) if c in header else f"null::{t} as {quote_ident(c)}"
        for c, t in expected.items()
    )
    try:
        con.execute(
            f"""
            create temp table {names["accepted"]} as
            select {select_list}
            from read_csv(
                ?, columns = ?, header = true, auto_detect = false,
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                null_padding = false, encoding = 'utf-8',
                store_rejects = true, rejects_table = '{names["rejects"]}',
                rejects_scan = '{names["scan"]}'
            )
            """,
            [str(path), column_types],
        )
    except duckdb.Error as exc:
        raise LoadError(f"{source_file}: DuckDB could not parse the file as CSV: {exc}") from exc

    # One rejected row per record, even when DuckDB reports several errors on it.
    errors = con.execute(
        f"""
        select line,
               string_agg(distinct column_name, ', ' order by column_name),
               string_agg(error_type || ': ' || error_message, '; ' order by column_idx)
        from {names["rejects"]}
        group by line
        order by line
        """
    ).fetchall()
    rejected_indices: set[int] = set()
    reject_rows = []
    for ordinal, fields, reason in errors:
        index = ordinal - 1  # DuckDB numbers records (blank ones included), header = 1
        if not 0 < index < len(records.starts) or records.blank[index]:
            raise LoadError(
                f"{source_file}: DuckDB rejected record {ordinal}, which the line scanner does "
                "not find; cannot assign line numbers reliably. Check the file's quoting."
            )
        rejected_indices.add(index)
        reject_rows.append((records.lines[index], records.text(data, index), fields, reason))

    accepted_lines = [
        records.lines[i]
        for i in range(1, len(records.starts))
        if not records.blank[i] and i not in rejected_indices
    ]
    accepted_count = scalar(con, f"select count(*) from {names['accepted']}")
    if accepted_count != len(accepted_lines):
        raise LoadError(
            f"{source_file}: DuckDB accepted {accepted_count} rows but the line scanner expects "
            f"{len(accepted_lines)}; cannot assign line numbers reliably. Check the file's quoting."
        )
    # rowid follows insertion order, which DuckDB preserves from the scan, i.e. file order.
    line_map = pa.table(
        {
            "_row": pa.array(range(accepted_count), pa.int64()),
            "_line_number": pa.array(accepted_lines, pa.int64()),
        }
    )
    con.register(names["lines"], line_map)
    con.execute(
        f"""
        create or replace temp table {names["accepted"]} as
        select a.* exclude (_row), l._line_number
        from (select *, rowid as _row from {names["accepted"]}) as a
        join {names["lines"]} as l using (_row)
        """
    )
    return _Staged(
        accepted_table=names["accepted"],
        columns=list(expected),
        rejects=_reject_table(reject_rows),
        lines_read=len(accepted_lines) + len(reject_rows),
        blank_lines=sum(records.blank[1:]),
        warnings=warnings,
    )


def _split_lines(data: bytes) -> list[bytes]:
    lines = data.removeprefix(BOM).split(b"\n")
    if lines and lines[-1] == b"":  # the final line break does not open another line
        lines.pop()
    return [line.removesuffix(b"\r") for line in lines]


def _decode_lines(data: bytes) -> tuple[list[str], list[bool]]:
    lines = _split_lines(data)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return [line.decode("utf-8") for line in lines], [True] * len(lines)
    texts, valid = [], []
    for line in lines:
        try:
            texts.append(line.decode("utf-8"))
            valid.append(True)
        except UnicodeDecodeError:
            texts.append(line.decode("utf-8", errors="replace"))
            valid.append(False)
    return texts, valid


def _stage_jsonl(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    data: bytes,
    source_file: str,
    names: dict[str, str],
) -> _Staged:
    texts, valid = _decode_lines(data)
    kept = [i for i, text in enumerate(texts) if text.strip()]
    lines = pa.table(
        {
            "_line_number": pa.array([i + 1 for i in kept], pa.int64()),
            "raw_line": pa.array([texts[i] for i in kept], pa.string()),
            "utf8_ok": pa.array([valid[i] for i in kept], pa.bool_()),
        }
    )
    con.register(names["lines"], lines)
    # The CASE order is the order of the contract's rejection rules; the first failing wins.
    con.execute(
        f"""
        create temp table {names["parsed"]} as
        with parsed as (
            select _line_number, raw_line, utf8_ok,
                   case when utf8_ok and json_valid(raw_line) then raw_line::json end as j
            from {names["lines"]}
        ),
        fields as (
            select *,
                   json_type(j) as json_kind,
                   nullif(trim(j ->> 'messageId'), '') as message_id,
                   nullif(trim(j ->> 'type'), '') as type,
                   nullif(trim(j ->> 'anonymousId'), '') as anonymous_id,
                   nullif(trim(j ->> 'userId'), '') as user_id,
                   j ->> 'timestamp' as timestamp_text,
                   try_cast(j ->> 'timestamp' as timestamptz) as event_timestamp
            from parsed
        )
        select *,
               case
                   when not utf8_ok then 'invalid UTF-8'
                   when j is null then 'invalid JSON'
                   when json_kind <> 'OBJECT' then 'not a JSON object'
                   when message_id is null then 'missing messageId'
                   when type is null then 'missing type'
                   when anonymous_id is null and user_id is null
                       then 'neither anonymousId nor userId'
                   when timestamp_text is null then 'missing timestamp'
                   when event_timestamp is null
                       then 'unparseable timestamp ' || to_json(timestamp_text)
               end as reason,
               case
                   when not utf8_ok or j is null or json_kind <> 'OBJECT' then null
                   when message_id is null then 'messageId'
                   when type is null then 'type'
                   when anonymous_id is null and user_id is null then 'anonymousId, userId'
                   when event_timestamp is null then 'timestamp'
               end as field
        from fields
        """
    )
    con.execute(
        f"""
        create temp table {names["accepted"]} as
        select message_id, type, nullif(j ->> 'event', '') as event, anonymous_id, user_id,
               event_timestamp, j as payload, _line_number
        from {names["parsed"]}
        where reason is null
        """
    )
    rejects = con.sql(
        f"""
        select _line_number, raw_line, field, reason
        from {names["parsed"]}
        where reason is not null
        order by _line_number
        """
    ).to_arrow_table()
    return _Staged(
        accepted_table=names["accepted"],
        columns=list(SOURCE_COLUMNS[source]),
        rejects=rejects,
        lines_read=len(kept),
        blank_lines=len(texts) - len(kept),
        warnings=[],
    )


def _replace_partition(
    con: duckdb.DuckDBPyConnection,
    source: str,
    partition_date: date,
    source_file: str,
    staged: _Staged | None,
) -> None:
    """Swap the partition's rows in one transaction, so readers never see half a day."""
    loaded_at = datetime.now(UTC)
    con.execute("begin transaction")
    try:
        for table in (raw_table(source), rejected_table(source)):
            con.execute(f"delete from {table} where _partition_date = ?", [partition_date])
        if staged is not None:
            columns = ", ".join(quote_ident(c) for c in [*staged.columns, *METADATA_COLUMNS])
            source_columns = ", ".join(quote_ident(c) for c in staged.columns)
            con.execute(
                f"""
                insert into {raw_table(source)} ({columns})
                select {source_columns}, ?::date, ?, _line_number, ?::timestamptz
                from {staged.accepted_table}
                """,
                [partition_date, source_file, loaded_at],
            )
            con.execute(
                f"""
                insert into {rejected_table(source)}
                    (_partition_date, _source_file, _line_number, raw_line, field, reason,
                     _loaded_at)
                select ?::date, ?, _line_number, raw_line, field, reason, ?::timestamptz
                from {staged.rejects_view}
                """,
                [partition_date, source_file, loaded_at],
            )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _loaded_summary(
    con: duckdb.DuckDBPyConnection, source: str, partition_date: date
) -> tuple[int, list[dict[str, Any]]]:
    rows = scalar(
        con, f"select count(*) from {raw_table(source)} where _partition_date = ?", [partition_date]
    )
    cursor = con.execute(
        f"""
        select * exclude (_loaded_at) from {raw_table(source)}
        where _partition_date = ? order by _line_number limit {PREVIEW_ROWS}
        """,
        [partition_date],
    )
    names = [d[0] for d in cursor.description]
    preview = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows, preview


@dataclass(frozen=True)
class Reconciliation:
    """Lines of a partition's file against the rows that landed for that partition."""

    source_file: str
    lines_in_file: int
    rows_loaded: int
    rows_rejected: int

    @property
    def passed(self) -> bool:
        return self.lines_in_file == self.rows_loaded + self.rows_rejected

    def describe(self) -> str:
        return (
            f"{self.source_file}: {self.lines_in_file} data line(s) in the file, "
            f"{self.rows_loaded} loaded + {self.rows_rejected} rejected"
        )


def reconcile_partition(
    con: duckdb.DuckDBPyConnection, source: str, partition_date: date, landing_root: Path
) -> Reconciliation:
    """Recount the file from disk and the partition's rows in both tables.

    Independent of the LoadResult on purpose: it catches rows lost or duplicated between
    parsing and the tables, and a file changed after it was loaded.
    """
    path = landing_path(landing_root, source, partition_date)
    counts = [
        scalar(con, f"select count(*) from {table} where _partition_date = ?", [partition_date])
        for table in (raw_table(source), rejected_table(source))
    ]
    return Reconciliation(
        source_file=source_file_name(path, landing_root),
        lines_in_file=count_data_lines(path, source),
        rows_loaded=counts[0],
        rows_rejected=counts[1],
    )
