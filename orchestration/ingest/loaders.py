"""Load the landing files of a range of days into `raw.<source>` and `raw.<source>__rejected`.

Plain functions on a DuckDB connection (no Dagster), so they are tested without it.

Set-based: a range of days is a few DuckDB statements over all of its files at once
(`read_csv` over the list of files with `filename = true` and `store_rejects`, or one parse
of every JSON line of the range), then ONE transaction that deletes the range's partitions
from both tables and inserts the new rows. A missing day costs one `stat`.

Python reads each file once to learn the physical line each record starts on, which DuckDB
does not report for accepted rows (a file without any quote character needs no scanning:
record n is line n), and checks the header before DuckDB sees the file.

Counting rules (the `<source>_lines_reconcile` check relies on them):
- a *data line* is a non-blank record after the header (every non-blank line of a JSON lines
  file). A quoted CSV value may span physical lines; the record counts once and
  `_line_number` is the physical line it starts on (header = line 1);
- blank lines are not data lines: they are counted in `blank_lines` and otherwise ignored;
- lines read = rows loaded + rows rejected, for every file.
"""

from __future__ import annotations

import csv
import json
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from orchestration.ingest.contract import (
    DELIMITED_FORMATS,
    EMAIL_IN_TEXT,
    METADATA_COLUMNS,
    PII_COLUMNS,
    PII_PAYLOAD_KEYS,
    SOURCE_COLUMNS,
    TimestampWindow,
    ensure_raw_tables,
    file_extension,
    quote_ident,
    raw_table,
    rejected_table,
    required_columns,
    row_rules,
    timestamp_rules,
)
from orchestration.ingest.sentiment import SENTIMENT_SOURCE, SentimentLoad, score_ticket_days

BOM = b"\xef\xbb\xbf"
PREVIEW_ROWS = 5
MASK = "***"
# A value DuckDB quotes in a reject reason: `Could not convert string "…" to …`.
QUOTED_VALUE = re.compile(r'"[^"]*"')
# RFC 4180 quoted field, with "" as the escaped quote; [^"] also matches line breaks.
_QUOTED_FIELD = re.compile(rb'"[^"]*(?:""[^"]*)*"')


class LoadError(Exception):
    """A landing file that cannot be loaded at all; the message names the file."""


@dataclass
class LoadResult:
    """What one partition (one file) received."""

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
class RangeLoad:
    """What a load of several days of one source did, per partition and in total."""

    source: str
    partitions: list[LoadResult]
    seconds: float = 0.0
    # First rows of the range, personal data masked (PII_COLUMNS).
    preview: list[dict[str, Any]] = field(default_factory=list)
    # support_tickets only: the days' ticket sentiment written to raw (ingest/sentiment.py).
    sentiment: SentimentLoad | None = None

    @property
    def rows_loaded(self) -> int:
        return sum(p.rows_loaded for p in self.partitions)

    @property
    def rows_rejected(self) -> int:
        return sum(p.rows_rejected for p in self.partitions)

    @property
    def files(self) -> int:
        return sum(not p.missing for p in self.partitions)

    @property
    def file_bytes(self) -> int:
        return sum(p.file_bytes for p in self.partitions)


@dataclass
class CsvRecords:
    """Record boundaries of a delimited file; index 0 is the header."""

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
class _File:
    """One landing file of the range, read and checked, waiting for DuckDB."""

    result: LoadResult
    path: Path
    data: bytes
    header: tuple[str, ...] = ()
    records: CsvRecords | None = None
    accepted_lines: list[int] = field(default_factory=list)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """First column of the single result row; fetchall() so that no result stays open."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0]


def landing_path(landing_root: Path, source: str, partition_date: date) -> Path:
    return landing_root / source / f"{partition_date.isoformat()}.{file_extension(source)}"


def source_file_name(path: Path, landing_root: Path) -> str:
    """Path relative to the landing dir (`orders/2026-01-05.csv`), as stored in `_source_file`."""
    return _relative_name(path, landing_root.resolve())


def _relative_name(path: Path, resolved_root: Path) -> str:
    """`source_file_name` with the landing dir resolved once per range, not once per file."""
    try:
        return path.resolve().relative_to(resolved_root).as_posix()
    except ValueError:
        return path.as_posix()


def line_break(data: bytes) -> bytes:
    """The file's line break: LF (CRLF files end their lines in CR + LF), or CR alone for a
    file without any LF (classic Mac OS, some Excel exports). DuckDB's CSV reader accepts
    both, so the line scanner must split CR-only files on CR to agree with it."""
    return b"\r" if b"\n" not in data and b"\r" in data else b"\n"


def _split_records(data: bytes, newline: bytes = b"\n") -> CsvRecords:
    """Records of a file without quoting: one per physical line (C-speed split)."""
    starts, ends, blank = [], [], []
    pos = 0
    for line in data.split(newline):
        starts.append(pos)
        ends.append(pos + len(line))
        blank.append(line in (b"", b"\r"))
        pos += len(line) + 1
    if data.endswith(newline):  # the final line break does not open another record
        for column in (starts, ends, blank):
            column.pop()
    return CsvRecords(starts, ends, list(range(1, len(starts) + 1)), blank)


def scan_csv_records(data: bytes, delimiter: bytes = b",", quoted: bool = True) -> CsvRecords:
    """Split delimited bytes into records the way DuckDB's strict RFC 4180 parser does.

    A quote opens a quoted value only at the start of a field (elsewhere it is a literal, as
    in DuckDB); an unterminated quoted value runs to the end of the file. After a quoted
    value, the rest of the field up to the next delimiter is skipped (DuckDB rejects it).
    """
    newline = line_break(data)
    if not quoted or b'"' not in data:
        return _split_records(data, newline)
    starts: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    blank: list[bool] = []
    opening = delimiter + b'"'
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
                    line += data.count(newline, start, n)
                    end = n
                    break
                line += data.count(newline, p, match.end())
                p = match.end()
            found = data.find(newline, p)
            stop = n if found == -1 else found
            next_quoted = data.find(opening, p, stop)
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


def _scan(data: bytes, source: str) -> CsvRecords:
    delimiter, quote = DELIMITED_FORMATS[file_extension(source)]
    return scan_csv_records(data, delimiter.encode(), quoted=bool(quote))


def count_data_lines(path: Path, source: str) -> int:
    """Data lines of a landing file by the counting rules above (0 when missing)."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    if not data:
        return 0
    if file_extension(source) != "jsonl":
        records = _scan(data, source)
        return sum(1 for b in records.blank[1:] if not b)
    return sum(1 for line in _split_lines(data) if line.strip())


