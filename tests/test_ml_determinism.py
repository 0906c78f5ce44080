"""The same rows give the same model, whatever their order and however many threads fit it
(issue 12: seven trainings on identical warehouse data gave seven AUCs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from ml import train_classifier
from ml.features import canonical_order
from ml.synthetic import make_customer_frame
from ml.train import TrainingResult

KEYS = dict(time_column="snapshot_date", id_columns=["customer_id"])


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_customer_frame(n_customers=300, n_snapshots=5, positive_rate=0.08, seed=3)


@pytest.fixture(scope="module")
def trained(frame: pd.DataFrame) -> TrainingResult:
    return train_classifier(frame, "churned", **KEYS)


def _same_model(a: TrainingResult, b: TrainingResult, frame: pd.DataFrame) -> None:
    assert a.model_family == b.model_family
    timeless = [{k: v for k, v in r.metrics.items() if k != "fit_seconds"} for r in (a, b)]
    assert timeless[0] == timeless[1]  # exactly, not approximately (wall time aside)
    assert a.candidates == b.candidates
    assert a.params == b.params
    features = frame.drop(columns=["churned"])
    assert np.array_equal(a.pipeline.predict_proba(features), b.pipeline.predict_proba(features))
    keys = [KEYS["time_column"], *KEYS["id_columns"]]
    valid_a, valid_b = (r.validation.sort_values(keys).reset_index(drop=True) for r in (a, b))
    pd.testing.assert_frame_equal(valid_a, valid_b, check_exact=True)


def test_shuffled_rows_give_the_same_model(frame: pd.DataFrame, trained: TrainingResult) -> None:
    for seed in (1,):
        shuffled = frame.sample(frac=1.0, random_state=seed)
        _same_model(trained, train_classifier(shuffled, "churned", **KEYS), frame)
        # Fresh index labels too: the warehouse hands over a new RangeIndex each read.
        _same_model(
            trained,
            train_classifier(shuffled.reset_index(drop=True), "churned", **KEYS),
            frame,
        )


def test_native_threads_do_not_change_the_model(
    frame: pd.DataFrame, trained: TrainingResult
) -> None:
    # train_classifier pins OpenMP/BLAS to one thread; the undecorated trainer under two
    # threads must give the same numbers (boosting parallelises over features, not rows).
    with threadpool_limits(limits=2):
        two_threads = train_classifier.__wrapped__(frame, "churned", **KEYS)
    _same_model(trained, two_threads, frame)


def test_canonical_order_depends_on_values_only(frame: pd.DataFrame) -> None:
    keys = ["snapshot_date", "customer_id"]
    expected = canonical_order(frame, keys)
    shuffled = canonical_order(frame.sample(frac=1.0, random_state=5), keys)
    assert expected.index.equals(shuffled.index)
    assert expected[keys].equals(expected[keys].sort_values(keys))
    # Without keys (or with keys that tie) the whole row decides.
    assert canonical_order(frame).index.equals(
        canonical_order(frame.sample(frac=1.0, random_state=6)).index
    )
