"""What each model learns from `marts.customer_features`: population, label and bands.

The population predicates are row filters used when reading the feature table; the features
themselves are computed by dbt.
"""

from __future__ import annotations

from dataclasses import dataclass

from ml import RiskBands

FEATURES_TABLE = "marts.customer_features"
TIME_COLUMN = "snapshot_date"
ID_COLUMNS: tuple[str, ...] = ("customer_id",)
# Keys, cut-offs and the label columns of both models are never features.
NON_FEATURE_COLUMNS: tuple[str, ...] = (
    "customer_snapshot_id",
    "feature_cutoff_at",
    "churned_within_30d",
    "churn_label_window_end",
    "purchased_within_14d",
    "purchase_label_window_end",
)


@dataclass(frozen=True)
class ModelSpec:
    asset_name: str
    model_name: str  # registered model name in MLflow
    experiment_name: str
    label: str
    label_end_column: str
    population: str  # SQL predicate on customer_features: who this model is for
    bands: RiskBands
    label_window_days: int  # how long after a snapshot its label is observed
    # Below either, the model asset skips training (and scoring keeps the current
    # @champion, if any): a model fitted on fewer rows or positives ranks by noise.
    min_positives: int = 30  # of each class
    min_labelled_rows: int = 200

    @property
    def excluded_columns(self) -> tuple[str, ...]:
        return tuple(c for c in NON_FEATURE_COLUMNS if c != self.label)


CHURN = ModelSpec(
    asset_name="churn_model",
    model_name="churn",
    experiment_name="churn",
    label="churned_within_30d",
    label_end_column="churn_label_window_end",
    population="is_customer_at_snapshot",
    # Cancelling within 30 days is rare: act from 30 %, watch from 10 %.
    bands=RiskBands(high=0.3, medium=0.1),
    label_window_days=30,
)

PURCHASE_PROPENSITY = ModelSpec(
    asset_name="purchase_propensity_model",
    model_name="purchase_propensity",
    experiment_name="purchase_propensity",
    label="purchased_within_14d",
    label_end_column="purchase_label_window_end",
    population="not is_customer_at_snapshot and paid_orders_to_date = 0",
    bands=RiskBands(high=0.3, medium=0.1),
    label_window_days=14,
)

MODEL_SPECS: tuple[ModelSpec, ...] = (CHURN, PURCHASE_PROPENSITY)