# --- the public entry points ----------------------------------------------------------------


def load_partitions(
    con: duckdb.DuckDBPyConnection,
    source: str,
    days: Sequence[date],
    landing_root: Path,
    *,
    preview: bool = True,
) -> RangeLoad:
    """Load `<landing>/<source>/<day>.<ext>` for every day, replacing what those days held.

    All or nothing: one transaction swaps every day of the range. A missing or empty file
    leaves its day empty (with a warning), it is not an error: a source may legitimately
    deliver nothing. Raises LoadError for a file that cannot be read at all (e.g. a required
    column is missing from the header); then no day of the range changes.
    """
    return _load(
        con,
        source,
        [(day, landing_path(landing_root, source, day)) for day in days],
        landing_root,
        preview=preview,
    )


def load_file(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    partition_date: date,
    landing_root: Path,
) -> LoadResult:
    """Load one landing file as the rows of `partition_date` (a range of one day)."""
    loaded = _load(con, source, [(partition_date, path)], landing_root, preview=True)
    [result] = loaded.partitions
    result.preview = loaded.preview
    return result


def _load(
    con: duckdb.DuckDBPyConnection,
    source: str,
    files: Sequence[tuple[date, Path]],
    landing_root: Path,
    *,
    preview: bool,
) -> RangeLoad:
    started = time.perf_counter()
    ensure_raw_tables(con, [source])
    results: list[LoadResult] = []
    present: list[_File] = []
    root = landing_root.resolve()
    for day, path in files:
        result = LoadResult(source, day, _relative_name(path, root))
        results.append(result)
        try:
            # DuckDB reads JSON lines itself; delimited files are scanned by Python.
            data = path.read_bytes() if file_extension(source) != "jsonl" else b""
            size = len(data) if data else path.stat().st_size
        except FileNotFoundError:
            result.missing = True
            result.warnings.append(f"{result.source_file}: file not found; partition left empty")
            continue
        result.file_bytes = size
        if not size:
            result.warnings.append(
                f"{result.source_file}: empty file (0 bytes); partition left empty"
            )
            continue
        present.append(_File(result, path, data))

    with _utc_session(con), _temp_names(con) as names:
        if file_extension(source) == "jsonl":
            _stage_jsonl(con, source, present, names)
        else:
            _stage_delimited(con, source, present, names)
        _swap(con, source, [day for day, _ in files], names)
        _count_per_partition(con, names, present)
        first_rows = _preview(con, names["accepted"]) if preview and present else []
    # Scores follow the rows they were computed from: every load of ticket days rescores them.
    days = [day for day, _ in files]
    sentiment = score_ticket_days(con, days) if source == SENTIMENT_SOURCE else None

    for item in present:
        result = item.result
        result.lines_read = result.rows_loaded + result.rows_rejected
        if result.blank_lines:
            result.warnings.append(
                f"{result.source_file}: {result.blank_lines} blank line(s) skipped"
            )
        if result.rows_rejected:
            result.warnings.append(
                f"{result.source_file}: {result.rows_rejected} of {result.lines_read} line(s) "
                f"rejected, see {rejected_table(source)}"
            )
    return RangeLoad(source, results, time.perf_counter() - started, first_rows, sentiment)


@contextmanager
def _utc_session(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Timestamps without an offset are UTC (the contract), whatever the caller's session."""
    previous = scalar(con, "select current_setting('TimeZone')")
    if previous != "UTC":
        con.execute("set TimeZone = 'UTC'")
    try:
        yield
    finally:
        if previous != "UTC":
            con.execute(f"set TimeZone = '{previous}'")


@contextmanager
def _temp_names(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, str]]:
    """Unique names for the staging objects of one load, dropped afterwards."""
    suffix = uuid.uuid4().hex[:12]
    kinds = ("accepted", "rejects", "scan", "staged", "group", "files", "lines", "reject_rows")
    names = {k: f"_ingest_{k}_{suffix}" for k in kinds}
    try:
        yield names
    finally:
        for name in names.values():
            # Each name is a temp table, a temp view or a registered Arrow view; dropping
            # one kind under another kind's name is an error, hence suppress.
            with suppress(duckdb.Error):
                con.unregister(name)
            with suppress(duckdb.CatalogException):
                con.execute(f"drop view if exists {name}")
            with suppress(duckdb.CatalogException):
                con.execute(f"drop table if exists {name}")


