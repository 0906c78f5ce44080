"""Scoring throughput at 10x the demo: the latest feature snapshot replicated N times, scored
with both `@champion` models exactly as the `customer_scores` asset does (probabilities,
risk bands, top-3 reasons, next best action).

    .venv/bin/python benchmarks/bench_scoring.py [--scale 10]

Needs a warehouse and MLflow store from `make demo` (paths from the usual env vars).
"""

from __future__ import annotations

import argparse
import time
import warnings

import duckdb
import pandas as pd

from ml import score_frame
from ml.actions import next_best_actions
from orchestration.ml.assets import load_champions, read_features
from orchestration.ml.specs import CHURN, ID_COLUMNS, PURCHASE_PROPENSITY, TIME_COLUMN
from orchestration.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=10)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    settings = get_settings()
    champions = load_champions(settings.mlflow_tracking_uri)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        (snapshot,) = con.execute(
            f"select max({TIME_COLUMN}) from marts.customer_features"
        ).fetchone()
        frames = {
            spec.model_name: read_features(
                con, f"{TIME_COLUMN} = ? and ({spec.population})", [snapshot]
            )
            for spec in (CHURN, PURCHASE_PROPENSITY)
        }
    total_rows, started = 0, time.perf_counter()
    for spec in (CHURN, PURCHASE_PROPENSITY):
        if spec.model_name not in champions:
            print(f"{spec.model_name:<22} no @champion in the registry: not scored")
            continue
        base = frames[spec.model_name]
        big = pd.concat(
            [base.assign(customer_id=base["customer_id"] + f"_{i}") for i in range(args.scale)],
            ignore_index=True,
        )
        t0 = time.perf_counter()
        scored = score_frame(
            champions[spec.model_name].pipeline, big, id_columns=ID_COLUMNS, thresholds=spec.bands
        )
        seconds = time.perf_counter() - t0
        total_rows += len(scored)
        print(
            f"{spec.model_name:<22} {len(scored):>8,} customers in {seconds:6.1f}s "
            f"= {len(scored) / seconds:>8,.0f} customers/s (probability, band, 3 reasons)"
        )
    actions = pd.DataFrame(
        {"churn_risk_band": ["high", "low"] * 25_000, "propensity_band": [None] * 50_000,
         "plan": ["pro"] * 50_000, "marketing_consent": [True, False] * 25_000}
    )  # fmt: skip
    t0 = time.perf_counter()
    next_best_actions(actions)
    print(f"next_best_action       {len(actions):>8,} rows in {time.perf_counter() - t0:6.2f}s")
    elapsed = time.perf_counter() - started
    print(
        f"total                  {total_rows:>8,} customers in {elapsed:6.1f}s "
        f"= {total_rows / elapsed:>8,.0f} customers/s at {args.scale}x the demo"
    )


if __name__ == "__main__":
    main()
