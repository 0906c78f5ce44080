"""Generate the demo exports: simulate people in fixed-size chunks and append each chunk's
records to the per-day landing files, plus ground-truth files for checking the pipeline.

The output is exactly a function of the arguments: every person has their own seeded RNG,
chunks are processed in a fixed order, and old files are deleted first.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.demo.incidents import INCIDENTS_HEADER, plant_incidents
from orchestration.demo.simulation import TREATMENT_FACTORS, Context, PersonSim, Treatment
from orchestration.demo.sink import ChunkSink, DayFiles, DirtyKnobs

CHUNK_SIZE = 1000  # people per chunk: bounds memory; changing it reorders rows within files
ANONYMOUS_PER_KNOWN = 3

GROUND_TRUTH_HEADERS: dict[str, tuple[str, ...]] = {
    "identifiers.csv": ("identifier_type", "identifier", "person_id"),
    "web_event_sessions.csv": ("message_id", "true_session_id"),
    "probabilities.csv": ("person_id", "as_of_date", "p_churn_30d", "p_purchase_14d"),
    "people.csv": (
        "person_id",
        "segment",
        "acquisition_channel",
        "is_anonymous",
        "became_customer_at",
        "churned_at",
        "identified_at",
    ),
    # Planted friction (simulation.FRICTION_SHARE): one row per looped page in a true session.
    # purchased_at_without_friction is the same person simulated again on the same random
    # numbers with friction off: the counterfactual that defines the true conversion gap.
    "friction.csv": (
        "person_id",
        "anonymous_id",
        "true_session_id",
        "session_started_at",
        "page_path",
        "friction_type",
        "views",
        "first_view_at",
        "purchased_at",
        "purchased_at_without_friction",
    ),
    # Support tickets' written tone and true outcome (simulation._ticket): bad_outcome is the
    # experience the text's tone follows, defined for rated and unrated tickets alike.
    "ticket_tone.csv": ("ticket_id", "person_id", "written_tone", "bad_outcome", "satisfaction"),
    # Planted incidents (incidents.py): one row per metric an incident day moves.
    "incidents.csv": INCIDENTS_HEADER,
}


@dataclass
class GenerationSummary:
    rows_per_source: dict[str, int]
    files_written: int
    seconds: float
    people: int
    anonymous_visitors: int
    ground_truth_rows: dict[str, int] = field(default_factory=dict)

    def sentence(self) -> str:
        rows = sum(self.rows_per_source.values())
        per_source = ", ".join(f"{s} {n:,}" for s, n in self.rows_per_source.items() if n)
        return (
            f"{rows:,} rows in {self.files_written:,} files for {self.people:,} known people "
            f"and {self.anonymous_visitors:,} anonymous visitors in {self.seconds:.0f} s "
            f"({per_source})"
        )

    def table(self) -> str:
        width = max(len(s) for s in self.rows_per_source)
        lines = [f"{'source':<{width}}  {'rows':>10}", f"{'-' * width}  {'-' * 10}"]
        lines += [f"{s:<{width}}  {n:>10,}" for s, n in self.rows_per_source.items()]
        lines.append(f"{'total':<{width}}  {sum(self.rows_per_source.values()):>10,}")
        lines.append(
            f"{self.files_written} files, {self.people:,} known people, "
            f"{self.anonymous_visitors:,} anonymous visitors, {self.seconds:.1f}s"
        )
        return "\n".join(lines)


def _as_of_days(days: int) -> frozenset[int]:
    return frozenset(list(range(0, days, 7)) + [days - 1])


def _parse_start(start: str | date) -> date:
    if isinstance(start, date):
        return start
    try:
        return date.fromisoformat(start)
    except ValueError as exc:
        raise ValueError(f"start must be a date like 2026-01-01, got {start!r}") from exc


def generate(
    out_dir: str | Path,
    ground_truth_dir: str | Path,
    *,
    people: int = 5000,
    days: int = 180,
    seed: int = 7,
    start: str | date = "2026-01-01",
    dirty_rate: float = 0.01,
    progress: Callable[[str], None] | None = None,
    treatments: str | Path | None = None,
) -> GenerationSummary:
    """Write `days` daily files per source under `out_dir` and ground truth under
    `ground_truth_dir`, for `people` known people and 3x as many anonymous visitors.

    `treatments`: a CSV (person_id, day, action, hazard, treated) of actions taken on people;
    from the day after `day`, a treated person's `hazard` (churn or purchase) is multiplied by
    simulation.TREATMENT_FACTORS. Everything else is generated exactly as without it."""
    if people < 1 or days < 1:
        raise ValueError(f"people and days must be >= 1, got people={people}, days={days}")
    if not 0 <= dirty_rate <= 0.5:
        raise ValueError(f"dirty_rate must be within [0, 0.5], got {dirty_rate}")
    out_dir, ground_truth_dir = Path(out_dir), Path(ground_truth_dir)
    if ground_truth_dir.resolve().is_relative_to(out_dir.resolve()):
        raise ValueError(f"ground truth dir {ground_truth_dir} must be outside {out_dir}")
    first = _parse_start(start)
    began = time.perf_counter()
    start_ts = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    dates = tuple((first + timedelta(days=d)).isoformat() for d in range(days))
    treated = read_treatments(treatments, first)
    ctx = Context(seed, start_ts, days, _as_of_days(days), dates, treated)
    knobs = DirtyKnobs.from_rate(dirty_rate)

    files = DayFiles(out_dir, list(dates))
    files_written = files.reset()
    ground_truth_dir.mkdir(parents=True, exist_ok=True)
    truth_counts = dict.fromkeys(GROUND_TRUTH_HEADERS, 0)
    for name, header in GROUND_TRUTH_HEADERS.items():
        with (ground_truth_dir / name).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerow(header)

    population = [(True, i) for i in range(people)]
    population += [(False, i) for i in range(people * ANONYMOUS_PER_KNOWN)]
    n_chunks = (len(population) + CHUNK_SIZE - 1) // CHUNK_SIZE
    for c in range(n_chunks):
        sink = ChunkSink(start_ts, days, knobs)
        for known, index in population[c * CHUNK_SIZE : (c + 1) * CHUNK_SIZE]:
            sim = PersonSim(ctx, sink, index, known)
            sim.run()
            if sim.friction_loops:
                _friction_truth(ctx, knobs, sim, sink)
        files.append(sink)
        _append_truth(ground_truth_dir, sink, truth_counts)
        if progress:
            web = sum(len(v) for v in sink.web.values())
            other = sum(len(v) for v in sink.rows.values())
            progress(
                f"chunk {c + 1}/{n_chunks}: {min((c + 1) * CHUNK_SIZE, len(population)):,} "
                f"people simulated, +{web:,} web events, +{other:,} csv rows, "
                f"{time.perf_counter() - began:.1f}s"
            )
    # After every chunk: an incident rewrites whole day files; its RNG is its own.
    incidents, web_lines = plant_incidents(out_dir, ground_truth_dir, dates, start_ts, seed)
    files.rows_written["web_events"] += web_lines
    with (ground_truth_dir / "incidents.csv").open("a", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(incidents)
    truth_counts["incidents.csv"] = len(incidents)
    return GenerationSummary(
        rows_per_source=dict(files.rows_written),
        files_written=files_written + len(GROUND_TRUTH_HEADERS),
        seconds=time.perf_counter() - began,
        people=people,
        anonymous_visitors=people * ANONYMOUS_PER_KNOWN,
        ground_truth_rows=truth_counts,
    )


def read_treatments(path: str | Path | None, first: date) -> dict[str, Treatment]:
    """person_id -> Treatment for the treated rows of a treatments CSV (None: no file)."""
    if path is None:
        return {}
    out: dict[str, Treatment] = {}
    with Path(path).open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if row["treated"].strip().lower() not in ("true", "1"):
                continue
            if row["hazard"] not in TREATMENT_FACTORS:
                raise ValueError(
                    f"{path}, line {line}: hazard {row['hazard']!r} is not one of "
                    f"{sorted(TREATMENT_FACTORS)}"
                )
            # The action follows the day's scores: it changes the hazard from the next day.
            day = (date.fromisoformat(row["day"]) - first).days + 1
            factor = TREATMENT_FACTORS[row["hazard"]]
            out[row["person_id"]] = Treatment(day, row["hazard"], factor)
    return out


def _friction_truth(ctx: Context, knobs: DirtyKnobs, sim: PersonSim, sink: ChunkSink) -> None:
    # The twin writes into a throwaway sink with the same knobs, so its draws match sim's.
    twin = PersonSim(ctx, ChunkSink(ctx.start_ts, ctx.days, knobs), sim.index, sim.known, False)
    twin.run()
    for row in sim.friction_loops:
        sink.friction.append([*row, sim.purchased_at(), twin.purchased_at()])


def _append_truth(folder: Path, sink: ChunkSink, counts: dict[str, int]) -> None:
    # Duplicated deliveries share a messageId; the truth lists each message once.
    seen: set[str] = set()
    sessions = [row for row in sink.sessions if not (row[0] in seen or seen.add(row[0]))]
    tables = {
        "identifiers.csv": sink.identifiers,
        "web_event_sessions.csv": sessions,
        "probabilities.csv": sink.probabilities,
        "people.csv": sink.people,
        "friction.csv": sink.friction,
        "ticket_tone.csv": sink.ticket_tone,
    }
    for name, rows in tables.items():
        with (folder / name).open("a", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        counts[name] += len(rows)


__all__ = ["GenerationSummary", "generate"]
