"""Metrics and plots for a binary classifier's scores.

Ranking (ROC AUC, PR AUC, lift) says whom to contact first; calibration (Brier, log loss,
calibration table) says whether a 0.3 means 30%. Both matter for a risk score.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ml._threads import single_native_thread  # noqa: E402
from ml.features import binary_label  # noqa: E402

if TYPE_CHECKING:
    from ml.train import TrainingResult


def _as_arrays(y_true: Sequence[Any], y_score: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(y_true, dtype=float)
    score = np.asarray(y_score, dtype=float)
    if truth.shape != score.shape or truth.ndim != 1:
        raise ValueError(
            f"y_true and y_score must be 1-D and the same length, got {truth.shape} and "
            f"{score.shape}"
        )
    if not np.isin(truth, (0.0, 1.0)).all():
        raise ValueError("y_true must hold only 0/1 values")
    if np.isnan(score).any() or (score < 0).any() or (score > 1).any():
        raise ValueError("y_score must be probabilities in [0, 1] without missing values")
    return truth.astype(int), score


def precision_at_k(y_true: Sequence[Any], y_score: Sequence[Any], k: int) -> float:
    """Share of positives among the k highest scores (ties broken by original order)."""
    truth, score = _as_arrays(y_true, y_score)
    k = min(max(int(k), 1), len(truth))
    top = np.argsort(-score, kind="stable")[:k]
    return float(truth[top].mean())


def lift_at_k(y_true: Sequence[Any], y_score: Sequence[Any], k: int) -> float:
    """How many times more positives the top k hold than a random k would."""
    truth, _ = _as_arrays(y_true, y_score)
    prevalence = truth.mean()
    if prevalence == 0:
        return float("nan")
    return precision_at_k(y_true, y_score, k) / float(prevalence)


def evaluate(y_true: Sequence[Any], y_score: Sequence[Any], k: int = 100) -> dict[str, float]:
    """Ranking and calibration metrics; AUCs are NaN when y_true holds one class only."""
    truth, score = _as_arrays(y_true, y_score)
    rows = len(truth)
    if rows == 0:
        raise ValueError("cannot evaluate an empty set of scores")
    both_classes = 0 < truth.sum() < rows
    top_decile = math.ceil(rows / 10)
    k = min(int(k), rows)
    return {
        "rows": float(rows),
        "positives": float(truth.sum()),
        "prevalence": float(truth.mean()),
        "roc_auc": float(roc_auc_score(truth, score)) if both_classes else float("nan"),
        "pr_auc": float(average_precision_score(truth, score)) if both_classes else float("nan"),
        "brier": float(brier_score_loss(truth, score)),
        "log_loss": float(log_loss(truth, score, labels=[0, 1])),
        "precision_top_decile": precision_at_k(truth, score, top_decile),
        "lift_top_decile": lift_at_k(truth, score, top_decile),
        "k": float(k),
        "precision_at_k": precision_at_k(truth, score, k),
        "lift_at_k": lift_at_k(truth, score, k),
    }


def calibration_table(
    y_true: Sequence[Any], y_score: Sequence[Any], n_bins: int = 10
) -> pd.DataFrame:
    """Observed positive rate against mean predicted probability in equal-width bins of [0, 1].

    Empty bins are left out, as in `sklearn.calibration.calibration_curve(strategy="uniform")`.
    """
    truth, score = _as_arrays(y_true, y_score)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Same binning as sklearn: right-open bins, 1.0 falls in the last one.
    bin_ids = np.searchsorted(edges[1:-1], score, side="right")
    frame = pd.DataFrame({"bin": bin_ids, "y_true": truth, "y_score": score})
    grouped = frame.groupby("bin").agg(
        rows=("y_true", "size"),
        positives=("y_true", "sum"),
        mean_predicted=("y_score", "mean"),
        observed_rate=("y_true", "mean"),
    )
    grouped.insert(0, "lower", edges[grouped.index])
    grouped.insert(1, "upper", edges[grouped.index + 1])
    return grouped.reset_index()


def cumulative_gains(y_true: Sequence[Any], y_score: Sequence[Any]) -> pd.DataFrame:
    """Share of all positives captured when contacting the top x% by score."""
    truth, score = _as_arrays(y_true, y_score)
    ordered = truth[np.argsort(-score, kind="stable")]
    captured = np.cumsum(ordered) / max(ordered.sum(), 1)
    contacted = np.arange(1, len(ordered) + 1) / len(ordered)
    return pd.DataFrame({"share_contacted": contacted, "share_of_positives": captured})


def _pyplot() -> Any:
    """matplotlib's pyplot, imported when a plot is drawn: importing `ml` (as scoring and the
    Dagster code location do) does not pay for the plotting stack."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on servers or in CI
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)
    return path


