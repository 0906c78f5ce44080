"""Metrics against scikit-learn's own implementations and hand-computed cases."""

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score

from ml.evaluate import calibration_table, cumulative_gains, evaluate, lift_at_k, precision_at_k


@pytest.fixture
def scores():
    rng = np.random.default_rng(3)
    y = (rng.random(500) < 0.2).astype(int)
    score = np.clip(0.2 + 0.3 * (y - 0.2) + rng.normal(0, 0.15, 500), 0.001, 0.999)
    return y, score


def test_evaluate_matches_sklearn(scores):
    y, score = scores
    metrics = evaluate(y, score)
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(y, score))
    assert metrics["pr_auc"] == pytest.approx(average_precision_score(y, score))
    assert metrics["brier"] == pytest.approx(brier_score_loss(y, score))
    assert metrics["log_loss"] == pytest.approx(log_loss(y, score))
    assert metrics["rows"] == 500
    assert metrics["positives"] == y.sum()


def test_lift_and_precision_hand_computed():
    # 10 rows, 3 positives (prevalence 0.3). Top decile = 1 row (a positive): precision 1,
    # lift 1/0.3. Top 4 hold 2 positives: precision 0.5, lift 0.5/0.3.
    y = [1, 0, 1, 0, 0, 0, 1, 0, 0, 0]
    s = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    metrics = evaluate(y, s, k=4)
    assert metrics["precision_top_decile"] == 1.0
    assert metrics["lift_top_decile"] == pytest.approx(1 / 0.3)
    assert metrics["precision_at_k"] == 0.5
    assert metrics["lift_at_k"] == pytest.approx(0.5 / 0.3)
    assert precision_at_k(y, s, 3) == pytest.approx(2 / 3)
    assert lift_at_k(y, s, 10) == pytest.approx(1.0)


def test_cumulative_gains_hand_computed():
    gains = cumulative_gains([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1])
    assert gains["share_of_positives"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert gains["share_contacted"].tolist() == [0.25, 0.5, 0.75, 1.0]


def test_calibration_table_matches_sklearn_calibration_curve(scores):
    y, score = scores
    table = calibration_table(y, score, n_bins=10)
    observed, predicted = calibration_curve(y, score, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(table["observed_rate"], observed)
    np.testing.assert_allclose(table["mean_predicted"], predicted)
    assert table["rows"].sum() == len(y)
    assert (table["lower"] <= table["mean_predicted"]).all()
    assert (table["mean_predicted"] <= table["upper"]).all()


def test_one_class_gives_nan_auc_and_bad_input_raises():
    metrics = evaluate([0, 0, 0], [0.1, 0.2, 0.3])
    assert np.isnan(metrics["roc_auc"])
    with pytest.raises(ValueError, match="0/1"):
        evaluate([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluate([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="same length"):
        evaluate(pd.Series([0, 1]), [0.5])
