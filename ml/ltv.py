"""Predicted customer lifetime value over the next 12 months (`predicted_ltv_12m`).

The business is subscriptions: a customer pays the plan's monthly price at each renewal until
they cancel, and a cancellation is observed. That is a *contractual* setting, so the value is
"monthly recurring revenue × the expected number of renewals still paid", not a
repeat-purchase model (BG/NBD + Gamma-Gamma are for non-contractual buying, where a
customer's death is never seen). With 150–180 days of demo data no customer has a realised
12-month value to train a regressor on; the churn model's 30-day probability is what the
data does support (docs/models.md, "Customer lifetime value").

- Paying customer: ``mrr × Σ_k S(u + k)`` over the renewals due in the next n months, with
  a geometric survival ``S(t) = (1 − p_churn_30d)^t`` (t in months): the churn probability
  of the next 30 days is assumed to hold for every later month (memoryless; a customer who
  survives does not become safer). u is when the next renewal is due (from the days since
  the first purchase; renewals every 30 days); a renewal is paid when the customer is still
  subscribed on its day. Twelve renewals fall in 12 months.
- Lead (never bought): the 14-day purchase probability p is read as a constant daily
  hazard (``1 − (1 − p)^(1/14)`` a day) over the horizon, and a lead who buys on day d is
  worth what a recently started customer of its segment pays in the months left: the first
  order (one month's mrr) plus the expected renewals, ``mrr × (1 + Σ S(m))`` over the
  remaining months, averaged over the segment's customers who started in the last 90 days
  (all of them when the segment has fewer than 20). Counting only the 14-day window would
  miss the leads who buy later, most of the value (docs/models.md).

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
# The propensity model's label window, and the days of a month in the survival sum.
PURCHASE_WINDOW_DAYS = 14
DAYS_PER_MONTH = 30


def survival_sum(
    p_churn_30d: np.ndarray | pd.Series | float,
    months: float = HORIZON_MONTHS,
    first_payment: np.ndarray | pd.Series | float = 1.0,
) -> np.ndarray:
    """Σ_k S(first_payment + k) over the payments due within `months`: the expected number
    of monthly renewals paid, with S(t) = (1 − p)^t.

    `first_payment` is when the next renewal is due, in months from now (0, 1]: a customer
    who started 10 days ago renews in 20 days (2/3). Payments fall at first_payment,
    first_payment + 1, ... up to `months` included; a renewal is paid when the customer is
    still subscribed on its day."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    keep, first = np.broadcast_arrays(
        1.0 - np.clip(np.asarray(p_churn_30d, dtype=float), 0.0, 1.0),
        np.asarray(first_payment, dtype=float),
    )
    total = np.zeros(keep.shape)
    for k in range(math.floor(months) + 1):
        due = first + k
        total = total + np.where(due <= months + 1e-9, keep**due, 0.0)
    return total


def months_to_next_renewal(tenure_days: np.ndarray | pd.Series) -> np.ndarray:
    """When the next renewal is due, in months (0, 1], from the days since the first
    purchase: renewals every DAYS_PER_MONTH days (the day's own renewal is already paid by
    the end of the snapshot day). Unknown tenure: half a month, the mean."""
    days = np.asarray(tenure_days, dtype=float)
    due = (DAYS_PER_MONTH - np.mod(days, DAYS_PER_MONTH)) / DAYS_PER_MONTH
    return np.where(np.isnan(days), 0.5, due)


def customer_value(
    mrr: np.ndarray | pd.Series,
    p_churn_30d: np.ndarray | pd.Series,
    months: float = HORIZON_MONTHS,
    first_payment: np.ndarray | pd.Series | float = 1.0,
) -> np.ndarray:
    """Expected revenue of paying customers over `months`: mrr × survival_sum."""
    recurring = np.clip(np.nan_to_num(np.asarray(mrr, dtype=float)), 0.0, None)
    return recurring * survival_sum(p_churn_30d, months, first_payment)


def _recent(customers: pd.DataFrame, new_within_days: int) -> np.ndarray:
    recent = customers["tenure_days"].le(new_within_days).fillna(False).to_numpy(dtype=bool)
    return recent if recent.any() else np.ones(len(customers), dtype=bool)


def acquired_value(customers: pd.DataFrame, months_left: np.ndarray) -> np.ndarray:
    """Mean over `customers` (mrr, churn_probability) of what one pays when acquired with
    `months_left` of the horizon to go: the first order plus the expected renewals after it."""
    left = np.asarray(months_left, dtype=float)
    mrr = np.clip(np.nan_to_num(customers["mrr"].to_numpy(dtype=float)), 0.0, None)
    p = customers["churn_probability"].to_numpy(dtype=float)
    out = np.empty(len(left))
    for i, remaining in enumerate(left):
        renewals = survival_sum(p, max(remaining, 0.0))  # due 1, 2, ... months after
        out[i] = float(np.mean(mrr * (1.0 + renewals)))
    return out


def lead_value(
    purchase_propensity: np.ndarray | pd.Series,
    new_customers: pd.DataFrame,
    months: float = HORIZON_MONTHS,
    *,
    window_days: int = PURCHASE_WINDOW_DAYS,
) -> np.ndarray:
    """Expected value over `months` of leads with a `window_days` purchase probability:
    Σ over days d of P(first purchase on d) × acquired_value(months left after d)."""
    p = np.clip(np.asarray(purchase_propensity, dtype=float), 0.0, 1.0)
    days = np.arange(1, int(round(months * DAYS_PER_MONTH)) + 1)
    if not len(days) or new_customers.empty:
        return np.full(len(p), np.nan if new_customers.empty else 0.0)
    worth = acquired_value(new_customers, (days[-1] - days) / DAYS_PER_MONTH)
    keep = (1.0 - p) ** (1.0 / window_days)  # per day, so that 1 - keep^window = p
    # P(first purchase on day d) = keep^(d-1) (1 - keep), accumulated day by day (a leads ×
    # days matrix would cost memory at 10× the demo).
    total, not_yet = np.zeros(len(p)), np.ones(len(p))
    for value in worth:
        total += not_yet * (1.0 - keep) * value
        not_yet *= keep
    return total


def new_customer_groups(
    customers: pd.DataFrame,
    *,
    new_within_days: int = NEW_CUSTOMER_DAYS,
    min_customers: int = MIN_SEGMENT_CUSTOMERS,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The recently started customers (tenure_days at most `new_within_days`; every customer
    when none is) per segment with at least `min_customers` of them, and all of them."""
    recent = customers[_recent(customers, new_within_days)]
    by_segment = {
        str(segment): group
        for segment, group in recent.groupby("segment")
        if len(group) >= min_customers
    }
    return by_segment, recent


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
            scores.loc[paying, "mrr"],
            scores.loc[paying, "churn_probability"],
            months,
            months_to_next_renewal(scores.loc[paying, "tenure_days"]),
        )
    leads = scores["purchase_propensity"].notna() & ~paying
    if leads.any():
        by_segment, recent = new_customer_groups(scores[paying])
        segment = (
            scores.loc[leads, "segment"]
            .astype(object)
            .map(lambda s: str(s) if str(s) in by_segment else None)
        )
        for name, rows in segment.groupby(segment.fillna(""), sort=False):
            group = by_segment.get(name, recent)
            index = rows.index
            out[index] = lead_value(scores.loc[index, "purchase_propensity"], group, months)
    return out
