"""Score rows: probability, risk band and the top reasons behind each score.

Reason codes are model-agnostic and cheap: for each feature, set every row's value to a
reference value (training median / mode) and see how much the probability drops. A feature
whose typical value would lower this row's score is one that pushes it up. One predict_proba
per feature over all rows keeps 50k rows × 60 features in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

from ml._threads import single_native_thread
from ml.bands import RiskBands
from ml.features import FeatureColumns, infer_feature_columns, reference_values, to_number

N_REASONS = 3
# Contributions smaller than this are noise, not a reason worth showing a person.
MIN_CONTRIBUTION = 0.005


def _column_transformer(pipeline: Any) -> ColumnTransformer | None:
    steps = pipeline.steps if isinstance(pipeline, Pipeline) else []
    for _, step in steps:
        if isinstance(step, ColumnTransformer):
            return step
        if isinstance(step, VotingClassifier) and hasattr(step, "estimators_"):
            return _column_transformer(step.estimators_[0])  # members read the same columns
    return None


def _column_groups(pipeline: Any) -> dict[str, list[str]] | None:
    step = _column_transformer(pipeline)
    if step is None:
        return None
    return {
        name: [c for c in cols if isinstance(c, str)]
        for name, _, cols in step.transformers_
        if name != "remainder"
    }


def model_input_columns(pipeline: Any) -> list[str] | None:
    """The input columns the pipeline's ColumnTransformer actually reads, in order."""
    groups = _column_groups(pipeline)
    return None if groups is None else [c for cols in groups.values() for c in cols]


def _with_numbers_parsed(pipeline: Any, frame: pd.DataFrame) -> pd.DataFrame:
    """Parse numeric-as-text columns once, not once per reason-code pass (same result: the
    pipeline's own coercion leaves floats unchanged)."""
    numeric = (_column_groups(pipeline) or {}).get("numeric", [])
    parsed = {c: to_number(frame[c]) for c in numeric if c in frame.columns}
    return frame.assign(**parsed) if parsed else frame


def _format_value(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "missing"
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value).strip() or "missing"


def _constant_column(value: object, length: int, index: pd.Index) -> pd.Series:
    # Floats take the pipeline's fast numeric path; anything else goes in as object and is
    # coerced by the pipeline like any input.
    is_number = isinstance(value, int | float | np.integer | np.floating)
    if is_number and not isinstance(value, bool | np.bool_):
        return pd.Series(np.full(length, float(value)), index=index)
    return pd.Series([value] * length, index=index, dtype=object)


def contributions(
    pipeline: Any,
    features: pd.DataFrame,
    reference: Mapping[str, object],
    columns: Sequence[str],
    base: np.ndarray,
) -> np.ndarray:
    """Matrix rows × columns: probability minus probability with that column at reference."""
    work = features.copy()
    out = np.zeros((len(work), len(columns)))
    for j, column in enumerate(columns):
        original = work[column]
        replacement = reference.get(column, np.nan)
        work[column] = _constant_column(replacement, len(work), work.index)
        out[:, j] = base - pipeline.predict_proba(work)[:, 1]
        work[column] = original
    return out


def reason_codes(
    features: pd.DataFrame,
    contribution: np.ndarray,
    columns: Sequence[str],
    n_reasons: int = N_REASONS,
) -> list[list[str | None]]:
    """Per row, the `n_reasons` largest positive contributions as 'feature=value (+0.12)'."""
    order = np.argsort(-contribution, axis=1, kind="stable")[:, :n_reasons]
    values = {c: features[c].to_numpy(dtype=object) for c in columns}
    reasons: list[list[str | None]] = []
    for i, row_order in enumerate(order):
        row: list[str | None] = []
        for j in row_order:
            delta = contribution[i, j]
            if delta < MIN_CONTRIBUTION:
                row.append(None)
            else:
                column = columns[j]
                row.append(f"{column}={_format_value(values[column][i])} (+{delta:.2f})")
        row.extend([None] * (n_reasons - len(row)))
        reasons.append(row)
    return reasons


@single_native_thread
def score_frame(
    pipeline: Any,
    frame: pd.DataFrame,
    *,
    id_columns: Sequence[str],
    thresholds: RiskBands | None = None,
    reference: Mapping[str, object] | None = None,
    feature_columns: Sequence[str] | None = None,
    n_reasons: int = N_REASONS,
) -> pd.DataFrame:
    """Return id columns + `probability`, `risk_band` and `reason_1..n` for each row.

    `reference` holds the training data's medians/modes; by default the ones stored on the
    pipeline by `train_classifier` (`pipeline.reference_values_`), else computed from `frame`.
    `feature_columns` defaults to the columns the pipeline's ColumnTransformer reads.
    """
    bands = thresholds or RiskBands()
    missing = [c for c in id_columns if c not in frame.columns]
    if missing:
        raise ValueError(f"id columns {missing} not in the frame to score")
    columns = list(feature_columns or model_input_columns(pipeline) or [])
    if not columns:
        columns = [c for c in frame.columns if c not in id_columns]
    if reference is None:
        reference = getattr(pipeline, "reference_values_", None)
    if reference is None:
        groups = _column_groups(pipeline)
        if groups is not None:
            numeric = [c for c in columns if c in groups.get("numeric", [])]
        else:
            inferred = infer_feature_columns(frame.assign(__label__=0), "__label__")
            numeric = [c for c in columns if c in inferred.numeric]
        reference = reference_values(
            frame,
            FeatureColumns(numeric=numeric, categorical=[c for c in columns if c not in numeric]),
        )
    prepared = _with_numbers_parsed(pipeline, frame)
    probability = pipeline.predict_proba(prepared)[:, 1]
    out = frame[list(id_columns)].copy()
    out["probability"] = probability
    out["risk_band"] = bands.band(probability)
    if n_reasons > 0 and columns and len(frame):
        contribution = contributions(pipeline, prepared, reference, columns, probability)
        reasons = reason_codes(frame, contribution, columns, n_reasons)
        for k in range(n_reasons):
            out[f"reason_{k + 1}"] = [row[k] for row in reasons]
    return out.reset_index(drop=True)
