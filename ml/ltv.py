"""Predicted customer lifetime value over the next 12 months (`predicted_ltv_12m`).

The business is subscriptions: a customer pays the plan's monthly price at each renewal until
they cancel, and a cancellation is observed. That is a *contractual* setting, so the value is
"monthly recurring revenue × the expected number of renewals still paid", not a
repeat-purchase model (BG/NBD + Gamma-Gamma are for non-contractual buying, where a
customer's death is never seen). With 150–180 days of demo data no customer has a realised
12-month value to train a regressor on; the churn model's 30-day probability is what the
data does support (docs/models.md, "Customer lifetime value").

- Paying customer: ``mrr × Σ_{m=1..n} S(m)`` with a geometric survival
  ``S(m) = (1 − p_churn_30d)^m``: the churn probability of the next 30 days is assumed to
  hold for every later month (memoryless; a customer who survives does not become safer).
  The renewal of month m is paid when the customer is still subscribed at it.
- Lead (never bought): ``purchase_propensity × value of a new customer``, the mean 12-month
  value of the recently started customers of the lead's segment on the same day (all recent
  customers when the segment has too few). Leads who buy after the 14-day window are not
  counted: the propensity model does not see them.

Amounts are in the unit of the subscription export's `mrr` (the billing system's list price;
the export carries no currency). Upgrades and add-ons are not modelled (on the demo they
are a few per cent of revenue; benchmarks/report_ltv.py measures it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

HORIZON_MONTHS = 12.0
# A customer counts as "new" for the lead value when they started this recently.
NEW_CUSTOMER_DAYS = 90
# Below this many new customers in a segment, leads use the value of all new customers.
MIN_SEGMENT_CUSTOMERS = 20


def survival_sum(p_churn_30d: np.ndarray | pd.Series | float, months: float = HORIZON_MONTHS):
    """Σ_{m=1..months} (1 − p)^m: the expected number of monthly renewals paid.

    A fractional `months` counts the last, partial month pro rata (used to predict a
    validation horizon that is not a whole number of months)."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    keep = 1.0 - np.clip(np.asarray(p_churn_30d, dtype=float), 0.0, 1.0)
    whole = math.floor(months)
    total = np.zeros_like(keep)
    for m in range(1, whole + 1):
        total = total + keep**m
    return total + (months - whole) * keep ** (whole + 1)


def customer_value(
    mrr: np.ndarray | pd.Series, p_churn_30d: np.ndarray | pd.Series, months: float = HORIZON_MONTHS
) -> np.ndarray:
    """Expected revenue of paying customers over `months`: mrr × survival_sum."""
    recurring = np.clip(np.nan_to_num(np.asarray(mrr, dtype=float)), 0.0, None)
    return recurring * survival_sum(p_churn_30d, months)


def new_customer_values(
    customers: pd.DataFrame,
    months: float = HORIZON_MONTHS,
    *,
    new_within_days: int = NEW_CUSTOMER_DAYS,
    min_customers: int = MIN_SEGMENT_CUSTOMERS,
) -> tuple[dict[str, float], float]:
    """Mean value over `months` of recently started customers, per segment and overall.

    `customers` has segment, mrr, churn_probability and tenure_days (days since the first
    purchase). Only segments with at least `min_customers` new customers get their own value.
    Falls back to every paying customer when none started recently; NaN when there are none.
    """
    if customers.empty:
        return {}, float("nan")
    value = pd.Series(
        customer_value(customers["mrr"], customers["churn_probability"], months),
        index=customers.index,
    )
    recent = customers["tenure_days"].le(new_within_days).fillna(False).to_numpy(dtype=bool)
    if not recent.any():
        recent = np.ones(len(customers), dtype=bool)
    segments = customers.loc[recent, "segment"]
    grouped = value[recent].groupby(segments.to_numpy())
    by_segment = {
        str(segment): float(mean)
        for segment, (mean, count) in grouped.agg(["mean", "count"]).iterrows()
        if count >= min_customers
    }
    return by_segment, float(value[recent].mean())


def predicted_ltv(scores: pd.DataFrame, months: float = HORIZON_MONTHS) -> pd.Series:
    """`predicted_ltv_12m` (for the default `months`) of scored rows, aligned on their index.

    `scores` holds one row per customer as `marts.customer_scores` is built: paying customers
    carry churn_probability, leads purchase_propensity; both carry segment, mrr and
    tenure_days from the feature snapshot. Rows with neither score get NaN.
    """
    out = pd.Series(np.nan, index=scores.index, dtype=float)
    paying = scores["churn_probability"].notna()
    if paying.any():
        out[paying] = customer_value(
            scores.loc[paying, "mrr"], scores.loc[paying, "churn_probability"], months
        )
    leads = scores["purchase_propensity"].notna() & ~paying
    if leads.any():
        by_segment, overall = new_customer_values(scores[paying], months)
        value = scores.loc[leads, "segment"].map(by_segment).astype(float).fillna(overall)
        out[leads] = scores.loc[leads, "purchase_propensity"].to_numpy() * value.to_numpy()
    return out