# --- delimited files (CSV, TSV) ---------------------------------------------------------------


def _read_header(item: _File, source: str) -> tuple[str, ...]:
    assert item.records is not None
    records, source_file = item.records, item.result.source_file
    raw = item.data[records.starts[0] : records.ends[0]].removeprefix(BOM).removesuffix(b"\r")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"{source_file}: line 1: the header is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start}); re-export the file as UTF-8"
        ) from None
    if not text.strip():
        raise LoadError(f"{source_file}: line 1 is blank; expected the header")
    delimiter, quote = DELIMITED_FORMATS[file_extension(source)]
    reader = csv.reader(
        [text], delimiter=delimiter, quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE
    )
    try:
        names = [name.strip() for name in next(reader)]
    except csv.Error as exc:
        raise LoadError(f"{source_file}: line 1: cannot read the header: {exc}") from None
    expected = SOURCE_COLUMNS[source]
    missing = [c for c in required_columns(source) if c not in names]
    if missing and not set(names) & set(expected):
        # No expected name at all: line 1 is likely a data row (a missing header), whose
        # values (emails, names) must not reach the error, the run log and Dagster.
        raise LoadError(
            f"{source_file}: line 1: missing required column(s) {', '.join(missing)} "
            f"({len(names)} field(s), no expected column name: is the header row missing?); "
            "see docs/raw_tables.md"
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LoadError(f"{source_file}: line 1: duplicate column(s) {', '.join(duplicates)}")
    if missing:
        raise LoadError(
            f"{source_file}: line 1: missing required column(s) {', '.join(missing)} "
            f"(header has: {', '.join(names)}); see docs/raw_tables.md"
        )
    unknown = [c for c in names if c not in expected]
    if unknown:
        # Exports grow columns over time; loading the known ones keeps the pipeline running.
        item.result.warnings.append(
            f"{source_file}: line 1: unknown column(s) {', '.join(unknown)} ignored "
            "(not in the contract, docs/raw_tables.md)"
        )
    return tuple(names)


def _read_csv_sql(source: str, header: Sequence[str], names: dict[str, str]) -> str:
    """`read_csv` over a list of files (parameter 1) that share `header`."""
    delimiter, quote = DELIMITED_FORMATS[file_extension(source)]
    return f"""
        read_csv(
            ?, columns = ?, header = true, auto_detect = false,
            delim = '{delimiter}', quote = '{quote}', escape = '{quote}',
            strict_mode = true, null_padding = false, encoding = 'utf-8', filename = true,
            store_rejects = true, rejects_table = '{names["rejects"]}',
            rejects_scan = '{names["scan"]}'
        )"""


def _stage_delimited(
    con: duckdb.DuckDBPyConnection, source: str, files: list[_File], names: dict[str, str]
) -> None:
    """Parse every file of the range: `names["accepted"]` and `names["reject_rows"]`."""
    expected = SOURCE_COLUMNS[source]
    for item in files:
        item.records = _scan(item.data, source)
        item.header = _read_header(item, source)
        item.result.blank_lines = sum(item.records.blank[1:])
    con.execute(_create_accepted_sql(source, names["accepted"]))
    rejects: list[tuple[date, str, int, str, str | None, str]] = []

    by_header: dict[tuple[str, ...], list[_File]] = defaultdict(list)
    for item in files:
        by_header[item.header].append(item)
    # Files of one export share a header, so a range is usually a single read_csv.
    for header, group in by_header.items():
        column_types = {name: expected.get(name, "VARCHAR") for name in header}
        paths = [str(item.path) for item in group]
        sql = _read_csv_sql(source, header, names)
        try:
            con.execute(
                f"create or replace temp table {names['group']} as select * from {sql}",
                [paths, column_types],
            )
        except duckdb.Error as exc:
            _raise_for_culprit(con, source, group, column_types, names, exc)
        rejects.extend(_group_rejects(con, group, names))
        _append_accepted(con, source, header, group, names)
        for table in ("rejects", "scan"):
            con.execute(f"drop table if exists {names[table]}")
    rejects.extend(_rule_rejects(con, source, files, names))
    for item in files:
        item.data = b""  # free the bytes before the swap
    _register_rejects(con, names["reject_rows"], rejects)


def _raise_for_culprit(
    con: duckdb.DuckDBPyConnection,
    source: str,
    group: list[_File],
    column_types: dict[str, str],
    names: dict[str, str],
    exc: duckdb.Error,
) -> None:
    """A whole read failed: name the file that makes it fail (error path only)."""
    sql = _read_csv_sql(source, list(column_types), names)
    for item in group:
        for table in ("rejects", "scan"):
            con.execute(f"drop table if exists {names[table]}")
        try:
            con.execute(f"select count(*) from {sql}", [[str(item.path)], column_types]).fetchall()
        except duckdb.Error as file_exc:
            raise LoadError(
                f"{item.result.source_file}: DuckDB could not parse the file as "
                f"{file_extension(source).upper()}: {file_exc}"
            ) from file_exc
    names_list = ", ".join(item.result.source_file for item in group)
    raise LoadError(f"{names_list}: DuckDB could not parse these files together: {exc}") from exc


def _group_rejects(
    con: duckdb.DuckDBPyConnection, group: list[_File], names: dict[str, str]
) -> list[tuple[date, str, int, str, str | None, str]]:
    """DuckDB's rejects of a group, one row per record, and each file's accepted lines."""
    by_path = {str(item.path): item for item in group}
    # One rejected row per record, even when DuckDB reports several errors on it.
    errors = con.execute(
        f"""
        select s.file_path, r.line,
               string_agg(distinct r.column_name, ', ' order by r.column_name),
               string_agg(r.error_type || ': ' || r.error_message, '; ' order by r.column_idx)
        from {names["rejects"]} as r
        join {names["scan"]} as s using (scan_id, file_id)
        group by all
        order by 1, 2
        """
    ).fetchall()
    rejected: dict[str, set[int]] = defaultdict(set)
    rows = []
    for file_path, ordinal, fields, reason in errors:
        item = by_path[file_path]
        records = item.records
        assert records is not None
        index = ordinal - 1  # DuckDB numbers records (blank ones included), header = 1
        if not 0 < index < len(records.starts) or records.blank[index]:
            raise LoadError(
                f"{item.result.source_file}: DuckDB rejected record {ordinal}, which the line "
                "scanner does not find; cannot assign line numbers reliably. "
                "Check the file's quoting."
            )
        rejected[file_path].add(index)
        rows.append(
            (
                item.result.partition_date,
                item.result.source_file,
                records.lines[index],
                records.text(item.data, index),
                fields,
                reason,
            )
        )
    for item in group:
        records, skip = item.records, rejected[str(item.path)]
        assert records is not None
        item.accepted_lines = [
            records.lines[i]
            for i in range(1, len(records.starts))
            if not records.blank[i] and i not in skip
        ]
    return rows


def _create_accepted_sql(source: str, table: str) -> str:
    columns = {
        **SOURCE_COLUMNS[source],
        "_partition_date": "DATE",
        "_source_file": "VARCHAR",
        "_line_number": "BIGINT",
    }
    body = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns.items())
    return f"create temp table {table} ({body})"


