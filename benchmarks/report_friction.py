"""Planted friction against what the warehouse finds: loop detection precision/recall and the
estimated vs the true conversion gap of the looping signup form.

    .venv/bin/python -m benchmarks.report_friction --root /tmp/report_friction \
        --people 1500 --days 150 --seed 11

Builds the demo with `journey run` under --root (skipped when the warehouse exists). The demo
generator plants loops on the signup form for 30 % of known people and multiplies their
purchase hazard by 0.5 from then on (docs/demo_data.md, "Planted friction"); its
ground_truth/friction.csv lists each looped true session and, for the same person simulated
again on the same random numbers without friction, when they would have bought.

- precision / recall: loops of marts.fct_friction_events on that page against the planted
  ones, matched through the true session of the detected session's events (the generator's
  web_event_sessions.csv); both over the planted page only (other pages have natural loops
  and nothing planted).
- true gap: share of planted sessions whose person buys within --conversion-days of the
  session start without friction (the twin) minus with it.
- estimated gap: marts.agg_friction_points_all_time for (page, loop): conversion of
  unaffected minus affected sessions at that page, with its 95 % Wald interval.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from benchmarks.demo_run import ensure_demo
from orchestration.demo.catalog import FRICTION_PAGE

CONVERSION_DAYS = 30  # dbt var friction_conversion_days (its default)


@dataclass(frozen=True)
class FrictionReport:
    page: str
    planted: int
    detected: int
    true_positives: int
    true_gap: float
    estimated_gap: float
    ci_low: float
    ci_high: float
    sessions_affected: int
    sessions_unaffected: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else float("nan")

    @property
    def recall(self) -> float:
        return self.true_positives / self.planted if self.planted else float("nan")

    def lines(self) -> list[str]:
        covered = "covers" if self.ci_low <= self.true_gap <= self.ci_high else "misses"
        return [
            f"planted loops on {self.page}: {self.planted:,}; detected: {self.detected:,}; "
            f"matched: {self.true_positives:,}",
            f"precision {self.precision:.3f}, recall {self.recall:.3f}",
            f"true conversion gap ({CONVERSION_DAYS}-day purchase, without - with friction, "
            f"same people): {self.true_gap:+.3f}",
            f"estimated gap (unaffected - affected sessions at {self.page}, "
            f"{self.sessions_affected:,} vs {self.sessions_unaffected:,}): "
            f"{self.estimated_gap:+.3f}, 95 % Wald CI [{self.ci_low:+.3f}, {self.ci_high:+.3f}] "
            f"({covered} the true gap)",
        ]


def _within(start: str, purchased: str, days: int) -> bool:
    if not purchased:
        return False
    begin, bought = datetime.fromisoformat(start), datetime.fromisoformat(purchased)
    return begin < bought <= begin + timedelta(days=days)


def measure(
    warehouse: Path, ground_truth: Path, conversion_days: int = CONVERSION_DAYS
) -> FrictionReport:
    """Compare the warehouse's friction marts with the generator's friction.csv."""
    page = FRICTION_PAGE[0]
    with (ground_truth / "friction.csv").open(newline="", encoding="utf-8") as f:
        planted = [r for r in csv.DictReader(f) if r["friction_type"] == "loop"]
    planted_sessions = {r["true_session_id"] for r in planted if r["page_path"] == page}
    with_friction = sum(_within(r["session_started_at"], r["purchased_at"], conversion_days)
                        for r in planted)  # fmt: skip
    without = sum(
        _within(r["session_started_at"], r["purchased_at_without_friction"], conversion_days)
        for r in planted
    )
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(
            "create temp table truth as "
            "select * from read_csv(?, header = true, all_varchar = true)",
            [str(ground_truth / "web_event_sessions.csv")],
        )
        # A detected session is the true session most of its events belong to.
        detected = con.execute(
            """
            with loops as (
                select distinct session_id from marts.fct_friction_events
                where friction_type = 'loop' and page_path = ?
            ),
            votes as (
                select loops.session_id, truth.true_session_id, count(*) as events
                from loops
                inner join intermediate.int_web_events_sessionized as events
                    on events.session_id = loops.session_id
                inner join truth on truth.message_id = events.message_id
                group by all
            )
            select session_id, arg_max(true_session_id, events) from votes group by session_id
            """,
            [page],
        ).fetchall()
        row = con.execute(
            """
            select conversion_gap, gap_ci_low, gap_ci_high, sessions_affected, sessions_unaffected
            from marts.agg_friction_points_all_time
            where page_path = ? and friction_type = 'loop'
            """,
            [page],
        ).fetchone()
    gap, low, high, affected, unaffected = row or (float("nan"),) * 3 + (0, 0)
    matched = {true for _, true in detected if true in planted_sessions}
    return FrictionReport(
        page=page,
        planted=len(planted_sessions),
        detected=len(detected),
        true_positives=len(matched),
        true_gap=(without - with_friction) / len(planted) if planted else float("nan"),
        estimated_gap=gap,
        ci_low=low,
        ci_high=high,
        sessions_affected=affected,
        sessions_unaffected=unaffected,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_friction"))
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    env = ensure_demo(args.root, args.people, args.days, args.seed)
    warehouse = Path(env["JOURNEY_WAREHOUSE"])
    report = measure(warehouse, Path(env["JOURNEY_GROUND_TRUTH_DIR"]))
    print("\n".join(report.lines()))


if __name__ == "__main__":
    main()
