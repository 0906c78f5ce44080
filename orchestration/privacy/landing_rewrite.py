"""Remove records from a landing file, byte for byte, and replace the file atomically.

Pure functions on bytes (tested without a warehouse), plus the atomic write. A record is
located by the physical line it starts on (`_line_number` of its raw or rejected row); it
ends where the next record of the same file starts. The ingestion loader skips blank lines,
so blank lines after a removed record belong to nobody and are kept.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Rewrite:
    """A file's new bytes and, for each record kept, its old → new first line."""

    data: bytes
    renumbered: dict[int, int]
    removed_records: int
    removed_lines: int


def physical_lines(data: bytes) -> list[bytes]:
    """The file's lines with their line breaks (only LF ends a line, as for the loader)."""
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:  # a last line without a line break
        lines.append(parts[-1])
    return lines


def _blank(line: bytes) -> bool:
    return not line.removeprefix(BOM).strip()


def remove_records(data: bytes, starts: Iterable[int], remove: Collection[int]) -> Rewrite:
    """`data` without the records that start on the lines in `remove`.

    `starts` are the first lines of every record of the file (header excluded): a record runs
    up to the line before the next start, less its trailing blank lines. Everything else
    (header, other records, blank lines, a missing final line break) is kept byte for byte.
    """
    lines = physical_lines(data)
    # Sets, not lists, for membership: a day of web events has thousands of records.
    start_set, remove_set = set(starts), set(remove)
    ordered = sorted(start_set)
    unknown = remove_set - start_set
    if unknown:
        raise ValueError(f"lines {sorted(unknown)} are not record starts of this file")
    drop: set[int] = set()  # 1-based physical lines
    for index, start in enumerate(ordered):
        if start not in remove_set:
            continue
        end = ordered[index + 1] - 1 if index + 1 < len(ordered) else len(lines)
        while end > start and _blank(lines[end - 1]):
            end -= 1
        drop.update(range(start, end + 1))
    kept = [line for number, line in enumerate(lines, start=1) if number not in drop]
    out = b"".join(kept)
    if 1 in drop and data.startswith(BOM) and not out.startswith(BOM):
        out = BOM + out  # the byte-order mark belongs to the file, not to its first record
    renumbered: dict[int, int] = {}
    removed_before = 0
    for number in range(1, len(lines) + 1):
        if number in drop:
            removed_before += 1
        elif number in start_set and removed_before:
            renumbered[number] = number - removed_before
    return Rewrite(out, renumbered, len(remove_set), len(drop))


def record_texts(data: bytes, starts: Iterable[int], wanted: Iterable[int]) -> dict[int, str]:
    """The text of each record starting on a line of `wanted` (for checking what is about to
    go); the file is split once, whatever the number of records."""
    lines = physical_lines(data)
    ordered = sorted(set(starts))
    position = {start: index for index, start in enumerate(ordered)}
    texts = {}
    for start in wanted:
        index = position[start]
        end = ordered[index + 1] - 1 if index + 1 < len(ordered) else len(lines)
        texts[start] = b"".join(lines[start - 1 : end]).decode("utf-8", errors="replace")
    return texts


def replace_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, rename it over `path`, fsync the
    directory: a reader (or a crash) sees the old file or the new one, never a mix. The temp
    name starts with a dot, which the landing scan ignores."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    mode = path.stat().st_mode & 0o777
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
