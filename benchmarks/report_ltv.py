"""Customer lifetime value on the demo (issue 10 §5): predicted value at a day T against the
revenue each person really paid from T to the end of the data.

    .venv/bin/python -m benchmarks.report_ltv --root /tmp/report_ltv \
        [--people 5000 --days 180 --seed 7 --horizon-days 60]

Builds the demo under --root (`journey-demo generate`, `journey ingest`, `journey transform`,
as benchmarks/report_sentiment.py; skipped when its warehouse exists), then:

1. T = the latest snapshot day at least --horizon-days before the last one. Both models are
   trained as the training asset trains them (`train_classifier`, same populations and
   exclusions) on the labelled snapshots up to T whose label window closed by T: only what
   was known at T.
2. T is scored by the scoring step's own code (`score_snapshot`, which adds
   predicted_ltv_12m); the horizon is predicted directly with the same formula
   (`ml.ltv.predicted_ltv(months=horizon / 30)`), so prediction and outcome cover the same
   days.
3. Realised = paid orders (renewals, upgrades, add-ons, first orders) from T + 1 day to the
   end, per customer, in the order currency as recorded. Calibration by decile of the
   prediction (mean predicted vs mean realised) and Spearman correlation, for paying
   customers and for leads; the same for customers paying in USD (the unit of the
   subscription export's mrr in the demo); and a no-churn baseline (mrr × months).
"""

from __future__ import annotations

import argparse
import time
import warnings
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from benchmarks.report_sentiment import build_demo
from ml import train_classifier
from ml.ltv import predicted_ltv
from orchestration.ml.assets import Champion, read_consent, read_features, score_snapshot
from orchestration.ml.specs import CHURN, ID_COLUMNS, PURCHASE_PROPENSITY, TIME_COLUMN

DAYS_PER_MONTH = 30


def champions_at(con: duckdb.DuckDBPyConnection, day) -> dict[str, Champion]:
    """Both models trained on the snapshots up to `day` whose labels were known by then."""
    champions = {}
    for spec in (CHURN, PURCHASE_PROPENSITY):
        frame = read_features(
            con,
            f"{TIME_COLUMN} <= ? and {spec.label_end_column} <= ? and ({spec.population}) "
            f"and {spec.label} is not null",
            [day, day],
        )
        started = time.perf_counter()
        result = train_classifier(
            frame,
            spec.label,
            time_column=TIME_COLUMN,
            id_columns=ID_COLUMNS,
            exclude_columns=spec.excluded_columns,
            label_end_column=spec.label_end_column,
        )
        print(
            f"   {spec.model_name}: {len(frame):,} labelled rows up to {day}, validation ROC AUC "
            f"{result.metrics['roc_auc']:.3f} ({result.model_family}, "
            f"{time.perf_counter() - started:.0f} s)"
        )
        champions[spec.model_name] = Champion(spec, "as of T", result.pipeline)
    return champions


def realised_revenue(con: duckdb.DuckDBPyConnection, first_day, last_day) -> pd.DataFrame:
    """Paid revenue per customer and order type in [first_day, last_day], with the
    customer's order currency (the most frequent one)."""
    orders = con.execute(
        """
        select customer_id, order_type, currency, amount
        from intermediate.int_funnel_orders
        where status = 'paid'
          and cast(ordered_at as date) between ? and ?
        """,
        [first_day, last_day],
    ).df()
    orders["amount"] = orders["amount"].astype(float)
    per_type = orders.pivot_table(
        index="customer_id", columns="order_type", values="amount", aggfunc="sum", fill_value=0.0
    )
    out = pd.DataFrame({"realised": per_type.sum(axis=1)})
    out["expansion"] = per_type.reindex(columns=["upgrade", "add_on"], fill_value=0.0).sum(axis=1)
    out["currency"] = orders.groupby("customer_id")["currency"].agg(lambda c: c.mode().iloc[0])
    return out


