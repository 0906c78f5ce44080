"""Journey segments: cluster known customers by how their journey unfolds.

Input: one row per customer of `marts.customer_journey_features` (dbt). The recipe:
1. derive the clustering features (`journey_features`): channel shares, the entry channel
   (one-hot), channel-bigram shares of the transitions, stage speed, engagement (log counts
   and email rates). The outcome columns (converted, revenue, churned, days_to_convert) are
   never inputs: they describe the segments afterwards (`profile_segments`);
2. standardize, then weight each feature group (channel mix, entry, path, timing,
   engagement) by 1/sqrt(its number of varying columns), so that every group weighs the
   same whatever its width (15 bigram columns would otherwise outvote 2 timing columns);
3. KMeans for k = 3..8 on the same seeded sample; k is the one with the best silhouette,
   a tie (within SILHOUETTE_TIE of the best) going to the smaller k (`choose_k`); refit the
   chosen k on every row;
4. name each segment from its centroid (`name_segments`) and give it a stable id: the new
   centroids are matched to the previous fit's by the Hungarian algorithm on their distance
   in the new fit's standardized space (`match_segment_ids`).

Everything is deterministic: rows are sorted by customer_id first and every random step is
seeded, so the same table gives the same segments.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

ID_COLUMN = "customer_id"
OUTCOME_COLUMNS = ("converted", "revenue", "churned", "days_to_convert")
K_RANGE = range(3, 9)
# Silhouettes closer than this are a tie: the smaller k is simpler to read and act on.
SILHOUETTE_TIE = 0.005
SILHOUETTE_SAMPLE = 3000
SEED = 0
# A stage reached d days after the first touch has speed 1 / (1 + d / 7): 1 on the first day,
# 0.5 after a week, 0 when never reached (before the first purchase).
SPEED_SCALE_DAYS = 7.0
STAGES = ("consideration", "evaluation")
ENGAGEMENT_COUNTS = ("active_days", "sessions_per_active_week", "pricing_views", "docs_views")
ENGAGEMENT_RATES = ("email_open_rate", "email_click_rate")
CHANNEL_LABELS = {"organic_search": "organic search", "paid_search": "paid search",
                  "paid_social": "paid social", "other_channels": "other-channel"}  # fmt: skip


def _channels(frame: pd.DataFrame) -> list[str]:
    return [c.removeprefix("share_") for c in frame.columns if c.startswith("share_")]


def _bigrams(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c.startswith("bigram_")]


def journey_features(frame: pd.DataFrame) -> pd.DataFrame:
    """The clustering features of customer_journey_features rows (columns found by prefix, so
    a new channel or bigram column in the mart is picked up without a code change)."""
    out: dict[str, Any] = {}
    for channel in _channels(frame):
        out[f"channel:{channel}"] = frame[f"share_{channel}"].astype(float)
    # The channel the journey entered by (the path's opening bigram), one column per channel:
    # the acquisition channel is the strongest trace of how a journey started.
    for channel in _channels(frame):
        out[f"entry:{channel}"] = (frame["entry_channel"] == channel).astype(float)
    transitions = (frame["marketing_touches"].astype(float) - 1).clip(lower=1)
    for bigram in _bigrams(frame):
        out[f"path:{bigram.removeprefix('bigram_')}"] = frame[bigram].astype(float) / transitions
    out["path:channel_repeat_rate"] = frame["channel_repeat_rate"].astype(float)
    out["path:distinct_channels"] = frame["distinct_channels"].astype(float)
    for stage in STAGES:
        days = frame[f"days_to_{stage}"].astype(float)
        out[f"timing:{stage}_speed"] = (1.0 / (1.0 + days.clip(lower=0) / SPEED_SCALE_DAYS)).fillna(
            0.0
        )
    for column in ENGAGEMENT_COUNTS:
        out[f"engagement:{column}"] = np.log1p(frame[column].astype(float).clip(lower=0))
    for column in ENGAGEMENT_RATES:
        out[f"engagement:{column}"] = frame[column].astype(float)
    return pd.DataFrame(out, index=frame.index).fillna(0.0)


class GroupWeights(TransformerMixin, BaseEstimator):
    """Multiply each column by 1/sqrt(number of varying columns in its group); constant
    columns (a channel nobody used) get weight 0. Groups are the `group:` name prefixes."""

    def fit(self, X: pd.DataFrame | np.ndarray, y: Any = None) -> GroupWeights:
        # Group names come from the column names; a bare array is one group.
        names = [str(c) for c in getattr(X, "columns", [])] or ["x"] * np.shape(X)[1]
        values = np.asarray(X, dtype=float)
        varying = values.std(axis=0) > 1e-12
        groups = [name.split(":", 1)[0] for name in names]
        sizes = {g: sum(v for v, h in zip(varying, groups, strict=True) if h == g) for g in groups}
        self.weights_ = np.array(
            [1 / math.sqrt(sizes[g]) if v else 0.0 for v, g in zip(varying, groups, strict=True)]
        )
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X: pd.DataFrame | np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=float) * self.weights_


def make_pipeline(k: int, seed: int = SEED) -> Pipeline:
    scaler = StandardScaler().set_output(transform="pandas")
    return Pipeline(
        [
            ("features", FunctionTransformer(journey_features)),
            ("scale", scaler),
            ("weight", GroupWeights()),
            ("cluster", KMeans(n_clusters=k, n_init=10, random_state=seed)),
        ]
    )


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by customer_id: the warehouse returns them in any order, and KMeans'
    result depends on the order."""
    return frame.sort_values(ID_COLUMN, kind="mergesort").reset_index(drop=True)


