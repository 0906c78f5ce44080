"""ml.segments without Dagster: k selection, names, stable ids, profiles, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from ml.segments import (
    choose_k,
    fit_segments,
    match_segment_ids,
    name_segments,
    profile_segments,
    segment_chart,
)

CHANNELS = ("direct", "organic_search", "paid_search", "email")
# Four journey types: a dominant channel, days to evaluation (None: never) and active days.
TYPES = (
    ("email", 1.0, 40),
    ("paid_search", 5.0, 15),
    ("organic_search", 40.0, 6),
    ("direct", None, 2),
)


def synthetic_features(per_type: int = 120, seed: int = 3) -> pd.DataFrame:
    """Rows shaped like marts.customer_journey_features, from four well-separated types."""
    rng = np.random.default_rng(seed)
    rows = []
    for t, (channel, days, active) in enumerate(TYPES):
        for i in range(per_type):
            shares = rng.dirichlet(np.ones(len(CHANNELS))) * 0.2
            shares[CHANNELS.index(channel)] += 0.8
            touches = int(active * 1.5) + 1
            converted = bool(rng.random() < 0.2 + 0.2 * t)
            rows.append(
                {
                    "customer_id": f"cus_{t}_{i:04d}",
                    "true_type": t,
                    "as_of_date": pd.Timestamp("2026-05-30"),
                    "marketing_touches": touches,
                    "entry_channel": channel,
                    **{f"share_{c}": float(s) for c, s in zip(CHANNELS, shares, strict=True)},
                    "distinct_channels": 2 + int(rng.integers(0, 2)),
                    "channel_repeat_rate": 0.6 + rng.normal(0, 0.05),
                    f"bigram_{channel}__{channel}": touches - 1,
                    "days_to_consideration": 0.5,
                    "days_to_evaluation": None if days is None else days * rng.uniform(0.8, 1.2),
                    "active_days": int(active * rng.uniform(0.8, 1.2)),
                    "sessions_per_active_week": 1.0 + active / 10,
                    "pricing_views": int(active / 3),
                    "docs_views": int(active / 4),
                    "email_open_rate": 0.6 if channel == "email" else 0.1,
                    "email_click_rate": 0.2 if channel == "email" else 0.01,
                    "converted": converted,
                    "revenue": 100.0 if converted else 0.0,
                    "churned": converted and i % 4 == 0,
                    "days_to_convert": float(10 + t) if converted else None,
                }
            )
    frame = pd.DataFrame(rows)
    bigrams = [c for c in frame.columns if c.startswith("bigram_")]
    frame[bigrams] = frame[bigrams].fillna(0).astype(int)
    return frame


@pytest.fixture(scope="module")
def features() -> pd.DataFrame:
    return synthetic_features()


@pytest.fixture(scope="module")
def segmentation(features: pd.DataFrame):
    return fit_segments(features.drop(columns="true_type"))


def test_choose_k_prefers_the_best_silhouette_and_the_smaller_k_on_a_tie() -> None:
    assert choose_k({3: 0.30, 4: 0.42, 5: 0.35}) == 4
    assert choose_k({3: 0.40, 4: 0.403, 5: 0.2}) == 3  # within 0.005: a tie
    assert choose_k({3: 0.40, 4: 0.41, 5: 0.2}) == 4


def test_k_selection_recovers_the_four_synthetic_journey_types(features, segmentation) -> None:
    assert segmentation.k == 4
    assert max(segmentation.silhouettes, key=segmentation.silhouettes.get) == 4
    merged = segmentation.assignments.merge(features[["customer_id", "true_type"]])
    assert adjusted_rand_score(merged["true_type"], merged["segment_id"]) > 0.95


def test_names_are_unique_and_name_the_dominant_channel(features, segmentation) -> None:
    names = segmentation.centroids.set_index("segment_id")["segment_name"]
    assert names.is_unique
    merged = segmentation.assignments.merge(features[["customer_id", "true_type"]])
    for segment_id, rows in merged.groupby("segment_id"):
        channel, days, _ = TYPES[rows["true_type"].mode()[0]]
        name = names[segment_id]
        assert name.startswith(channel.replace("_", " ") + "-led, "), name
        if days is None:
            assert name.endswith("browsers"), name
        if days == 1.0:
            assert "fast evaluators" in name and "highly engaged" in name, name


def test_identical_centroids_still_get_unique_names(features, segmentation) -> None:
    feature_frame = segmentation.pipeline[0].transform(features)
    centroid = feature_frame.mean()
    twins = pd.DataFrame([centroid, centroid * 1.01, centroid * 0.99], index=[7, 8, 9])
    names = name_segments(twins, feature_frame)
    assert len(set(names.values())) == 3
    assert all("-led, " in n or n.startswith("mixed-channel, ") for n in names.values())


def test_ids_follow_the_centroids_when_the_clusters_come_back_permuted(segmentation) -> None:
    previous = segmentation.centroids.drop(columns="segment_name")
    features_only = previous.drop(columns="segment_id")
    permuted = features_only.iloc[[2, 0, 3, 1]].set_axis(["a", "b", "c", "d"])
    to_space = segmentation.pipeline[1:-1].transform
    mapping = match_segment_ids(permuted, previous, to_space)
    expected = previous["segment_id"].iloc[[2, 0, 3, 1]].tolist()
    assert [mapping[label] for label in "abcd"] == expected


def test_a_new_cluster_gets_a_new_id_and_refits_keep_ids(features, segmentation) -> None:
    previous = segmentation.centroids.drop(columns="segment_name")
    # The previous fit had only three of the four segments: the fourth is new.
    three = previous[previous["segment_id"] != 2]
    refit = fit_segments(features.drop(columns="true_type"), previous_centroids=three)
    before = segmentation.assignments.set_index("customer_id")["segment_id"]
    after = refit.assignments.set_index("customer_id")["segment_id"]
    kept = before != 2
    assert (after[kept] == before[kept]).all()
    assert set(after[~kept]) == {int(previous["segment_id"].max()) + 1}
    # With the full previous fit, a refit of shuffled rows gives every customer their id.
    shuffled = features.drop(columns="true_type").sample(frac=1.0, random_state=1)
    again = fit_segments(shuffled, previous_centroids=previous)
    pd.testing.assert_frame_equal(again.assignments, segmentation.assignments)


def test_the_same_rows_in_any_order_give_the_same_segments(features, segmentation) -> None:
    shuffled = features.drop(columns="true_type").sample(frac=1.0, random_state=7)
    pd.testing.assert_frame_equal(fit_segments(shuffled).assignments, segmentation.assignments)


def test_profile_counts_rates_and_medians_by_hand() -> None:
    frame = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "converted": [True, True, False, True, False],
            "revenue": [100.0, 50.0, 0.0, 30.0, 0.0],
            "churned": [True, False, False, False, False],
            "days_to_convert": [2.0, 4.0, None, 9.0, None],
        }
    )
    assignments = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e"],
            "segment_id": [1, 1, 1, 2, 2],
            "segment_name": ["x", "x", "x", "y", "y"],
        }
    )
    profile = profile_segments(frame, assignments).set_index("segment_id")
    assert profile["customers"].sum() == len(frame)
    assert profile["revenue"].sum() == frame["revenue"].sum()
    assert profile.loc[1, "conversion_rate"] == pytest.approx(2 / 3)
    assert profile.loc[1, "churn_rate"] == pytest.approx(1 / 2)  # of its two buyers
    assert profile.loc[1, "median_days_to_convert"] == pytest.approx(3.0)
    assert profile.loc[2, "conversion_rate"] == pytest.approx(1 / 2)
    assert profile.loc[2, "churn_rate"] == 0.0
    assert profile.loc[2, "median_days_to_convert"] == pytest.approx(9.0)


def test_profile_of_the_fit_sums_to_every_customer(features, segmentation) -> None:
    profile = profile_segments(features, segmentation.assignments)
    assert profile["customers"].sum() == len(features)
    assert profile["revenue"].sum() == pytest.approx(features["revenue"].sum())
    assert segment_chart(profile).startswith(b"\x89PNG")


def test_outcomes_are_never_clustering_inputs(features, segmentation) -> None:
    columns = segmentation.pipeline[0].transform(features).columns
    for outcome in ("converted", "revenue", "churned", "days_to_convert"):
        assert not any(outcome in c for c in columns)
