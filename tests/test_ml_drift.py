"""ml.drift: PSI against hand-computed cases, its bins (quantiles, categories, missing) and the
gate's statuses."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, norm

from ml.drift import (
    EPSILON,
    MISSING,
    OTHER,
    drift_markdown,
    drift_reference,
    drift_table,
    drift_table_from_reference,
    feature_bins,
    importance_ranks,
    is_top_feature,
    noise_psi,
    overall_status,
    psi,
    psi_of_shares,
    status_of,
)


def normal_sample(n: int, shift: float = 0.0) -> pd.Series:
    """n evenly spaced quantiles of N(shift, 1): a noise-free 'sample' of the distribution."""
    return pd.Series(norm.ppf((np.arange(n) + 0.5) / n) + shift)


def test_identical_samples_have_psi_zero():
    values = normal_sample(5000)
    assert psi(values, values) == pytest.approx(0.0, abs=1e-12)
    # Same distribution, different draws: sampling noise only.
    rng = np.random.default_rng(0)
    assert psi(rng.normal(size=20_000), rng.normal(size=20_000)) < 0.005


@pytest.mark.parametrize("shift", [0.1, 0.5, 1.0])
def test_shifted_normal_matches_the_hand_computed_value(shift):
    # Decile bins of N(0, 1): cut points z_1..z_9, expected share 0.1 each. A mean shift
    # moves Φ(z_i − shift) − Φ(z_{i−1} − shift) into bin i.
    cuts = np.concatenate([[-np.inf], norm.ppf(np.arange(1, 10) / 10), [np.inf]])
    actual = np.diff(norm.cdf(cuts - shift))
    by_hand = sum((a - 0.1) * math.log(a / 0.1) for a in actual)

    value = psi(normal_sample(100_000), normal_sample(100_000, shift))

    assert value == pytest.approx(by_hand, rel=0.01)
    # The reading the thresholds rely on: 0.5 sd is a warning, 1 sd a block.
    assert {0.1: value < 0.1, 0.5: 0.1 < value < 0.25, 1.0: value > 0.25}[shift]


def test_psi_of_shares_by_hand_with_epsilon_for_an_empty_bin():
    expected, actual = [0.5, 0.3, 0.2], [0.6, 0.4, 0.0]
    by_hand = (
        0.1 * math.log(0.6 / 0.5)
        + 0.1 * math.log(0.4 / 0.3)
        + (EPSILON - 0.2) * math.log(EPSILON / 0.2)
    )
    assert psi_of_shares(expected, actual) == pytest.approx(by_hand)
    # A bin empty on both sides adds nothing.
    assert psi_of_shares([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0


def test_numeric_bins_are_right_closed_so_a_mass_at_zero_stays_in_one_bin():
    counts = pd.Series([0] * 70 + [1] * 20 + [5] * 10, dtype=float)
    bins = feature_bins(counts, "numeric")
    # Deciles 0 (7 times), 1, 1 merge into the cut points 0 and 1 (observed values, not
    # interpolated: no empty training bin between 0 and 1); the 5s fill the last bin.
    assert bins.edges == (0.0, 1.0)
    shares = dict(zip(bins.labels, bins.shares, strict=True))
    assert shares["(-inf, 0]"] == pytest.approx(0.7)
    assert shares["(0, 1]"] == pytest.approx(0.2)
    assert shares["(1, inf]"] == pytest.approx(0.1)
    assert shares[MISSING] == 0.0


def test_missing_values_have_their_own_bin():
    train = pd.Series([1.0, 2.0, 3.0, 4.0] * 25)
    scored = pd.Series([1.0, 2.0, 3.0, 4.0] * 15 + [np.nan] * 40)
    bins = feature_bins(train, "numeric")
    assert bins.shares[-1] == 0.0
    # 40 % of the day is missing where training had none: PSI over the block threshold.
    by_hand = (0.4 - EPSILON) * math.log(0.4 / EPSILON) + 4 * (0.15 - 0.25) * math.log(0.6)
    assert psi(train, scored) == pytest.approx(by_hand, rel=1e-9)
    assert psi(train, scored) > 0.25


def test_categorical_new_category_goes_to_other_and_blank_is_missing():
    train = pd.Series(["basic"] * 60 + ["pro"] * 40)
    scored = pd.Series(["basic"] * 30 + ["pro"] * 20 + ["enterprise"] * 40 + [" ", None] * 5)
    bins = feature_bins(train)
    assert bins.kind == "categorical"
    assert bins.labels == ["basic", "pro", OTHER, MISSING]
    e = [0.6, 0.4, EPSILON, EPSILON]
    a = [0.3, 0.2, 0.4, 0.1]
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert psi(train, scored) == pytest.approx(by_hand)
    assert psi(train, train) == 0.0


def test_booleans_are_numeric_and_counted_by_value():
    train = pd.Series([True] * 20 + [False] * 80)
    scored = pd.Series([True] * 50 + [False] * 50)
    by_hand = (0.5 - 0.8) * math.log(0.5 / 0.8) + (0.5 - 0.2) * math.log(0.5 / 0.2)
    assert psi(train, scored) == pytest.approx(by_hand)


def test_statuses_warn_on_any_feature_block_only_on_top_features():
    assert status_of(0.05, True, 0.1, 0.25) == "ok"
    assert status_of(0.15, True, 0.1, 0.25) == "warn"
    assert status_of(0.30, True, 0.1, 0.25) == "block"
    assert status_of(0.30, False, 0.1, 0.25) == "warn"
    assert status_of(0.25, True, 0.1, 0.25) == "warn"  # thresholds are "above"
    assert status_of(float("nan"), True, 0.1, 0.25) == "ok"  # nothing scored
    assert status_of(0.30, True, 0.1, 0.25, noise=0.4) == "ok"  # sampling noise reaches it
    assert status_of(0.30, True, 0.1, 0.25, noise=0.2) == "block"
    assert is_top_feature(5, 0.02, top_n=5)
    assert not is_top_feature(6, 0.02, top_n=5)
    assert not is_top_feature(None, float("nan"), top_n=5)  # no importance logged
    # In the top 5 but shuffling it costs under half a point of AUC: cannot block.
    assert not is_top_feature(2, 0.004, top_n=5)
    assert is_top_feature(2, 0.004, top_n=5, min_importance=0.0)
    assert importance_ranks({"a": 0.02, "b": 0.05, "c": 0.0, "d": -0.01}) == {"b": 1, "a": 2}


def test_noise_level_follows_the_chi_square_approximation_and_small_samples_do_not_warn():
    # Large samples: PSI ≈ χ²(bins − 1) · (1/n + 1/m) under no drift.
    by_hand = chi2.ppf(0.99, 9) * (1 / 2000 + 1 / 2000)
    assert noise_psi([0.1] * 10, 2000, 2000) == pytest.approx(by_hand, rel=0.15)
    assert noise_psi([0.1] * 10, 261, 331) == pytest.approx(0.15, abs=0.02)
    assert noise_psi([0.1] * 10, 1000, 0) == math.inf  # nothing scored: nothing to judge

    # 40 rows of the training distribution: a PSI over 0.1 that noise explains is ok.
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"x": rng.normal(size=3000)})
    day = pd.DataFrame({"x": rng.normal(size=40)})
    table = drift_table(train, day, ["x"], {"x": 0.1}).iloc[0]
    assert table["psi"] > 0.1 and table["psi"] < table["noise_psi"]
    assert table["status"] == "ok"
    # The same 40 rows shifted by 2 sd are far above the noise: block.
    table = drift_table(train, day + 2, ["x"], {"x": 0.1}).iloc[0]
    assert table["psi"] > table["noise_psi"] and table["status"] == "block"


def training_and_day(shift_column: str | None = None, factor: float = 5.0):
    rng = np.random.default_rng(3)
    n = 4000

    def frame(size: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "sessions_last_30d": rng.poisson(6, size).astype(float),
                "tenure_days": rng.gamma(2.0, 60.0, size),
                "email_clicks_last_30d": rng.poisson(1, size).astype(float),
                "plan": rng.choice(["basic", "pro", "team"], size, p=[0.5, 0.3, 0.2]),
            }
        )

    train, day = frame(n), frame(1500)
    if shift_column:
        day[shift_column] = day[shift_column] * factor
    return train, day


IMPORTANCES = {"sessions_last_30d": 0.08, "plan": 0.03, "tenure_days": 0.01}


def test_drift_table_flags_the_shifted_top_feature_and_reads_back_from_json():
    train, day = training_and_day()
    table = drift_table(train, day, list(train.columns), IMPORTANCES, top_n=2)
    assert list(table.columns) == [
        "feature",
        "kind",
        "psi",
        "noise_psi",
        "importance",
        "importance_rank",
        "top_feature",
        "status",
    ]
    assert set(table["status"]) == {"ok"} and table["psi"].max() < 0.02
    assert overall_status(table) == "ok"

    train, shifted = training_and_day("sessions_last_30d")
    reference = json.loads(json.dumps(drift_reference(train, list(train.columns), IMPORTANCES)))
    table = drift_table_from_reference(reference, shifted, top_n=2).set_index("feature")
    assert table.loc["sessions_last_30d", "status"] == "block"
    assert table.loc["sessions_last_30d", "psi"] > 1
    assert table.loc["sessions_last_30d", "importance_rank"] == 1
    assert table.loc["plan", "kind"] == "categorical"
    assert set(table.drop(index="sessions_last_30d")["status"]) == {"ok"}

    # The same shift on a feature outside the top 2 only warns.
    train, shifted = training_and_day("tenure_days")
    table = drift_table(train, shifted, list(train.columns), IMPORTANCES, top_n=2)
    assert overall_status(table) == "warn"
    assert table.iloc[0]["feature"] == "tenure_days"
    assert "| tenure_days | numeric |" in drift_markdown(table)

    # A shift of a ranked feature whose importance is below the floor only warns too.
    train, shifted = training_and_day("email_clicks_last_30d")
    table = drift_table(
        train, shifted, list(train.columns), {**IMPORTANCES, "email_clicks_last_30d": 0.003}
    )
    assert table.set_index("feature").loc["email_clicks_last_30d", "importance_rank"] == 4
    assert overall_status(table) == "warn"


def test_a_feature_absent_from_the_scored_frame_counts_as_all_missing():
    train, day = training_and_day()
    table = drift_table(train, day.drop(columns=["plan"]), list(train.columns), IMPORTANCES)
    assert table.set_index("feature").loc["plan", "status"] == "block"
