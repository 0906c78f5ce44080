"""Population stability index (PSI): how far a scored population has moved from training.

PSI = Σ (actual share − expected share) × ln(actual share / expected share) over the bins of
a feature, the expected shares being the training window's. 0 means the same distribution;
the usual reading (and our default thresholds): below 0.1 stable, 0.1–0.25 a shift worth a
look, above 0.25 a population the model has not seen.

Bins are fixed by the training data and saved with the model (`drift_reference`), so scoring
a day needs the reference and the day's rows only:

- numbers: cut points at the training values' deciles (`bins` quantiles, taken as observed
  values, never interpolated between two, so no bin is empty by construction; repeated cut
  points, e.g. a count that is mostly 0, merge), intervals closed on the right so a value equal to a
  cut point (the mass at 0) stays in one bin, open-ended first and last bins;
- categories: the training categories (the `MAX_CATEGORIES` most frequent), "other" for
  anything else (a new category on the scored day lands there), and
- missing values as a bin of their own, for both kinds.

An empty bin on either side would make the logarithm infinite: its share counts as
`EPSILON` (1e-4). A bin empty on both sides adds nothing.

Statuses (`drift_table`): `warn` when a feature's PSI is above `PSI_WARN`, `block` when a
top feature's (among the `TOP_FEATURES` most important, with an importance of at least
`MIN_IMPORTANCE`) is above `PSI_BLOCK`; neither when sampling noise alone reaches that PSI
for the two sample sizes (`noise_psi`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ml.features import to_category, to_number

DEFAULT_BINS = 10
# Share given to an empty bin (PSI's logarithm is undefined at 0). With 1e-4 a training bin
# holding 10 % that is empty on the scored day adds 0.1 × ln(1000) ≈ 0.69: a block, as it
# should be. Any value 1e-6..1e-3 gives the same verdicts; this one is the common choice.
EPSILON = 1e-4
PSI_WARN = 0.1
PSI_BLOCK = 0.25
# How many of the model's most important features can block scoring, and the least
# permutation importance (drop in validation ROC AUC when shuffled) that makes one "top": a
# feature whose shuffling costs less than half a point of AUC cannot move the ranking much
# (the same 0.005 below which ml.score shows no reason code).
TOP_FEATURES = 5
MIN_IMPORTANCE = 0.005
# Categories beyond this many (by training frequency) share the "other" bin.
MAX_CATEGORIES = 20
# A PSI that sampling noise alone reaches 1 time in 100 (for the two sample sizes) neither
# warns nor blocks; estimated from this many simulated sample pairs.
NOISE_QUANTILE = 0.99
NOISE_DRAWS = 1000
MISSING = "(missing)"
OTHER = "(other)"
REFERENCE_FORMAT = 1

Kind = Literal["numeric", "categorical"]
Status = Literal["ok", "warn", "block"]


@dataclass(frozen=True)
class FeatureBins:
    """The training distribution of one feature: its bins and the share of rows in each.

    Numeric: `edges` are the inner cut points; shares are for (-inf, e1], (e1, e2], …,
    (ek, inf), then missing. Categorical: `categories`; shares per category, then other,
    then missing.
    """

    kind: Kind
    shares: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def labels(self) -> list[str]:
        if self.kind == "categorical":
            return [*self.categories, OTHER, MISSING]
        bounds = ["-inf", *(f"{e:.4g}" for e in self.edges), "inf"]
        return [f"({lo}, {hi}]" for lo, hi in zip(bounds, bounds[1:], strict=False)] + [MISSING]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "shares": list(self.shares)}
        if self.kind == "numeric":
            data["edges"] = list(self.edges)
        else:
            data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureBins:
        return cls(
            kind=data["kind"],
            shares=tuple(float(s) for s in data["shares"]),
            edges=tuple(float(e) for e in data.get("edges", ())),
            categories=tuple(str(c) for c in data.get("categories", ())),
        )


def infer_kind(values: pd.Series) -> Kind:
    """Numbers and booleans are numeric; anything else (text) is categorical."""
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "numeric"
    return "categorical"


def _counts_to_shares(counts: np.ndarray) -> tuple[float, ...]:
    total = counts.sum()
    return tuple(float(c) for c in (counts / total if total else counts.astype(float)))


def _numeric_codes(values: pd.Series, edges: Sequence[float]) -> np.ndarray:
    """Bin index per value: 0..len(edges) for numbers, len(edges) + 1 for missing."""
    numbers = to_number(values).to_numpy(dtype=float)
    # side="left": the first cut point >= the value, i.e. intervals closed on the right.
    codes = np.searchsorted(np.asarray(edges, dtype=float), numbers, side="left")
    return np.where(np.isnan(numbers), len(edges) + 1, codes)


def _categorical_codes(values: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Bin index per value: its category's position, len(categories) for other, +1 missing."""
    text = to_category(values)
    position = {c: i for i, c in enumerate(categories)}
    codes = text.map(lambda v: position.get(v, len(categories)), na_action="ignore")
    return codes.fillna(len(categories) + 1).to_numpy(dtype=int)


