"""Score rows: probability, risk band and the top reasons behind each score.

A feature's contribution to a row's score is how much the probability drops when that
feature alone is set to a reference value (training median / mode): a feature whose typical
value would lower this row's score is one that pushes it up. Computed naively that is one
`predict_proba` of the whole pipeline per feature (95 % of scoring time). `perturbed_probabilities`
gets the same numbers cheaply for the pipelines `ml.train` builds: the columns are
transformed once; for a linear model the change of the decision value is coefficient ×
(transformed value − transformed reference), summed over the columns a feature produces, in
one matrix product; for boosted trees only the features the trees split on can change the
score, and each of those costs one pass over the trees on the already transformed matrix;
calibration maps the changed decision values to probabilities, and a blend averages its
members. Any other model falls back to one `predict_proba` per feature.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

from ml._threads import single_native_thread
from ml.bands import RiskBands
from ml.features import FeatureColumns, infer_feature_columns, reference_values, to_number
from ml.train import FillEmptyColumns

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


def _owners_in_step(step: Any, owners: list[int]) -> list[int] | None:
    """For each output column of a fitted transformer, the input position it comes from,
    given `owners` for its input columns; None for a transformer we cannot trace."""
    if isinstance(step, Pipeline):
        for _, inner in step.steps:
            traced = _owners_in_step(inner, owners)
            if traced is None:
                return None
            owners = traced
        return owners
    if isinstance(step, SimpleImputer):
        statistics = np.asarray(step.statistics_, dtype=object)
        # Columns with no value at fit time are dropped (unless kept); indicators follow.
        kept = (
            list(range(len(owners)))
            if step.keep_empty_features
            else [i for i, v in enumerate(statistics) if not pd.isna(v)]
        )
        indicator = getattr(step, "indicator_", None)
        extra = [] if indicator is None else list(indicator.features_)
        return [owners[i] for i in kept] + [owners[i] for i in extra]
    if isinstance(step, OneHotEncoder):
        if hasattr(step, "feature_names_in_"):
            return None  # names would be the columns' own, not traceable positions
        # Default output names are x<input position>_<category>.
        names = step.get_feature_names_out()
        return [owners[int(name.split("_", 1)[0][1:])] for name in names]
    if isinstance(step, FunctionTransformer):
        return owners if step.feature_names_out == "one-to-one" else None
    if isinstance(step, StandardScaler | OrdinalEncoder | FillEmptyColumns):
        return owners
    return None


def _output_owners(prep: ColumnTransformer, columns: Sequence[str]) -> np.ndarray | None:
    """Per transformed column, the index in `columns` of the input feature it comes from
    (-1: a column not in `columns`); None when the transform cannot be traced."""
    position = {c: j for j, c in enumerate(columns)}
    width = max((s.stop for s in prep.output_indices_.values()), default=0)
    owners = np.full(width, -1)
    for name, transformer, cols in prep.transformers_:
        if name == "remainder" or isinstance(transformer, str):
            continue
        inputs = list(cols)
        traced = _owners_in_step(transformer, list(range(len(inputs))))
        output = prep.output_indices_[name]
        if traced is None or len(traced) != output.stop - output.start:
            return None
        owners[output] = [position.get(inputs[i], -1) for i in traced]
    return owners


def _boosting_shifted(
    model: HistGradientBoostingClassifier,
    x: np.ndarray,
    ref: np.ndarray,
    owners: np.ndarray,
    n_columns: int,
) -> np.ndarray:
    """Decision values rows × columns with that column at reference, tree by tree.

    A tree's output changes only through the features it splits on (2–8 of ~60 for our
    shallow trees), so each tree is re-evaluated once per feature it uses, and the change is
    charged to that feature: a few passes over one tree instead of one pass over all trees
    per feature. Uses the fitted model's own predictors (sklearn internals, checked by the
    exactness test against the model-agnostic way).
    """
    xi = model._preprocess_X(x, reset=False)  # the model's own column order
    ri = model._preprocess_X(ref[None, :], reset=False)[0]
    order: list[int] = []
    reorder = getattr(model, "_preprocessor", None)  # categorical columns first, when any
    if reorder is None:
        order = list(range(x.shape[1]))
    else:
        for _, _, mask in reorder.transformers_:
            mask = np.asarray(mask)
            order.extend(np.flatnonzero(mask) if mask.dtype == bool else mask)
    owner = owners[np.asarray(order, dtype=int)]
    bitsets, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    threads = _openmp_effective_n_threads()
    decision = np.full(len(xi), float(np.ravel(model._baseline_prediction)[0]))
    change = np.zeros((len(xi), n_columns))
    work = xi.copy()
    for (tree,) in model._predictors:
        nodes = tree.nodes
        before = tree.predict(xi, bitsets, f_idx_map, threads)
        decision += before
        split_on = np.unique(nodes["feature_idx"][nodes["is_leaf"] == 0])
        for j in np.unique(owner[split_on]):
            if j < 0:
                continue
            cols = np.flatnonzero(owner == j)
            work[:, cols] = ri[cols]
            change[:, j] += before - tree.predict(work, bitsets, f_idx_map, threads)
            work[:, cols] = xi[:, cols]
    return decision[:, None] - change


def _scored_parts(model: Any) -> list[tuple[Any, Any]] | None:
    """(fitted classifier, decision value → probability) pairs whose mean is the model's
    probability, or None for a model this module cannot decompose."""
    if isinstance(model, CalibratedClassifierCV):
        parts = []
        for calibrated in model.calibrated_classifiers_:
            if calibrated.method not in ("sigmoid", "isotonic") or len(calibrated.calibrators) != 1:
                return None
            estimator = calibrated.estimator
            if not hasattr(estimator, "decision_function"):
                return None  # the calibrator was fitted on predict_proba: not traced here
            parts.append((estimator, calibrated.calibrators[0].predict))
        return parts
    if isinstance(model, LogisticRegression | HistGradientBoostingClassifier):
        if len(model.classes_) != 2:
            return None
        return [(model, expit)]  # binary log loss: probability = expit(decision value)
    return None


def _pipeline_perturbed(
    pipeline: Pipeline, features: pd.DataFrame, reference_row: pd.DataFrame, columns: Sequence[str]
) -> np.ndarray | None:
    if len(pipeline.steps) != 2 or not isinstance(pipeline.steps[0][1], ColumnTransformer):
        return None
    prep, model = pipeline.steps[0][1], pipeline.steps[1][1]
    parts = _scored_parts(model)
    owners = _output_owners(prep, columns)
    if parts is None or owners is None:
        return None
    x = np.asarray(prep.transform(features), dtype=float)
    ref = np.asarray(prep.transform(reference_row), dtype=float)[0]
    if x.shape[1] != len(owners):
        return None
    groups = np.zeros((len(owners), len(columns)))
    owned = owners >= 0
    groups[np.flatnonzero(owned), owners[owned]] = 1.0
    probability = np.zeros((len(x), len(columns)))
    for estimator, link in parts:
        decision = estimator.decision_function(x)
        if isinstance(estimator, LogisticRegression):
            # Linear: each feature's share of the decision value, all features at once.
            shifted = decision[:, None] - ((x - ref) * estimator.coef_[0]) @ groups
        elif (
            isinstance(estimator, HistGradientBoostingClassifier)
            and estimator.n_trees_per_iteration_ == 1
        ):
            shifted = _boosting_shifted(estimator, x, ref, owners, len(columns))
        else:
            shifted = np.repeat(decision[:, None], len(columns), axis=1)
            work = x.copy()
            for j in range(len(columns)):
                cols = np.flatnonzero(owners == j)
                work[:, cols] = ref[cols]
                shifted[:, j] = estimator.decision_function(work)
                work[:, cols] = x[:, cols]
        probability += link(shifted.ravel()).reshape(shifted.shape)
    return probability / len(parts)


def perturbed_probabilities(
    pipeline: Any, features: pd.DataFrame, reference: Mapping[str, object], columns: Sequence[str]
) -> np.ndarray | None:
    """Matrix rows × columns: the probability with that one column set to its reference
    value, computed without re-running the pipeline per column (see the module docstring).
    None when the pipeline is not one this can trace; `contributions` then falls back."""
    if not isinstance(pipeline, Pipeline) or not len(features):
        return None
    reference_row = features.iloc[:1].copy()
    for column in columns:
        reference_row[column] = _constant_column(
            reference.get(column, np.nan), 1, reference_row.index
        )
    if len(pipeline.steps) == 1 and isinstance(pipeline.steps[0][1], VotingClassifier):
        voting = pipeline.steps[0][1]
        if voting.voting != "soft":
            return None
        members = []
        for member in voting.estimators_:
            perturbed = perturbed_probabilities(member, features, reference, columns)
            if perturbed is None:
                return None
            members.append(perturbed)
        return np.average(members, axis=0, weights=voting._weights_not_none)
    return _pipeline_perturbed(pipeline, features, reference_row, columns)


def contributions(
    pipeline: Any,
    features: pd.DataFrame,
    reference: Mapping[str, object],
    columns: Sequence[str],
    base: np.ndarray,
    *,
    fast: bool = True,
) -> np.ndarray:
    """Matrix rows × columns: probability minus probability with that column at reference.

    `fast=False` forces the model-agnostic way (one predict_proba per column), which the
    fast way must agree with (tests/test_ml_score.py)."""
    perturbed = perturbed_probabilities(pipeline, features, reference, columns) if fast else None
    if perturbed is not None:
        return base[:, None] - perturbed
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
