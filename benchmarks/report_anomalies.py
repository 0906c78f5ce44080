"""Anomaly alerts against the incidents the demo generator planted: precision and recall.

    .venv/bin/python -m benchmarks.report_anomalies --root /tmp/report_anomalies \
        --people 1500 --days 150 --seed 11

Builds the demo with `journey run` under --root (skipped when the warehouse exists). The
generator plants a checkout outage, a tracking drop on paid search and a campaign spike
(orchestration/demo/incidents.py, docs/demo_data.md); ground_truth/incidents.csv lists, per
incident day, the metrics it moves and in which direction (role primary: the alert that must
fire; secondary: a consequence that may fire).

- An incident is found when one of its primary metrics alerts (marts.agg_journey_anomalies
  is_anomaly) on its day in the expected direction; recall = found / planted, also per metric.
- An alert is explained when a truth row of that day matches its metric, dimension ('*' = any)
  and direction; otherwise it is a false alarm. Precision = explained / alerts, per metric
  family, and the false-alarm rate = false alarms / scored metric-days.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from benchmarks.demo_run import ensure_demo


@dataclass(frozen=True)
class TruthRow:
    day: str
    kind: str
    metric: str
    dimension: str
    direction: str
    role: str

    def matches(self, day: str, metric: str, dimension: str, direction: str) -> bool:
        return (
            self.day == day
            and self.metric == metric
            and self.dimension in ("*", dimension)
            and self.direction == direction
        )


@dataclass
class AnomalyReport:
    incidents: dict[tuple[str, str], bool]  # (day, kind) -> found
    primary: dict[TruthRow, bool]  # primary truth row -> alerted
    alerts: Counter = field(default_factory=Counter)  # per metric family
    explained: Counter = field(default_factory=Counter)
    scored: int = 0
    false_alarm_examples: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return sum(self.incidents.values()) / len(self.incidents) if self.incidents else 0.0

    @property
    def precision(self) -> float:
        total = sum(self.alerts.values())
        return sum(self.explained.values()) / total if total else float("nan")

    @property
    def false_alarms(self) -> int:
        return sum(self.alerts.values()) - sum(self.explained.values())

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.scored if self.scored else 0.0

    def lines(self) -> list[str]:
        out = [f"incidents planted: {len(self.incidents)}; found: {sum(self.incidents.values())}"]
        out += [
            f"  {day} {kind}: {'found' if found else 'MISSED'}"
            for (day, kind), found in sorted(self.incidents.items())
        ]
        out.append("primary metrics (must alert on the incident day):")
        out += [
            f"  {row.day} {row.kind}: {row.metric} ({row.dimension}) {row.direction}: "
            f"{'alerted' if hit else 'not alerted'}"
            for row, hit in sorted(self.primary.items(), key=lambda item: item[0].day)
        ]
        out.append(
            f"{'metric family':<28}{'alerts':>7}{'explained':>10}{'false':>7}{'precision':>10}"
        )
        for family in sorted(self.alerts):
            alerts, explained = self.alerts[family], self.explained[family]
            out.append(
                f"{family:<28}{alerts:>7}{explained:>10}{alerts - explained:>7}"
                f"{explained / alerts:>10.2f}"
            )
        out.append(
            f"incident recall {self.recall:.2f}; alert precision {self.precision:.2f} "
            f"({sum(self.explained.values())} of {sum(self.alerts.values())} alerts explained); "
            f"false alarms {self.false_alarms} in {self.scored:,} scored metric-days "
            f"(rate {self.false_alarm_rate:.4f})"
        )
        if self.false_alarm_examples:
            out.append("false alarms: " + "; ".join(self.false_alarm_examples[:12]))
        return out


def read_truth(ground_truth: Path) -> list[TruthRow]:
    with (ground_truth / "incidents.csv").open(newline="", encoding="utf-8") as f:
        return [
            TruthRow(r["day"], r["kind"], r["metric"], r["dimension"], r["direction"], r["role"])
            for r in csv.DictReader(f)
        ]


def measure(warehouse: Path, ground_truth: Path) -> AnomalyReport:
    """Compare marts.agg_journey_anomalies with the generator's incidents.csv."""
    truth = read_truth(ground_truth)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        alerts = con.execute(
            """
            select cast(metric_date as varchar), metric, dimension, direction, anomaly_score
            from marts.agg_journey_anomalies
            where is_anomaly
            order by metric_date, metric, dimension
            """
        ).fetchall()
        (scored,) = con.execute(
            "select count(*) from marts.agg_journey_anomalies where severity <> 'not_scored'"
        ).fetchone()
    report = AnomalyReport(incidents={}, primary={}, scored=int(scored))
    for row in truth:
        if row.role != "primary":
            continue
        hit = any(row.matches(d, m, dim, direction) for d, m, dim, direction, _ in alerts)
        report.primary[row] = hit
        key = (row.day, row.kind)
        report.incidents[key] = report.incidents.get(key, False) or hit
    for day, metric, dimension, direction, score in alerts:
        report.alerts[metric] += 1
        if any(row.matches(day, metric, dimension, direction) for row in truth):
            report.explained[metric] += 1
        else:
            report.false_alarm_examples.append(f"{day} {metric} ({dimension}) {score:+.1f}")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_anomalies"))
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