def feature_bins(
    values: pd.Series, kind: Kind | None = None, bins: int = DEFAULT_BINS
) -> FeatureBins:
    """The bins of a feature fixed by its training values, with the training shares."""
    kind = kind or infer_kind(values)
    if kind == "numeric":
        numbers = to_number(values).dropna()
        quantiles = np.linspace(0, 1, bins + 1)[1:-1]
        edges = (
            tuple(
                float(e) for e in np.unique(np.quantile(numbers, quantiles, method="inverted_cdf"))
            )
            if len(numbers)
            else ()
        )
        counts = np.bincount(_numeric_codes(values, edges), minlength=len(edges) + 2)
        return FeatureBins("numeric", _counts_to_shares(counts), edges=edges)
    frequency = to_category(values).value_counts(dropna=True)
    # Most frequent first; ties by name, so the same data always gives the same bins.
    ordered = sorted(frequency.items(), key=lambda item: (-item[1], str(item[0])))
    categories = tuple(str(c) for c, _ in ordered[:MAX_CATEGORIES])
    counts = np.bincount(_categorical_codes(values, categories), minlength=len(categories) + 2)
    return FeatureBins("categorical", _counts_to_shares(counts), categories=categories)


def bin_shares(reference: FeatureBins, values: pd.Series) -> np.ndarray:
    """Shares of `values` in the reference's bins (same order as `reference.shares`)."""
    if reference.kind == "numeric":
        codes = _numeric_codes(values, reference.edges)
    else:
        codes = _categorical_codes(values, reference.categories)
    counts = np.bincount(codes, minlength=len(reference.shares))
    return np.asarray(_counts_to_shares(counts))