def plot_roc(y_true: Sequence[Any], y_score: Sequence[Any], path: Path) -> Path:
    fpr, tpr, _ = roc_curve(y_true, y_score)
    auc = roc_auc_score(y_true, y_score)
    fig, ax = _pyplot().subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"model (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_precision_recall(y_true: Sequence[Any], y_score: Sequence[Any], path: Path) -> Path:
    precision, recall, _ = precision_recall_curve(y_true, y_score)
    ap = average_precision_score(y_true, y_score)
    prevalence = float(np.mean(y_true))
    fig, ax = _pyplot().subplots(figsize=(5, 5))
    ax.step(recall, precision, where="post", label=f"model (AP {ap:.3f})")
    ax.axhline(prevalence, linestyle="--", color="grey", label=f"prevalence {prevalence:.3f}")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve", ylim=(0, 1.02))
    ax.legend(loc="upper right")
    return _save(fig, path)


def plot_calibration(y_true: Sequence[Any], y_score: Sequence[Any], path: Path) -> Path:
    table = calibration_table(y_true, y_score)
    fig, ax = _pyplot().subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label="model")
    ax.set(
        xlabel="mean predicted probability",
        ylabel="observed positive rate",
        title="Calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="upper left")
    return _save(fig, path)


def plot_cumulative_gains(y_true: Sequence[Any], y_score: Sequence[Any], path: Path) -> Path:
    gains = cumulative_gains(y_true, y_score)
    fig, ax = _pyplot().subplots(figsize=(5, 5))
    ax.plot(gains["share_contacted"], gains["share_of_positives"], label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="random")
    ax.set(
        xlabel="share contacted (highest scores first)",
        ylabel="share of positives captured",
        title="Cumulative gains",
    )
    ax.legend(loc="lower right")
    return _save(fig, path)


def permutation_importances(
    pipeline: Any,
    frame: pd.DataFrame,
    label: str,
    columns: Sequence[str],
    *,
    n_repeats: int = 5,
    max_rows: int = 5000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Drop in validation ROC AUC when each original input column is shuffled."""
    from sklearn.inspection import permutation_importance

    sample = frame.sample(n=min(max_rows, len(frame)), random_state=random_state)
    # Only the model's inputs: shuffling ids, times or other labels costs predictions and
    # cannot move the score (each column gets the same seed, so the result is unchanged).
    wanted = set(columns)
    features = sample[[c for c in sample.columns if c in wanted]]
    outcome = permutation_importance(
        pipeline,
        features,
        binary_label(sample[label]).to_numpy(dtype=int),
        scoring="roc_auc",
        n_repeats=n_repeats,
        random_state=random_state,
    )
    names = list(features.columns)
    table = pd.DataFrame(
        {
            "feature": names,
            "importance_mean": outcome.importances_mean,
            "importance_std": outcome.importances_std,
        }
    )
    return table.sort_values("importance_mean", ascending=False, ignore_index=True)


@single_native_thread
def validation_importances(result: TrainingResult, frame_valid: pd.DataFrame) -> pd.DataFrame:
    """Permutation importance of the train-only model on the labelled validation rows."""
    return permutation_importances(
        result.validation_pipeline,
        frame_valid.loc[frame_valid[result.label].notna()],
        result.label,
        result.feature_columns.all,
    )


def plot_permutation_importance(importances: pd.DataFrame, path: Path, top: int = 20) -> Path:
    shown = importances.head(top).iloc[::-1]
    fig, ax = _pyplot().subplots(figsize=(6, max(3, 0.3 * len(shown) + 1)))
    ax.barh(shown["feature"], shown["importance_mean"], xerr=shown["importance_std"])
    ax.set(xlabel="drop in ROC AUC when shuffled", title="Permutation importance (validation)")
    return _save(fig, path)


@single_native_thread
def write_evaluation_plots(
    result: TrainingResult,
    frame_valid: pd.DataFrame,
    out_dir: str | Path,
    importances: pd.DataFrame | None = None,
) -> dict[str, Path]:
    """Write ROC, PR, calibration, gains and permutation-importance PNGs; return name → path.

    Curves use `result.validation` (scores of the model fitted on the training part only);
    permutation importance re-scores `frame_valid` (the validation rows, label included)
    with that same train-only model, unless the caller passes the table it already computed
    (`validation_importances`).
    """
    out = Path(out_dir)
    y_true = result.validation["y_true"].to_numpy()
    y_score = result.validation["y_score"].to_numpy()
    if importances is None:
        importances = validation_importances(result, frame_valid)
    return {
        "roc": plot_roc(y_true, y_score, out / "roc.png"),
        "precision_recall": plot_precision_recall(y_true, y_score, out / "precision_recall.png"),
        "calibration": plot_calibration(y_true, y_score, out / "calibration.png"),
        "cumulative_gains": plot_cumulative_gains(y_true, y_score, out / "cumulative_gains.png"),
        "permutation_importance": plot_permutation_importance(
            importances, out / "permutation_importance.png"
        ),
    }
