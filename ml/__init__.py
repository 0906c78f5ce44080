"""The ML library: train, evaluate, score and promote binary classifiers on tabular frames.

Pure Python on scikit-learn (+ MLflow in `ml.tracking`); it never imports Dagster. Names
are imported on first use (PEP 562), so `from ml import RiskBands` does not load
scikit-learn: the Dagster code location imports this package at start-up.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PromotionDecision": "ml.promotion",
    "RiskBands": "ml.bands",
    "TrainingResult": "ml.train",
    "calibration_table": "ml.evaluate",
    "decide_promotion": "ml.promotion",
    "evaluate": "ml.evaluate",
    "score_frame": "ml.score",
    "train_classifier": "ml.train",
    "write_evaluation_plots": "ml.evaluate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ml' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
