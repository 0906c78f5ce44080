"""Buffered per-(source, day) output with dirty-data injection.

People are simulated in chunks; each chunk's records are held here and appended to the
day files at the end of the chunk, so memory is bounded by the chunk, not the run.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from orchestration.demo.catalog import CORRUPTIBLE, CSV_HEADERS
from orchestration.settings import SOURCES

# The sources the demo writes: web events plus the CSV exports of the catalog. Other sources
# in SOURCES (e.g. snowplow_events) get no files, as when a user has no such export.
DEMO_SOURCES: tuple[str, ...] = tuple(s for s in SOURCES if s == "web_events" or s in CSV_HEADERS)

_TZ_CACHE: dict[int, timezone] = {}


def _tz(offset_minutes: int) -> timezone:
    tz = _TZ_CACHE.get(offset_minutes)
    if tz is None:
        tz = UTC if offset_minutes == 0 else timezone(timedelta(minutes=offset_minutes))
        _TZ_CACHE[offset_minutes] = tz
    return tz


def iso_timestamp(ts: int, offset_minutes: int = 0, *, zulu: bool = False, ms: int = -1) -> str:
    """ISO 8601 with an explicit offset; `zulu` writes UTC as `Z`, `ms` >= 0 adds millis."""
    dt = datetime.fromtimestamp(ts, _tz(offset_minutes))
    if ms >= 0:
        text = dt.replace(microsecond=ms * 1000).isoformat(timespec="milliseconds")
    else:
        text = dt.isoformat(timespec="seconds")
    if zulu and offset_minutes == 0:
        text = text[:-6] + "Z"
    return text


@dataclass
class DirtyKnobs:
    duplicate_rate: float
    late_rate: float
    offset_share: float
    malformed_rate: float

    @classmethod
    def from_rate(cls, rate: float) -> DirtyKnobs:
        # Non-UTC offsets are valid data, just inconvenient; make them visible but not rare.
        return cls(rate, rate, min(1.0, 5 * rate), rate / 10)


@dataclass
class ChunkSink:
    """Receives records from the simulation of one chunk of people."""

    start_ts: int
    days: int
    knobs: DirtyKnobs
    web: dict[int, list[tuple[int, int, str]]] = field(default_factory=lambda: defaultdict(list))
    rows: dict[tuple[str, int], list[tuple[int, int, list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    sessions: list[tuple[str, str]] = field(default_factory=list)
    identifiers: list[tuple[str, str, str]] = field(default_factory=list)
    people: list[list[str]] = field(default_factory=list)
    probabilities: list[list[str]] = field(default_factory=list)
    friction: list[list[str]] = field(default_factory=list)
    ticket_tone: list[list[str]] = field(default_factory=list)
    seq: int = 0

    @property
    def end_ts(self) -> int:
        return self.start_ts + self.days * 86400

    def ts(self, rng: random.Random, ts: int, local_offset: int, *, zulu: bool = False) -> str:
        offset = local_offset if rng.random() < self.knobs.offset_share else 0
        if offset == 0 and local_offset == 0 and rng.random() < self.knobs.offset_share:
            offset = 60  # people in UTC regions still get some non-UTC stamps
        return iso_timestamp(ts, offset, zulu=zulu)

    def web_ts(self, rng: random.Random, ts: int, local_offset: int) -> str:
        offset = local_offset if rng.random() < self.knobs.offset_share else 0
        return iso_timestamp(ts, offset, zulu=True, ms=rng.randrange(1000))

    def _delivery_day(self, rng: random.Random, day: int) -> int:
        if rng.random() < self.knobs.late_rate:
            late = day + rng.randint(1, 3)
            if late < self.days:
                return late
        return day

    def add_web(self, rng: random.Random, ts: int, event: dict, session_id: str) -> bool:
        """Queue one web event; False (and nothing written) when it falls after the window."""
        if ts >= self.end_ts or ts < self.start_ts:
            return False
        day = (ts - self.start_ts) // 86400
        line = json.dumps(event, separators=(",", ":"))
        self.seq += 1
        bucket = self.web[self._delivery_day(rng, day)]
        bucket.append((ts, self.seq, line))
        if rng.random() < self.knobs.duplicate_rate:
            # Re-sent payload: same messageId, possibly delivered on a later day.
            self.web[self._delivery_day(rng, day)].append((ts, self.seq, line))
        if rng.random() < self.knobs.malformed_rate:
            bad = dict(event)
            if rng.random() < 0.5:
                bad_line = line[: len(line) // 2]
            else:
                bad["timestamp"] = rng.choice(("not-a-timestamp", "2026-02-30T25:61:00Z"))
                bad_line = json.dumps(bad, separators=(",", ":"))
            bucket.append((ts, self.seq, bad_line))
        self.sessions.append((event["messageId"], session_id))
        return True

    def add_row(self, rng: random.Random, source: str, ts: int, row: list[str]) -> bool:
        """Queue one CSV row, partitioned by the UTC day of `ts` (its created/updated time)."""
        if ts >= self.end_ts or ts < self.start_ts:
            return False
        day = (ts - self.start_ts) // 86400
        self.seq += 1
        item = (ts, self.seq, row)
        self.rows[(source, self._delivery_day(rng, day))].append(item)
        if rng.random() < self.knobs.duplicate_rate:
            self.rows[(source, day)].append(item)
        if rng.random() < self.knobs.malformed_rate:
            ts_idx, amount_idx = CORRUPTIBLE[source]
            bad = list(row)
            if amount_idx is not None and rng.random() < 0.5:
                bad[amount_idx] = rng.choice(("N/A", "12,50", "$199.00"))
            else:
                bad[ts_idx] = rng.choice(("yesterday", "2026-13-01T00:00:00+00:00", "31/01/2026"))
            self.rows[(source, day)].append((ts, self.seq, bad))
        return True


class DayFiles:
    """Owns the landing files: resets them, then appends one chunk at a time."""

    def __init__(self, out_dir: Path, days: list[str]) -> None:
        self.out_dir = out_dir
        self.days = days
        self.rows_written: dict[str, int] = {s: 0 for s in DEMO_SOURCES}

    def path(self, source: str, day: int) -> Path:
        return self.out_dir / source / f"{self.days[day]}.{SOURCES[source]}"

    def reset(self) -> int:
        """Delete every old file of our sources, then write headers (or empty files)."""
        count = 0
        for source in DEMO_SOURCES:
            folder = self.out_dir / source
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.iterdir():
                if old.is_file():
                    old.unlink()
            for day in range(len(self.days)):
                with self.path(source, day).open("w", encoding="utf-8", newline="") as f:
                    if source in CSV_HEADERS:
                        csv.writer(f, lineterminator="\n").writerow(CSV_HEADERS[source])
                count += 1
        return count

    def append(self, sink: ChunkSink) -> None:
        for day, items in sink.web.items():
            items.sort(key=lambda item: (item[0], item[1]))
            with self.path("web_events", day).open("a", encoding="utf-8") as f:
                f.write("".join(line + "\n" for _, _, line in items))
            self.rows_written["web_events"] += len(items)
        for (source, day), items in sink.rows.items():
            items.sort(key=lambda item: (item[0], item[1]))
            with self.path(source, day).open("a", encoding="utf-8", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(row for _, _, row in items)
            self.rows_written[source] += len(items)