def _append_accepted(
    con: duckdb.DuckDBPyConnection,
    source: str,
    header: tuple[str, ...],
    group: list[_File],
    names: dict[str, str],
) -> None:
    """Accepted rows of a group + their line numbers → `names["accepted"]`.

    DuckDB keeps insertion order (files in list order, rows in file order), so the n-th row
    of the group is the n-th accepted record; checked per file by name and count.
    """
    files, parts, lines = [], [], []
    for item in group:
        accepted = item.accepted_lines
        files.append((str(item.path), len(accepted)))
        parts.append(pa.array([len(files) - 1] * len(accepted), pa.int32()))
        lines.append(pa.array(accepted, pa.int64()))
    line_map = pa.table(
        {
            "_file": pa.concat_arrays(parts) if parts else pa.array([], pa.int32()),
            "_line_number": pa.concat_arrays(lines) if lines else pa.array([], pa.int64()),
        }
    )
    file_table = pa.table(
        {
            "_file": pa.array(range(len(group)), pa.int32()),
            "filename": pa.array([f for f, _ in files], pa.string()),
            "_partition_date": pa.array(
                [item.result.partition_date for item in group], pa.date32()
            ),
            "_source_file": pa.array([item.result.source_file for item in group], pa.string()),
        }
    )
    con.register(names["lines"], line_map)
    con.register(names["files"], file_table)
    try:
        mismatched = con.execute(
            f"""
            with g as (select filename, count(*) as n from {names["group"]} group by 1),
            m as (
                select f.filename, f._source_file, count(l._file) as n
                from {names["files"]} as f left join {names["lines"]} as l using (_file)
                group by all
            )
            select m._source_file, coalesce(g.n, 0), m.n
            from m full join g using (filename)
            where m.n is distinct from coalesce(g.n, 0)
            """
        ).fetchall()
        if mismatched:
            source_file, got, want = mismatched[0]
            raise LoadError(
                f"{source_file}: DuckDB accepted {got} rows but the line scanner expects "
                f"{want}; cannot assign line numbers reliably. Check the file's quoting."
            )
        select_list = ", ".join(
            f"g.{quote_ident(c)}" if c in header else f"null::{t}"
            for c, t in SOURCE_COLUMNS[source].items()
        )
        # POSITIONAL JOIN pairs the n-th row of each side: no sort, no window.
        joined = f"""
            from {names["group"]} as g positional join {names["lines"]} as l
            join {names["files"]} as f on f._file = l._file
        """
        wrong_file = scalar(con, f"select count(*) {joined} where f.filename <> g.filename")
        if wrong_file:
            raise LoadError(
                "DuckDB returned rows out of file order; cannot assign line numbers reliably "
                f"({wrong_file} rows of {', '.join(i.result.source_file for i in group)})"
            )
        con.execute(
            f"""
            insert into {names["accepted"]}
            select {select_list}, f._partition_date, f._source_file, l._line_number {joined}
            """
        )
    finally:
        for view in ("lines", "files"):
            with suppress(duckdb.Error):
                con.unregister(names[view])


def _rule_rejects(
    con: duckdb.DuckDBPyConnection, source: str, files: list[_File], names: dict[str, str]
) -> list[tuple[date, str, int, str, str | None, str]]:
    """Rows that parse but break a contract rule leave `accepted` for the rejects."""
    rules = row_rules(source)
    if not rules:
        return []
    reason = "case " + " ".join(f"when {r.violated} then {r.reason_sql()}" for r in rules) + " end"
    field_ = "case " + " ".join(f"when {r.violated} then '{r.field}'" for r in rules) + " end"
    violations = con.execute(
        f"""
        select _source_file, _line_number, {field_}, {reason}
        from {names["accepted"]}
        where {" or ".join(f"({r.violated})" for r in rules)}
        order by 1, 2
        """
    ).fetchall()
    if not violations:
        return []
    by_file = {item.result.source_file: item for item in files}
    rows = []
    for source_file, line, field_name, why in violations:
        item = by_file[source_file]
        assert item.records is not None
        index = item.records.lines.index(line)
        text = item.records.text(item.data, index)
        rows.append((item.result.partition_date, source_file, line, text, field_name, why))
    con.execute(
        f"delete from {names['accepted']} where " + " or ".join(f"({r.violated})" for r in rules)
    )
    return rows


