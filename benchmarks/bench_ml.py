"""Benchmark the ML library: train time and validation quality on public data sets that ship
with scikit-learn (no downloads), and scoring throughput with reason codes on 50k rows.

    .venv/bin/python benchmarks/bench_ml.py [--score-rows 50000] [--features 60]

The same trainer settings are used for every data set: nothing here is tuned per data set.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine

from ml import score_frame, train_classifier
from ml.synthetic import make_customer_frame


def breast_cancer() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    # Predict malignant (target 0 in sklearn's encoding) as the positive class.
    return data.frame.assign(target=1 - data.frame["target"])


def breast_cancer_messy(seed: int = 0) -> pd.DataFrame:
    """Same data, exported badly: numbers as text with separators, 10% blanks, an id column."""
    rng = np.random.default_rng(seed)
    frame = breast_cancer()
    for column in frame.columns[:10]:
        text = frame[column].map(lambda v: f" {v * 1000:,.3f} ")
        text[rng.random(len(frame)) < 0.1] = ""
        frame[column] = text
    frame.insert(0, "patient_id", [f"p{i:05d}" for i in range(len(frame))])
    return frame


def digits_eight() -> pd.DataFrame:
    data = load_digits(as_frame=True)
    return data.frame.assign(target=(data.frame["target"] == 8).astype(int))


def wine_class_two() -> pd.DataFrame:
    data = load_wine(as_frame=True)
    return data.frame.assign(target=(data.frame["target"] == 2).astype(int))


def diabetes_top_quartile() -> pd.DataFrame:
    data = load_diabetes(as_frame=True, scaled=False)
    high = data.frame["target"] >= data.frame["target"].quantile(0.75)
    return data.frame.assign(target=high.astype(int))


def synthetic_customers() -> pd.DataFrame:
    return make_customer_frame(n_customers=5000, n_snapshots=6, n_noise=20, seed=1)


DATA_SETS: dict[str, tuple[Callable[[], pd.DataFrame], str, dict]] = {
    "breast_cancer (malignant)": (breast_cancer, "target", {}),
    "breast_cancer, messy export": (breast_cancer_messy, "target", {"id_columns": ["patient_id"]}),
    "digits (is 8)": (digits_eight, "target", {}),
    "wine (class 2)": (wine_class_two, "target", {}),
    "diabetes (top quartile)": (diabetes_top_quartile, "target", {}),
    "synthetic customers, time split": (
        synthetic_customers,
        "churned",
        {"time_column": "snapshot_date", "id_columns": ["customer_id"]},
    ),
}


def run_training_benchmarks() -> None:
    header = (
        f"{'data set':34} {'rows':>6} {'pos':>5} {'model':24} {'calib':8} "
        f"{'ROC AUC':>8} {'PR AUC':>7} {'Brier':>6} {'LR AUC':>7} {'HGB AUC':>7} {'train s':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, (load, label, kwargs) in DATA_SETS.items():
        frame = load()
        started = time.perf_counter()
        result = train_classifier(frame, label, **kwargs)
        elapsed = time.perf_counter() - started
        m = result.metrics
        lr = result.candidates["logistic_regression"]["roc_auc"]
        hgb = result.candidates["hist_gradient_boosting"]["roc_auc"]
        print(
            f"{name:34} {len(frame):6d} {int(frame[label].sum()):5d} {result.model_family:24} "
            f"{result.calibration_method:8} {m['roc_auc']:8.4f} {m['pr_auc']:7.4f} "
            f"{m['brier']:6.4f} {lr:7.4f} {hgb:7.4f} {elapsed:7.2f}"
        )


def run_scoring_benchmark(rows: int, features: int) -> None:
    # make_customer_frame has 8 feature columns; the rest are noise columns.
    frame = make_customer_frame(
        n_customers=2500, n_snapshots=4, n_noise=max(features - 8, 0), seed=2
    )
    for family in ("logistic_regression", "hist_gradient_boosting"):
        started = time.perf_counter()
        result = train_classifier(frame, "churned", id_columns=["customer_id"], families=(family,))
        train_seconds = time.perf_counter() - started
        inputs = frame.drop(columns=["churned"])
        big = inputs.sample(n=rows, replace=True, random_state=0).reset_index(drop=True)
        started = time.perf_counter()
        probability = result.pipeline.predict_proba(big)[:, 1]
        predict_seconds = time.perf_counter() - started
        started = time.perf_counter()
        scored = score_frame(
            result.pipeline, big, id_columns=["customer_id"], reference=result.reference_values
        )
        score_seconds = time.perf_counter() - started
        n_features = len(result.feature_columns.all)
        assert np.allclose(scored["probability"], probability)
        print(
            f"{family:24} train {len(frame)} rows: {train_seconds:5.1f}s | "
            f"predict_proba {rows} rows: {predict_seconds:5.2f}s "
            f"({rows / predict_seconds:,.0f} rows/s) | score + 3 reasons over {n_features} "
            f"features: {score_seconds:5.1f}s ({rows / score_seconds:,.0f} rows/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--score-rows", type=int, default=50_000)
    parser.add_argument("--features", type=int, default=60)
    args = parser.parse_args()
    print("== training: validation metrics of the train-part model (20% hold-out)")
    run_training_benchmarks()
    print()
    print(f"== scoring throughput ({args.score_rows} rows, ~{args.features} features)")
    run_scoring_benchmark(args.score_rows, args.features)


if __name__ == "__main__":
    main()
