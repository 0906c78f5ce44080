"""The ML library: train, evaluate, score and promote binary classifiers on tabular frames.

Pure Python on scikit-learn (+ MLflow in `ml.tracking`); it never imports Dagster.
"""

from ml.evaluate import calibration_table, evaluate, write_evaluation_plots
from ml.promotion import PromotionDecision, decide_promotion
from ml.score import RiskBands, score_frame
from ml.train import TrainingResult, train_classifier

__all__ = [
    "PromotionDecision",
    "RiskBands",
    "TrainingResult",
    "calibration_table",
    "decide_promotion",
    "evaluate",
    "score_frame",
    "train_classifier",
    "write_evaluation_plots",
]