def _register_rejects(
    con: duckdb.DuckDBPyConnection,
    view: str,
    rows: list[tuple[date, str, int, str, str | None, str]],
) -> None:
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 6
    con.register(
        view,
        pa.table(
            {
                "_partition_date": pa.array(columns[0], pa.date32()),
                "_source_file": pa.array(columns[1], pa.string()),
                "_line_number": pa.array(columns[2], pa.int64()),
                "raw_line": pa.array(columns[3], pa.string()),
                "field": pa.array(columns[4], pa.string()),
                "reason": pa.array(columns[5], pa.string()),
            }
        ),
    )


# --- JSON lines -------------------------------------------------------------------------------


def _split_lines(data: bytes) -> list[bytes]:
    lines = data.removeprefix(BOM).split(line_break(data))
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


# JSON whitespace plus vertical tab and form feed: a line of only these is blank (RE2 escapes).
_BLANK_LINE = r"[ \t\v\f\r]*"
_WEB_EVENT_PATHS = (
    "['$.messageId', '$.type', '$.anonymousId', '$.userId', '$.timestamp', '$.event']"
)


def _split_lines_sql(scans: int) -> str:
    """Physical lines of the files `$paths` (with `$days`, `$source_files` alike), in SQL.

    `read_blob` + `decode` (NULL for a file that is not UTF-8: no rows, Python splits it) +
    `string_split`; the position in the list is the physical line. Each file's day and name
    are looked up by its position in `$paths` (a join would move every file's bytes).
    `read_blob` returns all its files in one chunk, which one thread would then split and
    parse alone: `$paths_0` … `$paths_<scans - 1>` share the files out, one scan per thread.
    """
    blobs = " union all ".join(f"select * from read_blob($paths_{i})" for i in range(scans))
    return f"""
        with blobs as (
            select list_position($paths, filename) as file_index,
                   try(decode(content)) as text
            from ({blobs})
        ),
        split as (
            select file_index,
                   case when starts_with(text, chr(65279)) then text[2:] else text end as text
            from blobs
        ),
        lines as (
            select file_index,
                   string_split(
                       case
                           when not contains(text, chr(13)) then text
                           -- CRLF files: the CR before each LF is not part of the line
                           when contains(text, chr(10))
                               then replace(text, chr(13) || chr(10), chr(10))
                           -- CR-only files (line_break): JSON text never holds a raw CR
                           else replace(text, chr(13), chr(10))
                       end,
                       chr(10)
                   ) as parts
            from split
        ),
        numbered as (
            select file_index, unnest(parts) as line,
                   unnest(generate_series(1, len(parts))) as _line_number, len(parts) as last
            from lines
        )
        select $days[file_index] as _partition_date,
               $source_files[file_index] as _source_file,
               _line_number,
               -- a last line without LF may still end in CR
               case when _line_number = last and suffix(line, chr(13))
                   then line[:-2] else line end as raw_line,
               true as utf8_ok
        from numbered
        -- the final line break does not open another line
        where not (_line_number = last and line = '')
    """


def _parse_web_events_sql(lines: str) -> str:
    """Validate and extract every line of `lines` in one pass (no intermediate table).

    Two JSON parses per line: `try_cast(… as json)` (validates; keeps the text as is, so the
    payload is the original line) and one `json_extract_string` with a list of paths. The
    reason CASE follows the order of the contract's rejection rules; the first failure wins.
    Accepted rows carry the typed columns and `payload`, rejected ones only `raw_line`.
    """
    # The contract's timestamp window (TIMESTAMP_CHECKS) on the parsed `event_timestamp`.
    window_checks = " ".join(
        f"when {rule.violated} then {rule.reason_sql()}"
        for rule in timestamp_rules("web_events", TimestampWindow.from_env())
    )
    return f"""
        with lines as ({lines}),
        parsed as (
            select *,
                   -- cheap test first: a JSON line starts with '{{'
                   not starts_with(raw_line, '{{')
                       and regexp_full_match(raw_line, '{_BLANK_LINE}') as blank,
                   case when utf8_ok and not blank then try_cast(raw_line as json) end as j
            from lines
        ),
        extracted as (
            select *,
                   case when starts_with(raw_line, '{{') then j is not null
                       else json_type(j) = 'OBJECT' end as is_object,
                   case when j is not null and is_object
                       then json_extract_string(j, {_WEB_EVENT_PATHS}) end as f
            from parsed
        ),
        fields as (
            select _partition_date, _source_file, _line_number, raw_line, utf8_ok, blank, j,
                   is_object,
                   nullif(trim(f[1]), '') as message_id,
                   nullif(trim(f[2]), '') as type,
                   nullif(trim(f[3]), '') as anonymous_id,
                   nullif(trim(f[4]), '') as user_id,
                   f[5] as timestamp_text,
                   try_cast(f[5] as timestamptz) as event_timestamp,
                   nullif(f[6], '') as event
            from extracted
        ),
        checked as (
            select *,
                   case
                       when blank then null
                       when not utf8_ok then 'invalid UTF-8'
                       when j is null then 'invalid JSON'
                       when not is_object then 'not a JSON object'
                       when message_id is null then 'missing messageId'
                       when type is null then 'missing type'
                       when anonymous_id is null and user_id is null
                           then 'neither anonymousId nor userId'
                       when timestamp_text is null then 'missing timestamp'
                       when event_timestamp is null
                           then 'unparseable timestamp ' || to_json(timestamp_text)
                       {window_checks}
                   end as reason
            from fields
        )
        select _partition_date, _source_file, _line_number, blank, reason,
               case
                   when reason is null or not utf8_ok or j is null or not is_object then null
                   when message_id is null then 'messageId'
                   when type is null then 'type'
                   when anonymous_id is null and user_id is null then 'anonymousId, userId'
                   else 'timestamp'
               end as field,
               message_id, type, event, anonymous_id, user_id, event_timestamp,
               case when reason is null then j end as payload,
               case when reason is not null then raw_line end as raw_line
        from checked
    """


