"""Training time at N times the demo: each model's labelled snapshots replicated N times
(customer ids suffixed, as bench_scoring.py does), trained with the same library call as the
model asset, without MLflow.

    .venv/bin/python benchmarks/bench_training.py [--scale 10] [--max-tuning-rows 30000|none]
        [--model churn|purchase_propensity]

Needs a warehouse from `make demo` (paths from the usual env vars). Replicated rows carry no
new information, so the validation AUC at scale > 1 says nothing about quality: compare it at
--scale 1 (benchmarks/model_ceiling.py) and read only the seconds here.
"""

from __future__ import annotations

import argparse
import time
import warnings

import duckdb
import pandas as pd

from ml import train_classifier
from ml.train import MAX_TUNING_ROWS
from orchestration.ml.assets import read_training_frame
from orchestration.ml.specs import ID_COLUMNS, MODEL_SPECS, TIME_COLUMN
from orchestration.settings import get_settings


def scaled(frame: pd.DataFrame, scale: int) -> pd.DataFrame:
    if scale == 1:
        return frame
    return pd.concat(
        [frame.assign(customer_id=frame["customer_id"] + f"_{i}") for i in range(scale)],
        ignore_index=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--max-tuning-rows", default=str(MAX_TUNING_ROWS))
    parser.add_argument("--model", choices=[s.model_name for s in MODEL_SPECS])
    args = parser.parse_args()
    cap = None if args.max_tuning_rows == "none" else int(args.max_tuning_rows)
    warnings.filterwarnings("ignore")
    with duckdb.connect(str(get_settings().warehouse_path), read_only=True) as con:
        frames = {s.model_name: read_training_frame(con, s)[0] for s in MODEL_SPECS}
    for spec in MODEL_SPECS:
        if args.model and spec.model_name != args.model:
            continue
        frame = scaled(frames[spec.model_name], args.scale)
        started = time.perf_counter()
        result = train_classifier(
            frame,
            spec.label,
            time_column=TIME_COLUMN,
            id_columns=ID_COLUMNS,
            exclude_columns=spec.excluded_columns,
            label_end_column=spec.label_end_column,
            max_tuning_rows=cap,
        )
        seconds = time.perf_counter() - started
        print(
            f"{spec.model_name:<22} {len(frame):>9,} labelled rows x{args.scale}: "
            f"{seconds:7.1f}s  {result.model_family:<24} validation ROC AUC "
            f"{result.metrics['roc_auc']:.4f}  tuning rows {result.params['tuning_rows']:,} "
            f"(cap {cap})",
            flush=True,
        )


if __name__ == "__main__":
    main()
