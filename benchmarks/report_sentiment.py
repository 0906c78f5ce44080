"""Support sentiment on the demo (issue 10 §1): how well the ticket score agrees with the
ticket's true outcome, and what the sentiment features do to the churn model.

    .venv/bin/python -m benchmarks.report_sentiment --root /tmp/report_sentiment \
        [--people 5000 --days 180 --seed 7]

Builds the demo under --root (`journey-demo generate`, `journey ingest`, `journey transform`;
skipped when its warehouse exists), then:

1. agreement: marts.fct_support_tickets joined to the generator's ticket_tone.csv; ROC AUC of
   -sentiment_score against bad_outcome (every ticket, rated or not) and against the rating
   (rated tickets), and the label mix by the tone the generator wrote;
2. churn: `train_classifier` exactly as the training asset calls it, on the same
   customer_features rows, with and without negative_tickets_last_30d and sentiment_trend;
   validation ROC AUC of both and the paired bootstrap spread of their difference.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from benchmarks.model_ceiling import gap_std
from ml import train_classifier
from orchestration.ml.assets import read_training_frame
from orchestration.ml.specs import CHURN, ID_COLUMNS, TIME_COLUMN
from orchestration.settings import path_environment

SENTIMENT_FEATURES = ("negative_tickets_last_30d", "sentiment_trend")


def build_demo(root: Path, people: int, days: int, seed: int) -> Path:
    """Generate the demo, ingest it and build the warehouse (no training: this script trains
    what it compares); skipped when the warehouse exists."""
    data = root / "data"
    if (data / "warehouse.duckdb").exists():
        print(f"using the existing demo under {data}")
        return data
    env = {**os.environ, **path_environment(data)}
    bin_dir = Path(sys.executable).parent
    generate = [str(bin_dir / "journey-demo"), "generate", "--people", str(people)]
    generate += ["--days", str(days), "--seed", str(seed)]
    generate += ["--out", str(data / "landing"), "--ground-truth", str(data / "ground_truth")]
    started = time.perf_counter()
    for command in (
        generate,
        [str(bin_dir / "journey"), "ingest"],
        [str(bin_dir / "journey"), "transform"],
    ):
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if result.returncode:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr}")
    print(
        f"demo built ({people} people, {days} days, seed {seed}; generate, ingest, transform): "
        f"{time.perf_counter() - started:.0f} s"
    )
    return data


def agreement(con: duckdb.DuckDBPyConnection, ground_truth: Path) -> None:
    tickets = con.execute(
        f"""
        select t.ticket_id, t.sentiment_score, t.sentiment_label,
               truth.written_tone, truth.bad_outcome = 'true' as bad_outcome,
               nullif(truth.satisfaction, '') as true_rating
        from marts.fct_support_tickets as t
        join read_csv('{ground_truth / "ticket_tone.csv"}', all_varchar = true) as truth
            using (ticket_id)
        where t.sentiment_score is not null
        """
    ).df()
    bad = tickets["bad_outcome"].astype(int)
    rated = tickets.dropna(subset=["true_rating"])
    print(
        f"\n1. agreement on {len(tickets):,} scored tickets "
        f"({bad.mean():.1%} with a bad true outcome, {len(rated):,} rated)"
    )
    print(
        f"   ROC AUC of -sentiment_score vs bad_outcome (all):   "
        f"{roc_auc_score(bad, -tickets['sentiment_score']):.3f}"
    )
    print(
        f"   ROC AUC of -sentiment_score vs rating bad (rated):  "
        f"{roc_auc_score(rated['true_rating'] == 'bad', -rated['sentiment_score']):.3f}"
    )
    negative = tickets["sentiment_label"] == "negative"
    print(
        f"   share labelled negative: bad outcome {negative[bad == 1].mean():.1%}, "
        f"good outcome {negative[bad == 0].mean():.1%}"
    )
    mix = pd.crosstab(tickets["written_tone"], tickets["sentiment_label"], normalize="index")
    print("   label mix by the tone written (rows sum to 1):")
    print("   " + mix.round(3).to_string().replace("\n", "\n   "))


def churn_with_and_without(con: duckdb.DuckDBPyConnection) -> None:
    frame, _ = read_training_frame(con, CHURN)
    has = frame[list(SENTIMENT_FEATURES)]
    print(
        f"\n2. churn model, {len(frame):,} labelled rows ({int(frame[CHURN.label].sum()):,} "
        f"churned); rows with a negative ticket in 30 d: "
        f"{(has['negative_tickets_last_30d'] > 0).mean():.1%}, with a trend: "
        f"{has['sentiment_trend'].notna().mean():.1%}"
    )
    scores = {}
    for name, excluded in (
        ("without", (*CHURN.excluded_columns, *SENTIMENT_FEATURES)),
        ("with", CHURN.excluded_columns),
    ):
        started = time.perf_counter()
        result = train_classifier(
            frame,
            CHURN.label,
            time_column=TIME_COLUMN,
            id_columns=ID_COLUMNS,
            exclude_columns=excluded,
            label_end_column=CHURN.label_end_column,
        )
        y = frame.loc[result.validation_index, CHURN.label].astype(int).to_numpy()
        scores[name] = (y, result.validation["y_score"].to_numpy())
        print(
            f"   {name:<8} sentiment features: validation ROC AUC "
            f"{result.metrics['roc_auc']:.4f}, PR AUC {result.metrics['pr_auc']:.4f} "
            f"({result.model_family}, {len(y):,} validation rows, "
            f"{time.perf_counter() - started:.0f} s)"
        )
    (y, without), (y_with, with_) = scores["without"], scores["with"]
    assert np.array_equal(y, y_with), "both fits must validate on the same rows"
    diff = roc_auc_score(y, with_) - roc_auc_score(y, without)
    print(f"   difference {diff:+.4f} ± {gap_std(y, without, with_):.4f} (paired bootstrap sd)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_sentiment"))
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    data = build_demo(args.root, args.people, args.days, args.seed)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        agreement(con, data / "ground_truth")
        churn_with_and_without(con)


if __name__ == "__main__":
    main()
