"""Synthetic customer frames with a planted signal, for tests and benchmarks.

The frame has the awkward shapes real feature tables have (numbers as text, blanks, booleans,
a high-cardinality category, a constant, ids, dates), and one strong driver, `sessions_drop`,
plus a weaker one, `tickets_open`, so that a test can check the model finds them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_customer_frame(
    n_customers: int = 400,
    n_snapshots: int = 5,
    *,
    positive_rate: float = 0.05,
    n_noise: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per customer × weekly snapshot; label `churned` at about `positive_rate`."""
    rng = np.random.default_rng(seed)
    n = n_customers * n_snapshots
    customer = np.tile(np.arange(n_customers), n_snapshots)
    snapshot = np.repeat(
        pd.date_range("2026-01-05", periods=n_snapshots, freq="7D").to_numpy(), n_customers
    )
    sessions_drop = rng.normal(size=n)
    tickets_open = rng.poisson(0.5, size=n)
    spend = rng.gamma(2.0, 600.0, size=n)
    # Intercept chosen so that the share of positives lands near positive_rate.
    logit = 2.2 * sessions_drop + 0.6 * tickets_open
    intercept = _intercept_for_rate(logit, positive_rate)
    churned = (rng.random(n) < 1.0 / (1.0 + np.exp(-(intercept + logit)))).astype(int)
    spend_text = np.array([f"{v:,.2f}" for v in spend], dtype=object)
    spend_text[rng.random(n) < 0.08] = ""
    frame = pd.DataFrame(
        {
            "customer_id": [f"cus_{i:06d}" for i in customer],
            "snapshot_date": pd.to_datetime(snapshot),
            "sessions_drop": np.where(rng.random(n) < 0.05, np.nan, sessions_drop),
            "tickets_open": tickets_open,
            "lifetime_spend": spend_text,
            "plan": rng.choice(["basic", "pro", "team", None], size=n, p=[0.5, 0.3, 0.15, 0.05]),
            "city": [f"city_{k}" for k in rng.zipf(1.6, size=n) % 500],
            "marketing_consent": rng.random(n) < 0.6,
            "source_system": "crm",
            "last_order_at": pd.to_datetime(snapshot)
            - pd.to_timedelta(rng.integers(1, 90, n), "D"),
        }
    )
    for k in range(n_noise):
        frame[f"noise_{k:02d}"] = rng.normal(size=n)
    frame["churned"] = churned
    return frame


def _intercept_for_rate(logit: np.ndarray, rate: float) -> float:
    low, high = -20.0, 20.0
    for _ in range(60):  # bisection: the mean probability is monotone in the intercept
        mid = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(mid + logit)))) > rate:
            high = mid
        else:
            low = mid
    return (low + high) / 2
