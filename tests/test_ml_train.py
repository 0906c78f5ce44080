"""The trainer on awkward synthetic frames with a planted signal."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn.metrics import roc_auc_score

from ml import train_classifier, write_evaluation_plots
from ml.synthetic import make_customer_frame
from ml.train import BLEND, MAX_CATEGORIES, build_pipeline, choose_calibration, time_split


@pytest.fixture(scope="module")
def frame():
    return make_customer_frame(n_customers=500, n_snapshots=5, positive_rate=0.05, seed=7)


@pytest.fixture(scope="module")
def result(frame):
    return train_classifier(
        frame, "churned", time_column="snapshot_date", id_columns=["customer_id"]
    )


def test_planted_signal_is_found_despite_imbalance(frame, result):
    assert 0.03 < frame["churned"].mean() < 0.07
    # Compare with the AUC of the true (planted) logit on the same rows: the best any model
    # can expect, up to noise.
    valid = frame.loc[result.validation_index]
    oracle = roc_auc_score(
        valid["churned"], 2.2 * valid["sessions_drop"].fillna(0) + 0.6 * valid["tickets_open"]
    )
    assert result.metrics["roc_auc"] > 0.8
    assert result.metrics["roc_auc"] > oracle - 0.03
    assert result.metrics["roc_auc"] == pytest.approx(
        roc_auc_score(result.validation["y_true"], result.validation["y_score"])
    )
    assert result.metrics["positives"] == result.validation["y_true"].sum()
    assert result.metrics["rows"] == len(result.validation)
    assert set(result.candidates) == {"logistic_regression", "hist_gradient_boosting", "blend"}
    best = max(result.candidates, key=lambda f: result.candidates[f]["roc_auc"])
    assert result.model_family == best


def test_columns_inferred_on_mixed_types(result):
    cols = result.feature_columns
    assert set(cols.numeric) == {
        "sessions_drop",
        "tickets_open",
        "lifetime_spend",
        "marketing_consent",
    }
    assert set(cols.categorical) == {"plan", "city"}
    assert cols.excluded["source_system"] == "constant"
    assert cols.excluded["customer_id"] == "id column (given)"
    assert cols.excluded["last_order_at"].startswith("datetime")


def test_time_split_is_honoured(frame, result):
    valid_times = result.validation["snapshot_date"]
    train_times = frame.loc[~frame.index.isin(result.validation_index), "snapshot_date"]
    assert train_times.max() < valid_times.min()
    assert result.validation_window == (valid_times.min(), valid_times.max())
    # 5 weekly snapshots: the last 20% of distinct times is exactly the last week.
    assert valid_times.nunique() == 1
    assert len(result.validation) == 500


def test_time_split_keeps_equal_times_together():
    times = pd.Series(pd.to_datetime(["2026-01-01"] * 3 + ["2026-01-02"] * 3 + ["2026-01-03"] * 4))
    train, valid = time_split(times, share=0.2)
    assert list(valid) == [6, 7, 8, 9]
    assert list(train) == [0, 1, 2, 3, 4, 5]


def test_pipeline_scores_the_input_frame_with_time_and_id_columns(frame, result):
    features = frame.drop(columns=["churned"]).head(50)
    probability = result.pipeline.predict_proba(features)[:, 1]
    assert probability.shape == (50,)
    assert ((probability >= 0) & (probability <= 1)).all()
    # Calibrated: the mean predicted probability is close to the observed rate.
    assert result.pipeline.predict_proba(frame.drop(columns=["churned"]))[:, 1].mean() == (
        pytest.approx(frame["churned"].mean(), abs=0.02)
    )


def test_unseen_categories_and_text_numbers_at_scoring_time(frame, result):
    odd = frame.drop(columns=["churned"]).head(3).copy()
    odd["city"] = ["atlantis", None, ""]
    odd["lifetime_spend"] = ["9,999.00", " 12 ", "not a number"]
    probability = result.pipeline.predict_proba(odd)[:, 1]
    assert np.isfinite(probability).all()


def test_stratified_split_without_time_column(frame):
    small = frame.head(1500)
    result = train_classifier(small, "churned", id_columns=["customer_id"])
    assert result.validation_window is None
    assert len(result.validation) == 300
    rate_valid = result.validation["y_true"].mean()
    assert rate_valid == pytest.approx(small["churned"].mean(), abs=0.01)
    assert result.metrics["roc_auc"] > 0.8


def test_label_end_column_embargoes_overlapping_training_rows(frame):
    labelled = frame.assign(label_end=frame["snapshot_date"] + pd.Timedelta(days=10))
    result = train_classifier(
        labelled,
        "churned",
        time_column="snapshot_date",
        id_columns=["customer_id"],
        label_end_column="label_end",
    )
    # Week 4's labels end 3 days into week 5 (validation): 4 weeks minus one = 3 weeks train.
    assert result.metrics["training_rows"] == 1500
    assert "label_end" not in result.feature_columns.all


def test_missing_labels_are_dropped(frame):
    unlabeled = frame.copy()
    unlabeled["churned"] = unlabeled["churned"].astype("Int64")
    unlabeled.loc[unlabeled.index[:100], "churned"] = pd.NA
    result = train_classifier(unlabeled, "churned", time_column="snapshot_date")
    assert result.training_rows == len(frame) - 100


def test_bad_labels_raise_with_column_and_values(frame):
    bad = frame.assign(churned=frame["churned"].replace({1: 3}))
    with pytest.raises(ValueError, match=r"'churned'.*3"):
        train_classifier(bad, "churned")
    one_class = frame.assign(churned=0)
    with pytest.raises(ValueError, match=r"'churned' has only class 0"):
        train_classifier(one_class, "churned")
    with pytest.raises(ValueError, match="'nope' not in frame"):
        train_classifier(frame, "nope")


def test_evaluation_plots_are_real_pngs(frame, result, tmp_path):
    paths = write_evaluation_plots(result, frame.loc[result.validation_index], tmp_path)
    assert set(paths) == {
        "roc",
        "precision_recall",
        "calibration",
        "cumulative_gains",
        "permutation_importance",
    }
    for path in paths.values():
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size[0] >= 300


def test_high_cardinality_category_is_capped_in_both_families(frame, result):
    assert frame["city"].nunique() > 100
    for family in ("logistic_regression", "hist_gradient_boosting"):
        pipeline = build_pipeline(family, result.feature_columns).fit(
            frame.drop(columns=["churned"]), frame["churned"]
        )
        names = pipeline.named_steps["prep"].get_feature_names_out()
        city_outputs = [n for n in names if n.startswith("city")]
        if family == "logistic_regression":
            assert 2 <= len(city_outputs) <= MAX_CATEGORIES
        else:
            # One ordinal column; rare cities share the "infrequent" code.
            assert len(city_outputs) == 1
            encoded = pipeline.named_steps["prep"].transform(frame.drop(columns=["churned"]))
            city_codes = encoded[:, list(names).index("city")]
            assert len(np.unique(city_codes[~np.isnan(city_codes)])) <= MAX_CATEGORIES


def test_calibration_method_follows_data_size():
    small = pd.Series([0] * 900 + [1] * 100)
    big = pd.Series([0] * 9000 + [1] * 1000)
    big_but_rare = pd.Series([0] * 9900 + [1] * 100)
    assert choose_calibration(small) == "sigmoid"
    assert choose_calibration(big) == "isotonic"
    assert choose_calibration(big_but_rare) == "sigmoid"


def test_a_feature_empty_in_the_training_period_does_not_break_boosting() -> None:
    """A rare feature first seen in the validation period is all-missing where trees are fit."""
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame(
        {
            "snapshot_date": np.repeat(pd.date_range("2026-01-01", periods=6, freq="7D"), 100),
            "x": rng.normal(size=n),
            "rare": np.where(np.arange(n) > 550, 1.0, np.nan),
            "customer_id": [f"c{i}" for i in range(n)],
        }
    )
    frame["label"] = (frame["x"] + rng.normal(size=n) > 1).astype(int)
    result = train_classifier(
        frame, "label", time_column="snapshot_date", id_columns=["customer_id"]
    )
    assert "hist_gradient_boosting" in result.candidates
    assert result.metrics["roc_auc"] > 0.75
    assert result.pipeline.predict_proba(frame.drop(columns=["label"])).shape == (n, 2)


def test_blend_averages_both_calibrated_families_and_scores_like_any_model(frame) -> None:
    import skops.io

    from ml import score_frame
    from ml.tracking import trusted_types

    x, y = frame.drop(columns=["churned"]), frame["churned"].astype(int)
    result = train_classifier(frame, "churned", id_columns=["customer_id"])
    blend = build_pipeline(BLEND, result.feature_columns, calibration="sigmoid").fit(x, y)
    members = {
        family: build_pipeline(family, result.feature_columns, calibration="sigmoid").fit(x, y)
        for family in ("logistic_regression", "hist_gradient_boosting")
    }
    expected = np.mean([m.predict_proba(x)[:, 1] for m in members.values()], axis=0)
    assert np.allclose(blend.predict_proba(x)[:, 1], expected)
    # Reason codes find the input columns through the members' ColumnTransformer.
    scored = score_frame(blend, x.head(50), id_columns=["customer_id"])
    reasons = scored["reason_1"].dropna()
    assert len(reasons) > 0
    assert reasons.str.split("=").str[0].isin(result.feature_columns.all).all()
    # MLflow saves it with skops: every type in it must be on the trusted list.
    loaded = skops.io.loads(skops.io.dumps(blend), trusted=trusted_types(blend))
    assert np.allclose(loaded.predict_proba(x.head(50))[:, 1], expected[:50])
