"""Journey segments on a demo: k and the silhouette of every k, the segments (names, sizes,
profiles), how well they recover the generator's latent journey types, and how stable they
are.

    .venv/bin/python -m benchmarks.report_segments --root /tmp/report_segments --people 1500

(--days 150 --seed 11 by default.)

Builds the demo with `journey run` under --root (skipped when its warehouse exists), which
fits and writes the segments (the `journey_segments` asset), then refits them here from
`marts.customer_journey_features` with the same library call.

Latent journey types: the generator's people truth (ground_truth/people.csv) has no journey
type of its own, but two latent attributes that drive every journey: the acquisition channel
(the first visit's channel, and a quarter of the later visits) and the CRM segment (purchase
intent). The report gives the adjusted Rand index (ARI) of the segments against each and
against their product. Customers are mapped to people through their identifiers, as
benchmarks/model_ceiling.py does.

Stability: ARI between the assignments of every customer by pairs of fits on bootstrap
resamples of the customers (the whole procedure, k choice included), and between the fit
and the segments the pipeline wrote.
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

from benchmarks.model_ceiling import customer_person_map
from ml.segments import adjusted_rand, fit_segments, profile_segments
from orchestration.settings import path_environment

KEY = "report-segments-key"
BOOTSTRAP_PAIRS = 3


def build_demo(root: Path, people: int, days: int, seed: int) -> Path:
    env = {**os.environ, **path_environment(root / "data"), "JOURNEY_HASH_KEY": KEY,
           "JOURNEY_AUC_FLOOR": "0.6"}  # fmt: skip
    warehouse = Path(env["JOURNEY_WAREHOUSE"])
    if warehouse.exists():
        print(f"demo: reusing {warehouse}")
        return warehouse
    command = [str(Path(sys.executable).with_name("journey")), "run", "--people", str(people),
               "--days", str(days), "--seed", str(seed)]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}{result.stderr}")
    print(f"demo: `journey run` of {people:,} people over {days} days (seed {seed}) in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    return warehouse


def latent_types(con: duckdb.DuckDBPyConnection, ground_truth: Path) -> pd.DataFrame:
    """customer_id → the person's true acquisition channel and segment."""
    customer_person_map(con, str(ground_truth))
    return con.execute(
        f"""
        select c.customer_id, p.acquisition_channel, p.segment,
               p.acquisition_channel || ' × ' || p.segment as channel_x_segment
        from customer_person as c
        join read_csv('{ground_truth}/people.csv', all_varchar = true) as p using (person_id)
        """
    ).df()


def bootstrap_stability(features: pd.DataFrame, pairs: int, seed: int) -> list[float]:
    """ARI between two fits on independent bootstrap resamples, each assigning every
    customer (its pipeline predicts the full table)."""
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(pairs):
        predictions = []
        for _ in range(2):
            rows = features.iloc[rng.integers(0, len(features), len(features))]
            # Resampled rows repeat customer ids; make them unique for the canonical order.
            rows = rows.assign(
                customer_id=rows["customer_id"] + "#" + np.arange(len(rows)).astype(str)
            )
            fit = fit_segments(rows)
            predictions.append(fit.pipeline.predict(features))
        scores.append(adjusted_rand(*predictions))
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_segments"))
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--days", type=int, default=150)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bootstrap-pairs", type=int, default=BOOTSTRAP_PAIRS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    warehouse = build_demo(args.root, args.people, args.days, args.seed)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        features = con.execute(
            "select * from marts.customer_journey_features order by customer_id"
        ).df()
        stored = con.execute(
            "select customer_id, segment_id from marts.customer_journey_segments"
        ).df()
        truth = latent_types(con, args.root / "data" / "ground_truth")

    started = time.perf_counter()
    fit = fit_segments(features)
    seconds = time.perf_counter() - started
    print(f"\ncustomers: {len(features):,}; fit (k = 3..8 and the refit) in {seconds:.1f} s")
    print("silhouette by k: " + ", ".join(f"{k}: {s:.3f}" for k, s in fit.silhouettes.items()))
    print(f"chosen k: {fit.k} (best silhouette; ties within 0.005 go to the smaller k)\n")
    profile = profile_segments(features, fit.assignments)
    profile["share"] = profile["customers"] / profile["customers"].sum()
    print(profile.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))

    joined = fit.assignments.merge(truth, on="customer_id", how="inner")
    print(f"\nARI against latent journey types ({len(joined):,} customers mapped to people):")
    for column in ("acquisition_channel", "segment", "channel_x_segment"):
        print(f"  {column:<20} {adjusted_rand(joined[column], joined['segment_id']):.3f}")
    # How far the latent channel is observable at all: the warehouse's own acquisition
    # channel (first web session) against the true one.
    with duckdb.connect(str(warehouse), read_only=True) as con:
        observed = con.execute(
            "select customer_id, acquisition_channel as observed from marts.dim_customers"
        ).df()
    both = joined.merge(observed, on="customer_id").dropna(subset=["observed"])
    print(
        "  (reference: dim_customers.acquisition_channel vs the true channel, ARI "
        f"{adjusted_rand(both['acquisition_channel'], both['observed']):.3f})"
    )

    both = fit.assignments.merge(stored, on="customer_id", suffixes=("", "_stored"))
    print(
        f"\nstability: ARI with the segments `journey run` wrote "
        f"{adjusted_rand(both['segment_id'], both['segment_id_stored']):.3f}"
    )
    scores = bootstrap_stability(features, args.bootstrap_pairs, args.seed)
    print(
        f"stability: ARI between fits on two bootstrap resamples, {len(scores)} pairs: "
        f"mean {np.mean(scores):.3f}, min {np.min(scores):.3f} "
        f"({', '.join(f'{s:.3f}' for s in scores)})"
    )


if __name__ == "__main__":
    main()