def choose_k(scores: dict[int, float], tie: float = SILHOUETTE_TIE) -> int:
    """The smallest k whose silhouette is within `tie` of the best."""
    best = max(scores.values())
    return min(k for k, score in scores.items() if score >= best - tie)


def silhouette_by_k(
    frame: pd.DataFrame,
    k_range: Iterable[int] = K_RANGE,
    sample: int = SILHOUETTE_SAMPLE,
    seed: int = SEED,
) -> dict[int, float]:
    """Silhouette of KMeans with each k, fitted and scored on one seeded sample of rows."""
    rows = frame if len(frame) <= sample else frame.sample(sample, random_state=seed)
    scores = {}
    for k in k_range:
        if k >= len(rows):
            break
        pipeline = make_pipeline(k, seed).fit(rows)
        space = pipeline[:-1].transform(rows)
        labels = pipeline[-1].labels_
        scores[k] = float(silhouette_score(space, labels)) if len(set(labels)) > 1 else -1.0
    return scores


@dataclass
class Segmentation:
    pipeline: Pipeline
    k: int
    silhouettes: dict[int, float]
    # One row per customer: customer_id, segment_id, segment_name (canonical order).
    assignments: pd.DataFrame
    # One row per segment: segment_id, segment_name and the centroid in the feature space
    # before scaling (what `match_segment_ids` needs to compare with a later fit).
    centroids: pd.DataFrame
    id_mapping: dict[int, int] = field(default_factory=dict)  # KMeans label -> segment_id


def centroids_in_feature_space(pipeline: Pipeline, features: pd.DataFrame) -> pd.DataFrame:
    """Mean of each cluster's rows over the unscaled clustering features (index: label)."""
    labels = pipeline[-1].labels_
    return features.groupby(labels).mean().sort_index()