def calibration(frame: pd.DataFrame, predicted: str, title: str) -> None:
    """Deciles of the prediction: mean predicted vs realised; Spearman correlation."""
    if len(frame) < 20:
        print(f"   {title}: {len(frame)} rows, too few")
        return
    decile = pd.qcut(frame[predicted].rank(method="first"), 10, labels=range(1, 11))
    table = frame.groupby(decile, observed=True).agg(
        n=(predicted, "size"),
        predicted=(predicted, "mean"),
        realised=("realised", "mean"),
    )
    table["realised/predicted"] = table["realised"] / table["predicted"]
    rho, p = spearmanr(frame[predicted], frame["realised"])
    total_p, total_r = frame[predicted].sum(), frame["realised"].sum()
    print(
        f"   {title}: {len(frame):,} people, Spearman {rho:.3f} (p {p:.1e}); total predicted "
        f"{total_p:,.0f}, realised {total_r:,.0f} (ratio {total_r / total_p:.3f})"
    )
    print("   " + table.round(2).to_string().replace("\n", "\n   "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/report_ltv"))
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--horizon-days", type=int, default=60)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    data = build_demo(args.root, args.people, args.days, args.seed)
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as con:
        latest_sql = f"select max({TIME_COLUMN}) from marts.customer_features"
        (latest,) = con.execute(latest_sql).fetchone()
        # T is a snapshot day (snapshots are weekly), so the scores describe T itself.
        (day,) = con.execute(
            f"select max({TIME_COLUMN}) from marts.customer_features where {TIME_COLUMN} <= ?",
            [latest - timedelta(days=args.horizon_days)],
        ).fetchone()
        horizon = (latest - day).days
        months = horizon / DAYS_PER_MONTH
        print(f"1. models as of T = {day} (horizon {horizon} days to {latest})")
        champions = champions_at(con, day)
        scores, _ = score_snapshot(con, day, champions, read_consent(con))
        churned = con.execute(
            f"select customer_id, {CHURN.label} from marts.customer_features "
            f"where {TIME_COLUMN} = ? and {CHURN.population}",
            [day],
        ).df()
        realised = realised_revenue(con, day + timedelta(days=1), latest)
    scores = scores.set_index("customer_id")
    scores["predicted"] = predicted_ltv(scores, months).to_numpy()
    scores["no_churn_baseline"] = scores["mrr"].fillna(0) * months
    scores = scores.join(realised, how="left")
    scores[["realised", "expansion"]] = scores[["realised", "expansion"]].fillna(0.0)
    paying = scores[scores["churn_probability"].notna()]
    leads = scores[scores["purchase_propensity"].notna()]
    print(
        f"\n2. scored at T: {len(paying):,} paying customers (mean predicted_ltv_12m "
        f"{paying['predicted_ltv_12m'].mean():,.0f}), {len(leads):,} leads (mean "
        f"{leads['predicted_ltv_12m'].mean():,.2f})"
    )
    print(
        f"   paying customers' realised revenue in the horizon: {paying['realised'].sum():,.0f}, "
        f"of which upgrades and add-ons {paying['expansion'].sum() / paying['realised'].sum():.1%};"
        f" order currency USD for {(paying['currency'].fillna('USD') == 'USD').mean():.1%}"
    )
    outcome = paying.join(churned.set_index("customer_id"), how="inner")[CHURN.label]
    print(
        f"   churn in the 30 days after T: mean predicted probability "
        f"{paying['churn_probability'].mean():.3f}, observed {outcome.astype(float).mean():.3f}"
    )
    print(f"\n3. predicted over the horizon ({months:g} months) vs realised, by decile")
    calibration(paying, "predicted", "paying customers")
    calibration(
        paying[paying["currency"].fillna("USD") == "USD"], "predicted", "paying customers in USD"
    )
    rho_base, _ = spearmanr(paying["no_churn_baseline"], paying["realised"])
    rho_model, _ = spearmanr(paying["predicted"], paying["realised"])
    print(
        f"   no-churn baseline (mrr × {months:g}): Spearman {rho_base:.3f} vs model "
        f"{rho_model:.3f}; mean absolute error baseline "
        f"{np.abs(paying['no_churn_baseline'] - paying['realised']).mean():.1f} vs model "
        f"{np.abs(paying['predicted'] - paying['realised']).mean():.1f}"
    )
    calibration(leads, "predicted", "leads")
    bought = leads["realised"].gt(0).mean()
    print(f"   leads who paid anything in the horizon: {bought:.1%}")


if __name__ == "__main__":
    main()
