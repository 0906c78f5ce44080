"""Scoring: probabilities, risk bands and reason codes naming the planted driver."""

import time

import numpy as np
import pandas as pd
import pytest

from ml import RiskBands, score_frame, train_classifier
from ml.score import contributions, model_input_columns, perturbed_probabilities
from ml.synthetic import make_customer_frame
from ml.train import BLEND, build_pipeline


@pytest.fixture(scope="module")
def trained():
    frame = make_customer_frame(n_customers=600, n_snapshots=4, positive_rate=0.15, seed=11)
    result = train_classifier(
        frame, "churned", time_column="snapshot_date", id_columns=["customer_id"]
    )
    return frame, result


def test_score_adds_probability_band_and_three_reasons(trained):
    frame, result = trained
    features = frame.drop(columns=["churned"])
    scored = score_frame(
        result.pipeline,
        features,
        id_columns=["customer_id", "snapshot_date"],
        thresholds=RiskBands(high=0.5, medium=0.2),
        reference=result.reference_values,
    )
    assert list(scored.columns) == [
        "customer_id",
        "snapshot_date",
        "probability",
        "risk_band",
        "reason_1",
        "reason_2",
        "reason_3",
    ]
    assert len(scored) == len(frame)
    expected = np.where(
        scored["probability"] >= 0.5,
        "high",
        np.where(scored["probability"] >= 0.2, "medium", "low"),
    )
    assert (scored["risk_band"] == expected).all()
    high = scored[scored["risk_band"] == "high"]
    assert len(high) >= 20
    # The planted driver explains high-risk rows.
    names_driver = high["reason_1"].str.startswith("sessions_drop=")
    assert names_driver.mean() > 0.8
    assert high["reason_1"].str.fullmatch(r"\w+=.+ \(\+\d\.\d\d\)").all()
    # Reasons are ordered by contribution, largest first.
    first = high["reason_1"].str.extract(r"\(\+(\d\.\d\d)\)")[0].astype(float)
    second = high["reason_2"].dropna().str.extract(r"\(\+(\d\.\d\d)\)")[0].astype(float)
    assert (first.loc[second.index] >= second).all()


def test_reference_computed_from_frame_when_not_given(trained):
    frame, result = trained
    scored = score_frame(
        result.pipeline, frame.drop(columns=["churned"]).head(200), id_columns=["customer_id"]
    )
    assert scored["reason_1"].notna().any()
    assert scored["probability"].between(0, 1).all()


def test_risk_bands_validate_and_band():
    bands = RiskBands(high=0.3, medium=0.1)
    assert list(bands.band(np.array([0.05, 0.1, 0.29, 0.3]))) == ["low", "medium", "medium", "high"]
    with pytest.raises(ValueError, match="medium < high"):
        RiskBands(high=0.2, medium=0.5)


def test_score_missing_id_column_raises(trained):
    frame, result = trained
    with pytest.raises(ValueError, match="not_there"):
        score_frame(result.pipeline, frame, id_columns=["not_there"])


def test_scoring_50k_rows_with_many_features_takes_seconds():
    frame = make_customer_frame(n_customers=2000, n_snapshots=2, n_noise=20, seed=5)
    result = train_classifier(frame, "churned", id_columns=["customer_id"])
    big = pd.concat([frame.drop(columns=["churned"])] * 13, ignore_index=True).head(50_000)
    started = time.perf_counter()
    scored = score_frame(
        result.pipeline, big, id_columns=["customer_id"], reference=result.reference_values
    )
    elapsed = time.perf_counter() - started
    assert len(scored) == 50_000
    assert elapsed < 30, f"scoring 50k rows took {elapsed:.1f}s"


@pytest.mark.parametrize("family", ["logistic_regression", "hist_gradient_boosting", BLEND])
def test_fast_contributions_equal_one_predict_per_feature(trained, family):
    """The cheap reason codes (one transform; linear algebra for the logistic part, tree by
    tree for boosting) give the same numbers as re-scoring with each feature at reference."""
    frame, result = trained
    x = frame.drop(columns=["churned"])
    pipeline = build_pipeline(family, result.feature_columns, calibration="sigmoid")
    pipeline.fit(x, frame["churned"])
    columns = model_input_columns(pipeline)
    base = pipeline.predict_proba(x)[:, 1]
    fast = contributions(pipeline, x, result.reference_values, columns, base)
    slow = contributions(pipeline, x, result.reference_values, columns, base, fast=False)
    assert perturbed_probabilities(pipeline, x, result.reference_values, columns) is not None
    np.testing.assert_allclose(fast, slow, atol=1e-9)
    assert np.abs(slow).max() > 0.05  # the comparison is not between two zero matrices