def match_segment_ids(
    new_centroids: pd.DataFrame,
    previous: pd.DataFrame | None,
    to_space: Any,
    next_id: int | None = None,
) -> dict[Any, int]:
    """Segment id per row of `new_centroids` (unscaled features, index = new labels).

    `previous`: the last fit's centroids, a `segment_id` column and the feature columns.
    Both sets are mapped into the new fit's standardized, weighted space by `to_space` and
    paired by minimum total distance (Hungarian algorithm). A new centroid left unpaired (k
    grew) gets a new id from `next_id` (default: one more than the largest previous id).
    Without a previous fit, ids are 1..k from the largest segment down (`sizes` order is
    the caller's: pass new_centroids sorted as wanted).
    """
    if previous is None or previous.empty:
        return {label: n + 1 for n, label in enumerate(new_centroids.index)}
    shared = [c for c in new_centroids.columns if c in previous.columns]
    # A feature the previous fit did not have sits at the new fit's mean (0 in the space).
    aligned = previous.reindex(columns=new_centroids.columns)
    aligned = aligned.fillna(new_centroids[shared].mean()).fillna(new_centroids.mean())
    new_space = np.asarray(to_space(new_centroids), dtype=float)
    old_space = np.asarray(to_space(aligned), dtype=float)
    distance = np.linalg.norm(new_space[:, None, :] - old_space[None, :, :], axis=2)
    rows, cols = linear_sum_assignment(distance)
    previous_ids = previous["segment_id"].astype(int).to_numpy()
    pairs = zip(rows, cols, strict=True)
    mapping = {new_centroids.index[r]: int(previous_ids[c]) for r, c in pairs}
    fresh = next_id if next_id is not None else int(previous_ids.max()) + 1
    for label in new_centroids.index:
        if label not in mapping:
            mapping[label] = fresh
            fresh += 1
    return mapping


def _label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel.replace("_", " "))


def _channel_part(centroid: pd.Series, overall: pd.Series) -> str:
    channels = [c for c in centroid.index if c.startswith("channel:") and overall[c] > 0.01]
    lift = (centroid[channels] / overall[channels]).sort_values(ascending=False, kind="mergesort")
    if lift.empty or lift.iloc[0] < 1.15:
        return "mixed-channel"
    first = _label(lift.index[0].removeprefix("channel:"))
    if len(lift) > 1 and lift.iloc[1] >= 1.15 and lift.iloc[1] >= 0.85 * lift.iloc[0]:
        return f"{first} & {_label(lift.index[1].removeprefix('channel:'))}-led"
    return f"{first}-led"


def _speed_part(centroid: pd.Series, overall: pd.Series) -> str:
    speed = centroid["timing:evaluation_speed"]
    ratio = speed / overall["timing:evaluation_speed"] if overall["timing:evaluation_speed"] else 1
    if ratio >= 1.2:
        return "fast evaluators"
    if ratio <= 0.5:
        return "browsers"
    if ratio <= 0.8:
        return "slow evaluators"
    return "steady evaluators"


def _engagement_part(z: pd.Series) -> str:
    level = z[[c for c in z.index if c.startswith("engagement:")]].mean()
    if level >= 0.4:
        return "highly engaged "
    if level <= -0.4:
        return "light-touch "
    return ""


FEATURE_PHRASES = {
    "engagement:active_days": "active days",
    "engagement:sessions_per_active_week": "sessions a week",
    "engagement:pricing_views": "pricing views",
    "engagement:docs_views": "docs views",
    "engagement:email_open_rate": "email opens",
    "engagement:email_click_rate": "email clicks",
    "path:channel_repeat_rate": "channel loyalty",
    "path:distinct_channels": "channels",
    "timing:consideration_speed": "early consideration",
}


def _distinguishing_phrase(z: pd.Series, used: set[str]) -> str | None:
    ranked = (
        z[[c for c in z.index if c in FEATURE_PHRASES]]
        .abs()
        .sort_values(ascending=False, kind="mergesort")
    )
    for column in ranked.index:
        phrase = f"{'more' if z[column] > 0 else 'fewer'} {FEATURE_PHRASES[column]}"
        if phrase not in used:
            return phrase
    return None


def name_segments(centroids: pd.DataFrame, features: pd.DataFrame) -> dict[Any, str]:
    """A readable, unique name per centroid row: '<dominant channel(s)>-led, <engagement>
    <speed>', e.g. 'email-led, highly engaged fast evaluators'.

    Dominant channel: the highest lift of the segment's channel share over the population's
    (two when the second is close); speed: the segment's evaluation speed against the
    population's; engagement: the mean z-score of the engagement features. Two segments
    with the same name get their most distinguishing other trait in brackets; a number as a
    last resort.
    """
    overall = features.mean()
    spread = features.std(ddof=0).replace(0, 1.0)
    names = {}
    for label, centroid in centroids.iterrows():
        z = (centroid - overall) / spread
        names[label] = (
            f"{_channel_part(centroid, overall)}, {_engagement_part(z)}"
            f"{_speed_part(centroid, overall)}"
        )
    counts = pd.Series(names).value_counts()
    for name in counts[counts > 1].index:
        used: set[str] = set()
        for label in [lbl for lbl, n in names.items() if n == name]:
            z = (centroids.loc[label] - overall) / spread
            phrase = _distinguishing_phrase(z, used)
            if phrase is not None:
                used.add(phrase)
                names[label] = f"{name} ({phrase})"
    final: dict[Any, str] = {}
    seen: dict[str, int] = {}
    for label, name in names.items():
        seen[name] = seen.get(name, 0) + 1
        final[label] = name if seen[name] == 1 else f"{name} #{seen[name]}"
    return final