def _stage_jsonl(
    con: duckdb.DuckDBPyConnection, source: str, files: list[_File], names: dict[str, str]
) -> None:
    """Every line of every file of the range, split, validated and extracted in one statement.

    The result (`names["staged"]`) is materialized once; `accepted` and `reject_rows` are
    views over it. A file that is not valid UTF-8 is split by Python instead, so that only
    its bad lines are rejected.
    """
    paths = [str(item.path) for item in files]
    scans = max(1, min(len(paths), scalar(con, "select current_setting('threads')")))
    previous_order = scalar(con, "select current_setting('preserve_insertion_order')")
    # Rows carry their file and line, so their order does not matter; keeping it would make
    # the threads wait on each other while they fill the table.
    con.execute("set session preserve_insertion_order = false")
    try:
        con.execute(
            f"create temp table {names['staged']} as "
            + _parse_web_events_sql(_split_lines_sql(scans)),
            {
                "paths": paths,
                "days": [item.result.partition_date for item in files],
                "source_files": [item.result.source_file for item in files],
                # round robin: the scans walk through the range side by side, so rows of
                # nearby days stay close together in the table
                **{f"paths_{i}": paths[i::scans] for i in range(scans)},
            },
        )
    finally:
        con.execute(f"set session preserve_insertion_order = {previous_order}")
    count_blanks = (
        f"select _source_file, count(*) filter (where blank) from {names['staged']} group by 1"
    )
    blanks = dict(con.execute(count_blanks).fetchall())
    # A decodable file has at least one row (a blank line is a row): one missing here is not
    # UTF-8.
    not_utf8 = [item for item in files if item.result.source_file not in blanks]
    for item in not_utf8:
        texts, valid = _decode_lines(item.path.read_bytes())
        rows = pa.table(
            {
                "_partition_date": pa.array([item.result.partition_date] * len(texts), pa.date32()),
                "_source_file": pa.array([item.result.source_file] * len(texts), pa.string()),
                "_line_number": pa.array(range(1, len(texts) + 1), pa.int64()),
                "raw_line": pa.array(texts, pa.string()),
                "utf8_ok": pa.array(valid, pa.bool_()),
            }
        )
        con.register(names["lines"], rows)
        con.execute(
            f"insert into {names['staged']} "
            + _parse_web_events_sql(f"select * from {names['lines']}")
        )
        con.unregister(names["lines"])
    if not_utf8:
        blanks = dict(con.execute(count_blanks).fetchall())
    for item in files:
        item.result.blank_lines = blanks.get(item.result.source_file, 0)
    columns = ", ".join(quote_ident(c) for c in SOURCE_COLUMNS[source])
    con.execute(
        f"""
        create temp view {names["accepted"]} as
        select {columns}, _partition_date, _source_file, _line_number
        from {names["staged"]}
        where not blank and reason is null
        """
    )
    con.execute(
        f"""
        create temp view {names["reject_rows"]} as
        select _partition_date, _source_file, _line_number, raw_line, field, reason
        from {names["staged"]}
        where reason is not null
        """
    )


# --- the swap, counts and preview -------------------------------------------------------------


@contextmanager
def _bulk_compression(con: duckdb.DuckDBPyConnection, source: str) -> Iterator[None]:
    """ZSTD for the row groups a bulk insert of a source with a JSON column writes.

    DuckDB's automatic choice for long unique strings (DICT_FSST) made the insert of
    `payload` the slowest step of a web_events load; ZSTD writes it 2-3x faster and 3x
    smaller, and reads it as fast (docs/ingestion.md). `force_compression` is a setting of
    the database instance, so it is set for this one statement and restored before commit
    (a checkpoint at commit compresses as usual).
    """
    if "JSON" not in SOURCE_COLUMNS[source].values():
        yield
        return
    previous = scalar(con, "select current_setting('force_compression')")
    con.execute("set force_compression = 'zstd'")
    try:
        yield
    finally:
        con.execute(f"set force_compression = '{previous}'")


