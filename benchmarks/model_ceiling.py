"""Model AUC next to the ceiling: the AUC that the demo generator's true probabilities reach
on the same validation rows.

    .venv/bin/python benchmarks/model_ceiling.py [--warehouse data/warehouse.duckdb]
        [--ground-truth data/ground_truth] [--tracking-uri sqlite:///data/mlflow/mlflow.db]

Maps each customer to a generator person through the resolved identifiers, then, for each
model, scores the champion's validation window with (a) the trained model — re-trained here
with the same library call the asset makes — and (b) the true probability p_churn_30d /
p_purchase_14d at the snapshot date.
"""

from __future__ import annotations

import argparse
import time
import warnings

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from ml import train_classifier
from orchestration.ml.assets import read_training_frame
from orchestration.ml.specs import ID_COLUMNS, MODEL_SPECS, TIME_COLUMN
from orchestration.settings import get_settings

TRUE_PROBABILITY = {"churn": "p_churn_30d", "purchase_propensity": "p_purchase_14d"}
BOOTSTRAP_RESAMPLES = 500


def gap_std(y: np.ndarray, model: np.ndarray, truth: np.ndarray, seed: int = 0) -> float:
    """Standard deviation of (ceiling - model AUC) over paired bootstrap resamples of the
    validation rows: how big a gap one validation window can tell apart from noise."""
    rng = np.random.default_rng(seed)
    gaps = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = rng.integers(0, len(y), len(y))
        if y[rows].min() == y[rows].max():
            continue
        gaps.append(roc_auc_score(y[rows], truth[rows]) - roc_auc_score(y[rows], model[rows]))
    return float(np.std(gaps))


def customer_person_map(con: duckdb.DuckDBPyConnection, ground_truth: str) -> None:
    con.execute(
        f"""
        create or replace temp table customer_person as
        with truth as (
            select identifier_type,
                   case when identifier_type = 'email' then lower(trim(identifier))
                        else identifier end as identifier,
                   person_id
            from read_csv('{ground_truth}/identifiers.csv', all_varchar = true)
        )
        select customer_id, mode(person_id) as person_id
        from intermediate.int_customer_identifiers
        join truth using (identifier_type, identifier)
        group by customer_id
        """
    )
    con.execute(
        f"""
        create or replace temp table true_probabilities as
        select person_id, cast(as_of_date as date) as snapshot_date,
               try_cast(p_churn_30d as double) as p_churn_30d,
               try_cast(p_purchase_14d as double) as p_purchase_14d
        from read_csv('{ground_truth}/probabilities.csv', all_varchar = true)
        """
    )


def main() -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", default=str(settings.warehouse_path))
    parser.add_argument("--ground-truth", default=str(settings.ground_truth_dir))
    args = parser.parse_args()
    warnings.filterwarnings("ignore")

    con = duckdb.connect(args.warehouse, read_only=True)
    customer_person_map(con, args.ground_truth)
    print(
        f"{'model':<22}{'rows':>8}{'pos':>6}{'valid rows':>11}"
        f"{'model AUC':>11}{'ceiling':>9}{'gap':>8}{'± sd':>7}"
    )
    for spec in MODEL_SPECS:
        frame, _ = read_training_frame(con, spec)
        started = time.perf_counter()
        result = train_classifier(
            frame,
            spec.label,
            time_column=TIME_COLUMN,
            id_columns=ID_COLUMNS,
            exclude_columns=spec.excluded_columns,
            label_end_column=spec.label_end_column,
        )
        seconds = time.perf_counter() - started
        valid = frame.loc[result.validation_index, ["customer_id", TIME_COLUMN, spec.label]]
        truth = con.execute(
            f"select c.customer_id, t.snapshot_date, t.{TRUE_PROBABILITY[spec.model_name]} as p "
            "from customer_person c join true_probabilities t using (person_id)"
        ).df()
        valid[TIME_COLUMN] = pd.to_datetime(valid[TIME_COLUMN])
        truth[TIME_COLUMN] = pd.to_datetime(truth[TIME_COLUMN])
        joined = valid.merge(truth, on=["customer_id", TIME_COLUMN], how="left")
        joined["y_score"] = result.validation["y_score"].to_numpy()
        known = joined.dropna(subset=["p"])
        y = known[spec.label].astype(int)
        model_auc = roc_auc_score(y, known["y_score"])
        ceiling = roc_auc_score(y, known["p"])
        spread = gap_std(y.to_numpy(), known["y_score"].to_numpy(), known["p"].to_numpy())
        print(
            f"{spec.model_name:<22}{len(frame):>8}{int(frame[spec.label].sum()):>6}"
            f"{len(known):>11}{model_auc:>11.4f}{ceiling:>9.4f}"
            f"{ceiling - model_auc:>8.4f}{spread:>7.4f}"
            f"   ({result.model_family}, trained in {seconds:.1f}s; "
            f"{len(joined) - len(known)} validation rows without a true probability)"
        )


if __name__ == "__main__":
    main()