def fit_segments(
    frame: pd.DataFrame,
    previous_centroids: pd.DataFrame | None = None,
    k_range: Iterable[int] = K_RANGE,
    sample: int = SILHOUETTE_SAMPLE,
    seed: int = SEED,
    next_id: int | None = None,
) -> Segmentation:
    """Choose k, fit, name and id the segments of customer_journey_features rows."""
    rows = canonical_order(frame)
    silhouettes = silhouette_by_k(rows, k_range, sample, seed)
    if not silhouettes:
        raise ValueError(
            f"journey segments need more than {min(k_range)} customers; got {len(rows)}"
        )
    k = choose_k(silhouettes)
    pipeline = make_pipeline(k, seed).fit(rows)
    features = pipeline[0].transform(rows)
    centroids = centroids_in_feature_space(pipeline, features)
    labels = pipeline[-1].labels_
    sizes = pd.Series(labels).value_counts()
    # First fit: ids from the largest segment down (ties: label), a stable reading order.
    order = sorted(centroids.index, key=lambda label: (-sizes[label], label))
    centroids = centroids.loc[order]
    mapping = match_segment_ids(centroids, previous_centroids, pipeline[1:-1].transform, next_id)
    names = name_segments(centroids, features)
    assignments = pd.DataFrame(
        {
            ID_COLUMN: rows[ID_COLUMN].to_numpy(),
            "segment_id": [mapping[label] for label in labels],
            "segment_name": [names[label] for label in labels],
        }
    )
    table = centroids.copy()
    table.insert(0, "segment_name", [names[label] for label in centroids.index])
    table.insert(0, "segment_id", [mapping[label] for label in centroids.index])
    table = table.sort_values("segment_id").reset_index(drop=True)
    return Segmentation(pipeline, k, silhouettes, assignments, table, mapping)


def centroid_table_long(centroids: pd.DataFrame) -> pd.DataFrame:
    """(segment_id, segment_name, feature, centroid_value): the storable form of centroids."""
    return centroids.melt(
        id_vars=["segment_id", "segment_name"], var_name="feature", value_name="centroid_value"
    ).sort_values(["segment_id", "feature"], kind="mergesort", ignore_index=True)


def centroid_table_wide(long: pd.DataFrame) -> pd.DataFrame:
    """Inverse of `centroid_table_long`: one row per segment_id, one column per feature."""
    wide = long.pivot(index="segment_id", columns="feature", values="centroid_value")
    return wide.reset_index().rename_axis(columns=None)