def _swap(
    con: duckdb.DuckDBPyConnection, source: str, days: list[date], names: dict[str, str]
) -> None:
    """Replace every day of the range in one transaction: readers never see half a range."""
    loaded_at = datetime.now(UTC)
    columns = [*SOURCE_COLUMNS[source], *(c for c in METADATA_COLUMNS if c != "_loaded_at")]
    column_list = ", ".join(quote_ident(c) for c in columns)
    con.execute("begin transaction")
    try:
        for table in (raw_table(source), rejected_table(source)):
            con.execute(
                f"delete from {table} where _partition_date in (select unnest(?::date[]))", [days]
            )
        with _bulk_compression(con, source):
            con.execute(
                f"""
                insert into {raw_table(source)} ({column_list}, _loaded_at)
                select {column_list}, ?::timestamptz from {names["accepted"]}
                """,
                [loaded_at],
            )
        con.execute(
            f"""
            insert into {rejected_table(source)}
                (_partition_date, _source_file, _line_number, raw_line, field, reason, _loaded_at)
            select _partition_date, _source_file, _line_number, raw_line, field, reason,
                   ?::timestamptz
            from {names["reject_rows"]}
            """,
            [loaded_at],
        )
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def _count_per_partition(
    con: duckdb.DuckDBPyConnection, names: dict[str, str], files: list[_File]
) -> None:
    """Rows loaded and rejected per file, from the staged rows (two grouped counts)."""
    counts = con.execute(
        f"""
        select 'loaded', _source_file, count(*) from {names["accepted"]} group by all
        union all
        select 'rejected', _source_file, count(*) from {names["reject_rows"]} group by all
        """
    ).fetchall()
    by_file = {item.result.source_file: item.result for item in files}
    for kind, source_file, n in counts:
        result = by_file[source_file]
        if kind == "loaded":
            result.rows_loaded = n
        else:
            result.rows_rejected = n


def _is_pii_key(key: str) -> bool:
    return key.replace("_", "").replace("-", "").lower() in PII_PAYLOAD_KEYS


def _mask_json(value: Any) -> Any:
    """A JSON value with every PII_PAYLOAD_KEYS key masked at any depth, emails in text too."""
    if isinstance(value, dict):
        return {
            key: MASK if item is not None and _is_pii_key(key) else _mask_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask_json(item) for item in value]
    if isinstance(value, str):
        return EMAIL_IN_TEXT.sub(MASK, value)
    return value


