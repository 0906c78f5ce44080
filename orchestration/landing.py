"""What the landing directory holds: the export days present, and files that cannot be loaded.

The command line runs exactly the range these days span, and reports misplaced files before
any work starts (one line per file, naming the file and what to do; the other files still
load), so a user's own exports need no start date or partition range typed by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.settings import SOURCES


@dataclass(frozen=True)
class LandingScan:
    """Export days found per source, and one message per file that will not be loaded."""

    days_by_source: dict[str, list[date]]
    problems: list[str] = field(default_factory=list)

    @property
    def days(self) -> list[date]:
        return sorted({day for days in self.days_by_source.values() for day in days})

    @property
    def files(self) -> int:
        return sum(len(days) for days in self.days_by_source.values())

    def within(self, first: date, last: date) -> LandingScan:
        """The files whose day has a daily partition (first..last); the others are in
        `outside_partitions` and are reported, not loaded."""
        return LandingScan(
            {s: [d for d in days if first <= d <= last] for s, days in self.days_by_source.items()},
            self.problems,
        )


def _day(stem: str) -> date | None:
    try:
        return date.fromisoformat(stem)
    except ValueError:
        return None


def scan_landing(root: Path) -> LandingScan:
    """Days of `<root>/<source>/<YYYY-MM-DD>.<ext>`; misnamed files become problems."""
    days_by_source: dict[str, list[date]] = {}
    problems: list[str] = []
    if not root.is_dir():
        return LandingScan(days_by_source, problems)
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        source = folder.name
        if source not in SOURCES:
            problems.append(
                f"{folder.name}/: not a known source (known: {', '.join(SOURCES)}); ignored"
            )
            continue
        ext = SOURCES[source]
        days = []
        for path in sorted(p for p in folder.iterdir() if p.is_file()):
            name = f"{source}/{path.name}"
            if path.name.startswith("."):
                continue
            day = _day(path.stem)
            if day is None:
                problems.append(
                    f"{name}: the file name is not a day; name it {source}/<YYYY-MM-DD>.{ext}"
                )
            elif path.suffix != f".{ext}":
                problems.append(f"{name}: {source} exports are .{ext} files; rename or convert it")
            else:
                days.append(day)
        days_by_source[source] = days
    return LandingScan(days_by_source, problems)


def earliest_landing_day(root: Path) -> date | None:
    days = scan_landing(root).days
    return days[0] if days else None


def outside_partitions(scan: LandingScan, first: date, last: date) -> list[str]:
    """One line per file whose day has no daily partition (before the start, or after today)."""
    lines = []
    for source, days in scan.days_by_source.items():
        ext = SOURCES[source]
        for day in days:
            if day < first:
                lines.append(
                    f"{source}/{day}.{ext}: {day} is before the first daily partition "
                    f"{first} (JOURNEY_START_DATE); set JOURNEY_START_DATE={day} or unset it "
                    "to start at the earliest export"
                )
            elif day > last:
                lines.append(
                    f"{source}/{day}.{ext}: {day} is after today ({last}, UTC): daily "
                    "partitions end today; fix the file name or wait for that day"
                )
    return lines


def partition_bounds(
    start_date: str | None = None, scan: LandingScan | None = None
) -> tuple[date, date]:
    """First and last daily partition: the first partition day (`start_date`, else
    JOURNEY_START_DATE, else the scan's earliest day, as `Settings.first_partition_date`
    without scanning again), and today (UTC)."""
    from orchestration.settings import get_settings

    settings = get_settings()
    first_text = start_date or settings.start_date
    if first_text is None:
        first_text = scan.days[0].isoformat() if scan and scan.days else None
    first = date.fromisoformat(first_text or settings.first_partition_date)
    return first, datetime.now(UTC).date()


def landing_problems(
    root: Path, start_date: str | None = None, scan: LandingScan | None = None
) -> list[str]:
    """Every file that will not load as it is named, one line each (for the CLI and sensor).

    None of them stops the others: a stray `latest.csv` beside the daily files, a file dated
    before the first partition or a future-dated one is reported and skipped (issue 12)."""
    scan = scan or scan_landing(root)
    first, today = partition_bounds(start_date, scan)
    return scan.problems + outside_partitions(scan, first, today)