def psi_of_shares(expected: Sequence[float], actual: Sequence[float]) -> float:
    """PSI of two share vectors over the same bins; empty bins count as EPSILON."""
    e = np.maximum(np.asarray(expected, dtype=float), EPSILON)
    a = np.maximum(np.asarray(actual, dtype=float), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(
    expected: pd.Series | Sequence[Any],
    actual: pd.Series | Sequence[Any],
    bins: int = DEFAULT_BINS,
    kind: Kind | None = None,
) -> float:
    """PSI of `actual` (the scored population) against `expected` (the training values)."""
    expected, actual = pd.Series(expected), pd.Series(actual)
    reference = feature_bins(expected, kind or infer_kind(expected), bins)
    if len(actual) == 0:
        return math.nan
    return psi_of_shares(reference.shares, bin_shares(reference, actual))


def importance_ranks(importances: Mapping[str, float] | None) -> dict[str, int]:
    """Rank 1 = most important. Only features with a positive importance are ranked: one
    whose shuffling does not lower the validation AUC is not a top feature of the model."""
    ordered = sorted(
        ((f, v) for f, v in (importances or {}).items() if v is not None and v > 0),
        key=lambda item: (-item[1], item[0]),
    )
    return {feature: rank for rank, (feature, _) in enumerate(ordered, start=1)}


def drift_reference(
    frame: pd.DataFrame,
    columns: Mapping[str, Kind] | Sequence[str],
    importances: Mapping[str, float] | None = None,
    bins: int = DEFAULT_BINS,
) -> dict[str, Any]:
    """The training window summarised for the drift gate: bins and shares per feature, the
    features' importances, the row count. JSON-ready: saved with the model at training time,
    so scoring never re-reads the training data."""
    kinds = (
        dict(columns)
        if isinstance(columns, Mapping)
        else {c: infer_kind(frame[c]) for c in columns}
    )
    return {
        "format": REFERENCE_FORMAT,
        "bins": bins,
        "epsilon": EPSILON,
        "rows": len(frame),
        "features": {c: feature_bins(frame[c], kind, bins).to_dict() for c, kind in kinds.items()},
        "importances": {str(k): float(v) for k, v in (importances or {}).items() if v is not None},
    }


def is_top_feature(
    rank: int | None, importance: float, top_n: int, min_importance: float = MIN_IMPORTANCE
) -> bool:
    """Among the `top_n` most important features, with an importance of `min_importance`."""
    return rank is not None and rank <= top_n and bool(importance >= min_importance)


def noise_psi(
    shares: Sequence[float],
    n_expected: int,
    n_actual: int,
    quantile: float = NOISE_QUANTILE,
    draws: int = NOISE_DRAWS,
    seed: int = 0,
) -> float:
    """The PSI that sampling alone exceeds with probability 1 − `quantile`, for a training
    sample of `n_expected` rows and a scored one of `n_actual` rows from the same binned
    distribution `shares`: the `quantile` of PSI over `draws` pairs of multinomial samples.

    PSI grows as samples shrink (about χ²(bins − 1) · (1/n_expected + 1/n_actual) when both
    are large: 0.15 at the 99th percentile for 261 vs 331 rows and ten bins), and a value
    that noise reaches is no evidence of drift. Seeded: the same inputs give the same level.
    """
    if n_expected <= 0 or n_actual <= 0:
        return math.inf
    p = np.asarray(shares, dtype=float)
    p = p / p.sum()
    rng = np.random.default_rng(seed)
    e = np.maximum(rng.multinomial(n_expected, p, size=draws) / n_expected, EPSILON)
    a = np.maximum(rng.multinomial(n_actual, p, size=draws) / n_actual, EPSILON)
    return float(np.quantile(((a - e) * np.log(a / e)).sum(axis=1), quantile))


def status_of(psi_value: float, top: bool, warn: float, block: float, noise: float = 0.0) -> Status:
    """block: a top feature above `block`; warn: any feature above `warn`; either only
    when the PSI is also above `noise` (what sampling alone reaches); else ok."""
    if np.isnan(psi_value) or psi_value <= noise:
        return "ok"
    if psi_value > block and top:
        return "block"
    return "warn" if psi_value > warn else "ok"


TABLE_COLUMNS = [
    "feature", "kind", "psi", "noise_psi", "importance", "importance_rank", "top_feature",
    "status",
]  # fmt: skip


def drift_table_from_reference(
    reference: Mapping[str, Any],
    score_frame: pd.DataFrame,
    *,
    top_n: int = TOP_FEATURES,
    warn: float = PSI_WARN,
    block: float = PSI_BLOCK,
    min_importance: float = MIN_IMPORTANCE,
) -> pd.DataFrame:
    """PSI per feature of `score_frame` against a saved `drift_reference`, most drifted first.

    A feature missing from `score_frame` counts as all missing (what the model would see).
    """
    ranks = importance_ranks(reference.get("importances"))
    rows = []
    for feature, data in reference["features"].items():
        bins = FeatureBins.from_dict(data)
        values = (
            score_frame[feature]
            if feature in score_frame.columns
            else pd.Series(np.nan, index=score_frame.index)
        )
        value = psi_of_shares(bins.shares, bin_shares(bins, values)) if len(values) else np.nan
        noise = noise_psi(bins.shares, int(reference["rows"]), len(values))
        rank = ranks.get(feature)
        importance = reference.get("importances", {}).get(feature, np.nan)
        top = is_top_feature(rank, importance, top_n, min_importance)
        rows.append(
            {
                "feature": feature,
                "kind": bins.kind,
                "psi": value,
                "noise_psi": noise,
                "importance": importance,
                "importance_rank": rank,
                "top_feature": top,
                "status": status_of(value, top, warn, block, noise),
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["importance_rank"] = table["importance_rank"].astype("Int64")
    return table.sort_values(["psi", "feature"], ascending=[False, True], ignore_index=True)


def drift_table(
    train_frame: pd.DataFrame,
    score_frame: pd.DataFrame,
    columns: Mapping[str, Kind] | Sequence[str],
    importances: Mapping[str, float] | None = None,
    *,
    bins: int = DEFAULT_BINS,
    top_n: int = TOP_FEATURES,
    warn: float = PSI_WARN,
    block: float = PSI_BLOCK,
    min_importance: float = MIN_IMPORTANCE,
) -> pd.DataFrame:
    """PSI per feature between a training frame and a scored frame: columns feature, kind,
    psi, importance, importance_rank (1 = most important), top_feature (can block), status
    (ok / warn / block)."""
    reference = drift_reference(train_frame, columns, importances, bins)
    return drift_table_from_reference(
        reference,
        score_frame,
        top_n=top_n,
        warn=warn,
        block=block,
        min_importance=min_importance,
    )


def overall_status(table: pd.DataFrame) -> Status:
    statuses = set(table["status"])
    return "block" if "block" in statuses else "warn" if "warn" in statuses else "ok"


def drift_markdown(table: pd.DataFrame, limit: int | None = None) -> str:
    """The table as Markdown (most drifted first), for Dagster metadata and reports."""
    shown = table if limit is None else table.head(limit)
    lines = [
        "| feature | kind | PSI | noise (p99) | importance (AUC drop) | rank | top | status |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in shown.itertuples(index=False):
        rank = "" if pd.isna(row.importance_rank) else str(int(row.importance_rank))
        importance = "" if pd.isna(row.importance) else f"{row.importance:.4f}"
        value = "n/a" if pd.isna(row.psi) else f"{row.psi:.3f}"
        status = row.status.upper() if row.status != "ok" else "ok"
        top = "yes" if row.top_feature else ""
        noise = "" if not np.isfinite(row.noise_psi) else f"{row.noise_psi:.3f}"
        lines.append(
            f"| {row.feature} | {row.kind} | {value} | {noise} | {importance} | {rank} | {top} "
            f"| {status} |"
        )
    if limit is not None and len(table) > limit:
        lines.append(f"| … {len(table) - limit} more features | | | | | | | |")
    return "\n".join(lines)