def mask_pii(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the ingestion preview may show it: PII_COLUMNS replaced by `***`, the same
    keys masked inside a JSON payload (userId, anonymousId, traits, context.ip…), and any
    email address left in other text (a URL parameter) masked. Dagster keeps metadata for
    ever, beyond any erasure, so nothing here may identify a person (docs/privacy.md)."""
    masked = {}
    for name, value in row.items():
        if name in PII_COLUMNS and value is not None:
            value = MASK
        elif name == "payload" and isinstance(value, str):
            try:
                value = json.dumps(_mask_json(json.loads(value)))
            except ValueError:
                value = MASK  # not JSON: cannot tell what it holds
        elif isinstance(value, str):
            value = EMAIL_IN_TEXT.sub(MASK, value)
        masked[name] = value
    return masked


def mask_reason(field_name: str | None, reason: str) -> str:
    """A reject reason as Dagster metadata may show it: DuckDB quotes the rejected value, which
    is personal when the field is (or when a shifted column put an email in a date field)."""
    if field_name in PII_COLUMNS:
        reason = QUOTED_VALUE.sub(f'"{MASK}"', reason)
    return EMAIL_IN_TEXT.sub(MASK, reason)


def _preview(con: duckdb.DuckDBPyConnection, accepted: str) -> list[dict[str, Any]]:
    cursor = con.execute(
        f"select * from {accepted} order by _partition_date, _line_number limit {PREVIEW_ROWS}"
    )
    names = [d[0] for d in cursor.description]
    return [mask_pii(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


# --- the reconcile check ----------------------------------------------------------------------


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


def reconcile_partitions(
    con: duckdb.DuckDBPyConnection, source: str, days: Sequence[date], landing_root: Path
) -> list[Reconciliation]:
    """Recount every day's file from disk and the range's rows in both tables.

    Independent of the load on purpose: it catches rows lost or duplicated between parsing
    and the tables, and a file changed after it was loaded. Two grouped counts for the whole
    range; a missing file costs a failed open.
    """
    counts: dict[tuple[str, date], int] = {
        (kind, day): n
        for kind, day, n in con.execute(
            f"""
            select 'loaded', _partition_date, count(*) from {raw_table(source)}
            where _partition_date in (select unnest(?::date[])) group by all
            union all
            select 'rejected', _partition_date, count(*) from {rejected_table(source)}
            where _partition_date in (select unnest(?::date[])) group by all
            """,
            [list(days), list(days)],
        ).fetchall()
    }
    result = []
    root = landing_root.resolve()
    for day in days:
        path = landing_path(landing_root, source, day)
        result.append(
            Reconciliation(
                source_file=_relative_name(path, root),
                lines_in_file=count_data_lines(path, source),
                rows_loaded=counts.get(("loaded", day), 0),
                rows_rejected=counts.get(("rejected", day), 0),
            )
        )
    return result


def reconcile_partition(
    con: duckdb.DuckDBPyConnection, source: str, partition_date: date, landing_root: Path
) -> Reconciliation:
    """`reconcile_partitions` for one day."""
    [single] = reconcile_partitions(con, source, [partition_date], landing_root)
    return single


# --- the reject-rate guard --------------------------------------------------------------------

MAX_REJECT_RATE_ENV = "JOURNEY_MAX_REJECT_RATE"
MIN_REJECTED_ENV = "JOURNEY_REJECT_RATE_MIN_REJECTED"
DEFAULT_MAX_REJECT_RATE = 0.05
# A 3-line daily file with 1 bad line is 33 % rejected and says little; 3 bad lines of 3 (a
# whole small export in the wrong encoding) do. Below this many rejected lines a file, or the
# run's range, never fails the guard.
DEFAULT_MIN_REJECTED = 3
TOP_REASONS = 3
MAX_FILES_SHOWN = 3


@dataclass(frozen=True)
class RejectRateLimit:
    """When rejects fail the reconcile check: rate above `max_rate` and at least
    `min_rejected` rejected lines, in one file or over the run's range."""

    max_rate: float = DEFAULT_MAX_REJECT_RATE
    min_rejected: int = DEFAULT_MIN_REJECTED

    @classmethod
    def from_env(cls, source: str) -> RejectRateLimit:
        """`JOURNEY_MAX_REJECT_RATE_<SOURCE>` (e.g. `..._WEB_EVENTS`), else
        `JOURNEY_MAX_REJECT_RATE` (a fraction, 0.05, or a percentage, 5%), else 5 %;
        `JOURNEY_REJECT_RATE_MIN_REJECTED` (default 3)."""
        var = f"{MAX_REJECT_RATE_ENV}_{source.upper()}"
        name, text = var, os.environ.get(var, "").strip()
        if not text:
            name, text = MAX_REJECT_RATE_ENV, os.environ.get(MAX_REJECT_RATE_ENV, "").strip()
        rate = DEFAULT_MAX_REJECT_RATE
        if text:
            try:
                rate = float(text[:-1]) / 100 if text.endswith("%") else float(text)
            except ValueError:
                rate = -1.0
            if not 0 <= rate <= 1:
                raise ValueError(f"{name}={text!r}: expected a rate between 0 and 1, or 0%-100%")
        minimum = os.environ.get(MIN_REJECTED_ENV, "").strip()
        if minimum and not minimum.isdigit():
            raise ValueError(f"{MIN_REJECTED_ENV}={minimum!r}: expected a whole number")
        return cls(rate, int(minimum) if minimum else DEFAULT_MIN_REJECTED)

    def exceeded(self, lines: int, rejected: int) -> bool:
        return rejected >= max(self.min_rejected, 1) and rejected > self.max_rate * lines


@dataclass(frozen=True)
class RejectRate:
    """Rejected lines of a source over a run's days, with the files above the limit."""

    source: str
    lines: int
    rejected: int
    limit: RejectRateLimit
    files_over: list[str]  # "<file>: 40 of 40 lines rejected (100.0 %)"
    top_reasons: list[str]  # "37 × field: reason (e.g. orders/2026-01-05.csv line 2)"

    @property
    def rate(self) -> float:
        return self.rejected / self.lines if self.lines else 0.0

    @property
    def passed(self) -> bool:
        return not self.files_over and not self.limit.exceeded(self.lines, self.rejected)

    def describe(self) -> str:
        head = (
            f"{self.source}: {self.rejected:,} of {self.lines:,} line(s) rejected "
            f"({self.rate:.1%}; limit {self.limit.max_rate:.1%}, {MAX_REJECT_RATE_ENV})"
        )
        parts = [head]
        if self.files_over:
            shown = "; ".join(self.files_over[:MAX_FILES_SHOWN])
            more = len(self.files_over) - MAX_FILES_SHOWN
            parts.append(
                "files over the limit: " + shown + (f"; … and {more} more" if more > 0 else "")
            )
        parts += [f"top reason: {reason}" for reason in self.top_reasons]
        return "\n".join(parts)


def reject_rate(
    con: duckdb.DuckDBPyConnection,
    source: str,
    reconciliations: Sequence[Reconciliation],
    days: Sequence[date],
    limit: RejectRateLimit | None = None,
) -> RejectRate:
    """The guard of issue 12 item 12: a whole export in the wrong encoding loads zero rows
    and reconciles perfectly (every line rejected), so the rate is checked as well.

    Per file and over the run's range, both against the same limit: a daily file can be all
    bad while the range's rate stays low, and many small files can each stay under the
    minimum count while the range is mostly rejected.
    """
    limit = limit or RejectRateLimit.from_env(source)
    files_over = []
    for r in reconciliations:
        lines = r.rows_loaded + r.rows_rejected
        if limit.exceeded(lines, r.rows_rejected):
            files_over.append(
                f"{r.source_file}: {r.rows_rejected:,} of {lines:,} lines rejected "
                f"({r.rows_rejected / lines:.1%})"
            )
    lines = sum(r.rows_loaded + r.rows_rejected for r in reconciliations)
    rejected = sum(r.rows_rejected for r in reconciliations)
    top: list[str] = []
    if rejected:
        # Reasons carry values (a timestamp, DuckDB's message with the line): group on the
        # text before the first ':' and show one full example with its file and line.
        rows = con.execute(
            f"""
            select count(*), field, split_part(reason, ':', 1) as kind,
                   arg_min(reason, (_source_file, _line_number)),
                   min((_source_file, _line_number))
            from {rejected_table(source)}
            where _partition_date in (select unnest(?::date[]))
            group by all
            order by 1 desc, 2, 3
            limit {TOP_REASONS}
            """,
            [list(days)],
        ).fetchall()
        for n, field_name, _kind, example, (first_file, first_line) in rows:
            where = f"{first_file} line {first_line}"
            example = mask_reason(field_name, example[:160])  # shown in Dagster metadata
            top.append(f"{n:,} × {field_name or 'line'}: {example} (first: {where})")
    return RejectRate(source, lines, rejected, limit, files_over, top)