def profile_segments(frame: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """Per segment: customers, conversion rate, revenue (net, summed), churn rate (churned
    among converted customers; null without any) and median days to convert (converted)."""
    joined = assignments.merge(
        frame[[ID_COLUMN, *OUTCOME_COLUMNS]], on=ID_COLUMN, how="left", validate="one_to_one"
    )
    converted = joined["converted"].fillna(False).astype(bool)
    joined = joined.assign(
        converted=converted,
        revenue=pd.to_numeric(joined["revenue"], errors="coerce").fillna(0.0).astype(float),
        churned_buyer=(joined["churned"].fillna(False).astype(bool) & converted),
        days_to_convert=joined["days_to_convert"].astype(float).where(converted),
    )
    grouped = joined.groupby(["segment_id", "segment_name"], sort=True)
    profile = grouped.agg(
        customers=(ID_COLUMN, "size"),
        converted_customers=("converted", "sum"),
        conversion_rate=("converted", "mean"),
        revenue=("revenue", "sum"),
        churned_customers=("churned_buyer", "sum"),
        median_days_to_convert=("days_to_convert", "median"),
    ).reset_index()
    profile["churn_rate"] = (
        profile["churned_customers"] / profile["converted_customers"].where(lambda s: s > 0)
    ).astype(float)
    columns = ["segment_id", "segment_name", "customers", "conversion_rate", "revenue",
               "churn_rate", "median_days_to_convert"]  # fmt: skip
    return profile[columns]


def segment_chart(profile: pd.DataFrame) -> bytes:
    """PNG: customers per segment (bars) and each segment's conversion rate (labels)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers or in CI
    import matplotlib.pyplot as plt

    ordered = profile.sort_values("customers", kind="mergesort")
    figure, (sizes, conversion) = plt.subplots(
        1, 2, figsize=(10, 0.5 * len(ordered) + 1.5), sharey=True
    )
    ids_names = zip(ordered["segment_id"], ordered["segment_name"], strict=True)
    labels = [f"{i}: {n}" for i, n in ids_names]
    sizes.barh(labels, ordered["customers"], color="#4c72b0")
    sizes.set_xlabel("customers")
    conversion.barh(labels, ordered["conversion_rate"] * 100, color="#55a868")
    conversion.set_xlabel("conversion rate (%)")
    for axis in (sizes, conversion):
        axis.spines[["top", "right"]].set_visible(False)
    figure.suptitle("Journey segments: size and conversion")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def adjusted_rand(labels_a: Sequence[Any], labels_b: Sequence[Any]) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(labels_a, labels_b))


EXPERIMENT_NAME = "Journey segments"
MODEL_NAME = "journey_segments"


def log_segmentation(
    segmentation: Segmentation,
    profile: pd.DataFrame,
    tracking_uri: str,
    experiment_name: str = EXPERIMENT_NAME,
    model_name: str | None = MODEL_NAME,
    tags: dict[str, str] | None = None,
    chart_png: bytes | None = None,
) -> tuple[str, str]:
    """One MLflow run of the fit: k, the silhouette of every k, segment sizes, the centroids
    and profile as tables, the chart, and the fitted pipeline as an sklearn model (registered
    as `model_name` when given). Returns (experiment id, run id)."""
    import mlflow
    import mlflow.sklearn

    from ml.tracking import (
        _quiet_mlflow,
        _tracking_uri,
        get_or_create_experiment,
        model_requirements,
        trusted_types,
    )

    experiment_id = get_or_create_experiment(tracking_uri, experiment_name)
    sizes = profile.set_index("segment_id")["customers"]
    with (
        _tracking_uri(tracking_uri),
        _quiet_mlflow(),
        mlflow.start_run(experiment_id=experiment_id, tags=tags or {}) as run,
    ):
        mlflow.log_params(
            {
                "k": segmentation.k,
                "k_range": f"{min(segmentation.silhouettes)}..{max(segmentation.silhouettes)}",
                "k_criterion": f"max silhouette, ties within {SILHOUETTE_TIE} to the smaller k",
                "silhouette_sample": SILHOUETTE_SAMPLE,
                "customers": len(segmentation.assignments),
            }
        )
        mlflow.log_metrics({f"silhouette_k{k}": s for k, s in segmentation.silhouettes.items()})
        mlflow.log_metric("silhouette", segmentation.silhouettes[segmentation.k])
        mlflow.log_metrics({f"size_segment_{i}": float(n) for i, n in sizes.items()})
        mlflow.log_table(centroid_table_long(segmentation.centroids), "centroids.json")
        mlflow.log_table(profile, "profile.json")
        if chart_png is not None:
            mlflow.log_image(_png_image(chart_png), "segments.png")
        mlflow.sklearn.log_model(
            segmentation.pipeline,
            name="model",
            registered_model_name=model_name,
            skops_trusted_types=trusted_types(segmentation.pipeline),
            pip_requirements=model_requirements(),
        )
        return experiment_id, run.info.run_id


def _png_image(png: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(png))
