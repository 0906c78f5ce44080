"""Train a calibrated binary classifier on any tabular frame.

The recipe, in order:
1. infer numeric / categorical / excluded columns (`ml.features`);
2. hold out the most recent 20% of distinct time values (or a stratified 20% without time);
3. fit a regularised logistic regression and a histogram gradient boosting model on the
   training part, plus their blend (the mean of the two calibrated probabilities), and keep
   the candidate with the best validation ROC AUC;
4. calibrate it (cross-validated on the training part, shuffled stratified folds) and report
   validation metrics;
5. refit the calibrated pipeline on every labelled row for use in production.

The search is bounded: at most 3 + 4 tuning fits on at most MAX_TUNING_ROWS rows, then the
blend's two calibrated members on the training part (2 x (CALIBRATION_FOLDS + 1) fits), then
the chosen calibrated recipe on every labelled row (CALIBRATION_FOLDS + 1 fits, twice that
for the blend): 19-23 fits in all, whatever the data. `metrics["fit_seconds"]` records the
wall time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from ml._threads import single_native_thread
from ml.evaluate import evaluate
from ml.features import (
    FeatureColumns,
    binary_label,
    canonical_order,
    check_time_column,
    infer_feature_columns,
    reference_values,
    to_category,
    to_number,
)

MODEL_FAMILIES = ("logistic_regression", "hist_gradient_boosting")
# A further candidate whenever both families are compared: the average of their calibrated
# probabilities. The two err differently (a linear score vs. interactions learnt from few
# positives), so on small, noisy data the blend often ranks better than either.
BLEND = "blend"
VALIDATION_SHARE = 0.2
# Categories rarer than this (count) or beyond this many per column share one "infrequent"
# bucket: keeps one-hot width bounded for high-cardinality columns such as city or campaign.
MAX_CATEGORIES = 30
MIN_CATEGORY_COUNT = 5
# Isotonic calibration needs enough rows of each class per fold; below that sigmoid is safer.
ISOTONIC_MIN_ROWS = 5000
ISOTONIC_MIN_MINORITY = 300
CALIBRATION_FOLDS = 3
# Isotonic calibration is a step function: on its own it maps the scores to ~50 distinct
# values, which ties whole slices of the top decile (measured: -0.015 to -0.02 PR AUC on
# public sets). This much of the uncalibrated probability is mixed in to keep the ranking of
# the uncalibrated model; probabilities move by less than this.
TIE_BREAK_WEIGHT = 1e-6
# Settings tried on the tuning split (the last part of the training rows). Small on purpose:
# each costs a fit, and with few rows a wide search overfits the tuning split itself.
LOGISTIC_C_GRID = (0.01, 0.1, 1.0)
# (max_leaf_nodes, min_samples_leaf as a share of rows, at least MIN_SAMPLES_LEAF)
TREE_SHAPE_GRID = ((4, 0.0), (4, 0.01), (16, 0.0), (16, 0.01))
MIN_SAMPLES_LEAF = 20
MAX_BOOSTING_ROUNDS = 400
MISSING_CATEGORY = "(missing)"
# Hyper-parameters are chosen on at most this many rows (a stratified sample of the tuning
# split); the chosen settings are then fitted on every training row. Tuning costs 7 fits, so
# without a cap training time grew with the data several times over (584 s for propensity at
# 10x the demo); at the demo's size the cap takes nothing away (churn ~8k, propensity ~40k
# training rows, and AUC measured unchanged within noise, docs/models.md).
MAX_TUNING_ROWS = 30_000
# Below these a model is not trained at all (`training_data_problem`): a handful of labelled
# rows or positives gives a model whose validation AUC is noise.
MIN_LABELLED_ROWS = 200
MIN_POSITIVES = 30


class InsufficientTrainingData(ValueError):
    """The data cannot support a model (too few labelled rows, one class only, a single time
    value): a property of the data, not a bug. Callers may skip training and carry on."""


@dataclass
class TrainingResult:
    """A fitted, calibrated pipeline and the evidence for it.

    `pipeline` is refitted on all labelled rows; `validation_pipeline` is the same recipe
    fitted on the training part only, and is the model behind `metrics` and `validation`.
    """

    pipeline: Pipeline
    model_family: str
    metrics: dict[str, float]
    validation: pd.DataFrame
    candidates: dict[str, dict[str, float]]
    feature_columns: FeatureColumns
    validation_window: tuple[Any, Any] | None
    label: str
    time_column: str | None
    id_columns: list[str]
    input_columns: list[str]
    reference_values: dict[str, object]
    validation_pipeline: Pipeline
    validation_index: pd.Index
    calibration_method: str
    training_rows: int
    params: dict[str, Any] = field(default_factory=dict)


# --- column transforms (module-level functions so that saved models can name them) ---------


def numbers_array(frame: pd.DataFrame) -> np.ndarray:
    """Numeric columns as a float matrix; unparseable text and blanks become NaN."""
    if all(pd.api.types.is_float_dtype(dtype) for dtype in frame.dtypes):
        return frame.to_numpy(dtype=float, na_value=np.nan)  # fast path when scoring in bulk
    return np.column_stack([to_number(frame[c]).to_numpy(dtype=float) for c in frame.columns])


def categories_array(frame: pd.DataFrame) -> np.ndarray:
    """Categorical columns as an object matrix of trimmed text; blanks become NaN."""
    columns = [to_category(frame[c]).to_numpy(dtype=object) for c in frame.columns]
    return np.column_stack(columns).astype(object)


def signed_log(values: np.ndarray) -> np.ndarray:
    """sign(x) * log(1 + |x|): tames heavy-tailed counts and amounts for a linear model
    (a count's effect is rarely linear in the count) and keeps zero and sign; NaN stays NaN."""
    return np.sign(values) * np.log1p(np.abs(values))


def _to_numbers() -> FunctionTransformer:
    return FunctionTransformer(numbers_array, feature_names_out="one-to-one")


def _to_categories() -> FunctionTransformer:
    return FunctionTransformer(categories_array, feature_names_out="one-to-one")


class FillEmptyColumns(TransformerMixin, BaseEstimator):
    """Set columns that were entirely missing at fit time to 0.

    HistGradientBoosting handles NaN natively but fails to bin a column with no value at all,
    which happens when a time-ordered split leaves a rare feature empty in the training part.
    The column count is kept, so the categorical mask stays aligned.
    """

    def fit(self, x: np.ndarray, y: object = None) -> FillEmptyColumns:
        self.empty_ = np.isnan(np.asarray(x, dtype=float)).all(axis=0)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        out = np.array(x, dtype=float, copy=True)
        out[:, self.empty_] = 0.0
        return out

    def get_feature_names_out(self, input_features: object = None) -> object:
        return input_features


class SparseSafeHistGradientBoosting(HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier that also fits on rows where a column has no value.

    Calibration folds (contiguous blocks of the training rows) and the early-stopping split
    fit on subsets, and a feature known only on recent rows can be entirely missing in one of
    them: sklearn's binning then fails with "window shape cannot be larger than input array
    shape" (issue 12, the `--people 800 --days 100 --seed 7` demo). A column with fewer
    values than `min_samples_leaf` in the rows of a fit cannot be split on (one side of any
    split would hold fewer), so it is set to 0 for that fit: the same trees, no crash.
    Prediction sees the data unchanged.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SparseSafeHistGradientBoosting:  # noqa: N803
        values = np.asarray(X, dtype=float)
        sparse = (~np.isnan(values)).sum(axis=0) < max(int(self.min_samples_leaf), 1)
        if sparse.any():
            values = values.copy()
            values[:, sparse] = 0.0
            X = values
        return super().fit(X, y, sample_weight=sample_weight)


class TieBreakingIsotonic(IsotonicRegression):
    """Isotonic regression on decision values whose output stays strictly increasing:
    (1 - TIE_BREAK_WEIGHT) * isotonic(d) + TIE_BREAK_WEIGHT * expit(d).

    expit(d) is the uncalibrated model's probability (both families' decision values are
    log-odds), so rows the isotonic steps would tie keep the uncalibrated model's order,
    and the output stays in [0, 1] within TIE_BREAK_WEIGHT of plain isotonic calibration.
    """

    def predict(self, T: Any) -> np.ndarray:  # noqa: N803 (sklearn's name)
        decision = np.asarray(T, dtype=float).reshape(-1)
        steps = super().predict(decision)
        return (1.0 - TIE_BREAK_WEIGHT) * steps + TIE_BREAK_WEIGHT * expit(decision)

    def __getstate__(self) -> dict[str, Any]:
        # IsotonicRegression drops its interpolator `f_` from the state (rebuilt on load);
        # outside sklearn's own modules BaseEstimator hands it the live __dict__, so saving
        # the model (MLflow, skops, pickle) would strip `f_` from this very object.
        state = self.__dict__.copy()
        state.pop("f_", None)
        return state

    @classmethod
    def from_fitted(cls, fitted: IsotonicRegression) -> TieBreakingIsotonic:
        tie_breaking = cls.__new__(cls)
        tie_breaking.__dict__.update(fitted.__dict__)
        return tie_breaking


class RankKeepingCalibratedClassifierCV(CalibratedClassifierCV):
    """CalibratedClassifierCV whose isotonic calibrators keep ranking ties broken
    (`TieBreakingIsotonic`); sigmoid calibration is strictly increasing already."""

    def fit(
        self,
        X: Any,  # noqa: N803
        y: Any,
        sample_weight: Any = None,
        **fit_params: Any,
    ) -> RankKeepingCalibratedClassifierCV:
        super().fit(X, y, sample_weight=sample_weight, **fit_params)
        for calibrated in self.calibrated_classifiers_:
            calibrated.calibrators = [
                TieBreakingIsotonic.from_fitted(c) if type(c) is IsotonicRegression else c
                for c in calibrated.calibrators
            ]
        return self


def calibration_folds(random_state: int = 0) -> StratifiedKFold:
    """Shuffled, stratified, seeded folds for the calibrator's out-of-fold scores.

    Rows arrive sorted (train_classifier sorts them by time and ids), and contiguous folds
    would fit each fold's model on one period or id range and score another (issue 10: the
    same rows sorted by one column gave ROC AUC 0.920 / Brier 0.089 with plain cv=3 instead
    of 0.933 / 0.069)."""
    return StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=random_state)


def build_estimator(
    family: str, columns: FeatureColumns, *, random_state: int = 0
) -> tuple[ColumnTransformer, ClassifierMixin]:
    """The preprocessing and the (unfitted, uncalibrated) classifier for one model family.

    Non-feature columns (time, ids, excluded) are dropped by the ColumnTransformer, so the
    fitted pipeline accepts the full input frame.
    """
    if family == "logistic_regression":
        numeric = Pipeline(
            [
                ("to_number", _to_numbers()),
                ("signed_log", FunctionTransformer(signed_log, feature_names_out="one-to-one")),
                ("impute", SimpleImputer(strategy="median", add_indicator=True)),
                ("scale", StandardScaler()),
            ]
        )
        categorical = Pipeline(
            [
                ("to_text", _to_categories()),
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
                (
                    "one_hot",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=MIN_CATEGORY_COUNT,
                        max_categories=MAX_CATEGORIES,
                        sparse_output=False,
                    ),
                ),
            ]
        )
        classifier: ClassifierMixin = LogisticRegression(
            C=0.1, class_weight="balanced", max_iter=2000
        )
    elif family == "hist_gradient_boosting":
        # Trees handle NaN natively, so no imputation; categories go in as ordinal codes that
        # the model treats as categorical (not ordered) splits.
        numeric = Pipeline([("to_number", _to_numbers()), ("fill_empty", FillEmptyColumns())])
        categorical = Pipeline(
            [
                ("to_text", _to_categories()),
                (
                    "ordinal",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=np.nan,
                        encoded_missing_value=np.nan,
                        min_frequency=MIN_CATEGORY_COUNT,
                        max_categories=MAX_CATEGORIES,
                    ),
                ),
            ]
        )
        is_categorical = [False] * len(columns.numeric) + [True] * len(columns.categorical)
        classifier = SparseSafeHistGradientBoosting(
            # Defaults for a stand-alone pipeline; train_classifier tunes the tree size and
            # the number of rounds on a held-out part of the training rows (`tune_params`).
            learning_rate=0.05,
            max_iter=400,
            max_leaf_nodes=8,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=20,
            # No class weights: boosting on log loss ranks rare positives well unweighted,
            # calibration fixes the probabilities, and in sklearn 1.9 sample weights make the
            # binning compute weighted percentiles in a Python loop (~100x slower to fit).
            categorical_features=is_categorical if any(is_categorical) else None,
            random_state=random_state,
        )
    else:
        raise ValueError(f"unknown model family {family!r}; choose one of {MODEL_FAMILIES}")
    transformers = []
    if columns.numeric:
        transformers.append(("numeric", numeric, columns.numeric))
    if columns.categorical:
        transformers.append(("categorical", categorical, columns.categorical))
    prep = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    return prep, classifier


def build_pipeline(
    family: str,
    columns: FeatureColumns,
    *,
    calibration: str | None = None,
    random_state: int = 0,
    params: dict[str, Any] | None = None,
) -> Pipeline:
    """Preprocessing + classifier, optionally wrapped in cross-validated calibration.

    `params` are classifier parameters (e.g. from `tune_params`) set over the defaults; for
    the blend, a dict of them per member family.
    """
    if family == BLEND:
        return build_blend(
            columns, calibration=calibration or "sigmoid", random_state=random_state, params=params
        )
    prep, classifier = build_estimator(family, columns, random_state=random_state)
    if params:
        classifier.set_params(**params)
    if calibration is not None:
        classifier = RankKeepingCalibratedClassifierCV(
            # ensemble=False: one model refitted on all rows plus a calibrator learnt from
            # out-of-fold scores. Scoring then costs one model, not CALIBRATION_FOLDS.
            classifier,
            method=calibration,
            cv=calibration_folds(random_state),
            ensemble=False,
        )
    return Pipeline([("prep", prep), ("model", classifier)])


def build_blend(
    columns: FeatureColumns,
    *,
    calibration: str,
    random_state: int = 0,
    params: dict[str, dict[str, Any]] | None = None,
) -> Pipeline:
    """Soft vote of both families, each calibrated first so that their probabilities share a
    scale (the balanced logistic regression alone centres near 0.5, boosting near the base
    rate). The mean of calibrated probabilities needs no second calibration."""
    members = [
        (
            family,
            build_pipeline(
                family,
                columns,
                calibration=calibration,
                random_state=random_state,
                params=(params or {}).get(family),
            ),
        )
        for family in MODEL_FAMILIES
    ]
    return Pipeline([("model", VotingClassifier(members, voting="soft"))])


def choose_calibration(y: pd.Series) -> str:
    """Isotonic when there is plenty of data of each class, else sigmoid (fewer parameters).

    Isotonic ties are broken by the uncalibrated score (`TieBreakingIsotonic`), so either
    way the calibrated model ranks rows as the uncalibrated one does."""
    minority = int(min(y.sum(), len(y) - y.sum()))
    return (
        "isotonic"
        if len(y) >= ISOTONIC_MIN_ROWS and minority >= ISOTONIC_MIN_MINORITY
        else "sigmoid"
    )


# --- splitting -------------------------------------------------------------------------------


def time_split(times: pd.Series, share: float = VALIDATION_SHARE) -> tuple[pd.Index, pd.Index]:
    """Training and validation row labels: the most recent times that hold `share` of the rows.

    Whole time values are taken from the end until the validation part holds at least
    `share` of the rows (at least one time value, never all of them). Counting rows rather
    than distinct times matters when the population grows: in a panel of a growing customer
    base the last 20% of snapshot days can hold half of the rows and leave training short.
    Rows that share a time value stay on the same side, so nothing from a validation day
    leaks into training.
    """
    if times.isna().any():
        rows = list(times.index[times.isna()][:5])
        raise ValueError(f"time column {times.name!r} is missing on rows {rows}; fill or drop them")
    counts = times.value_counts().sort_index()
    if len(counts) < 2:
        raise InsufficientTrainingData(
            f"time column {times.name!r} has {len(counts)} distinct value(s); a time split "
            "needs at least 2 (pass time_column=None for a random split)"
        )
    rows_from_end = counts.iloc[::-1].cumsum()
    n_valid = int((rows_from_end < share * len(times)).sum()) + 1
    cutoff = counts.index[-min(n_valid, len(counts) - 1)]
    in_valid = times >= cutoff
    return times.index[~in_valid], times.index[in_valid]


def random_split(
    y: pd.Series, share: float = VALIDATION_SHARE, random_state: int = 0
) -> tuple[pd.Index, pd.Index]:
    train, valid = train_test_split(y.index, test_size=share, stratify=y, random_state=random_state)
    return pd.Index(train), pd.Index(valid)


def _check_both_classes(y: pd.Series, part: str, label: str) -> None:
    counts = y.value_counts()
    if len(counts) < 2:
        only = counts.index[0] if len(counts) else "nothing"
        raise InsufficientTrainingData(
            f"label column {label!r} has only class {only} in the {part} part "
            f"({len(y)} rows); a classifier needs both 0 and 1 there"
        )


def training_data_problem(
    y: pd.Series,
    *,
    min_rows: int = MIN_LABELLED_ROWS,
    min_positives: int = MIN_POSITIVES,
    rows_described: str = "labelled rows",
) -> str | None:
    """Why these labels cannot support a model (a sentence), or None when they can.

    `y` is the label over the model's population; missing means the label window has not
    closed yet. Both classes need `min_positives` rows: a label that is almost always 1 is as
    unlearnable as one that is almost always 0.
    """
    labelled = binary_label(y).dropna()
    positives = int(labelled.sum())
    negatives = len(labelled) - positives
    if len(labelled) < min_rows:
        return f"{len(labelled):,} {rows_described} (need ≥ {min_rows:,})"
    if positives < min_positives:
        return f"{positives:,} positive labels among {len(labelled):,} (need ≥ {min_positives:,})"
    if negatives < min_positives:
        return f"{negatives:,} negative labels among {len(labelled):,} (need ≥ {min_positives:,})"
    return None


def split_rows(
    frame: pd.DataFrame,
    y: pd.Series,
    *,
    time_column: str | None,
    label_end_column: str | None,
    random_state: int = 0,
) -> tuple[pd.Index, pd.Index]:
    """Training and validation rows: a time split with an embargo, or a stratified one.

    With `label_end_column`, training rows whose label window reaches the first validation
    time are dropped, so that outcomes overlapping the validation period cannot leak into it.
    """
    if time_column is None:
        return random_split(y, random_state=random_state)
    train_idx, valid_idx = time_split(frame[time_column])
    if label_end_column is not None:
        first_valid = pd.to_datetime(frame.loc[valid_idx, time_column]).min()
        ends = pd.to_datetime(frame.loc[train_idx, label_end_column])
        train_idx = train_idx[(ends < first_valid).to_numpy()]
    return train_idx, valid_idx


def _tuning_split(
    x: pd.DataFrame,
    y: pd.Series,
    *,
    time_column: str | None,
    label_end_column: str | None,
    random_state: int,
) -> tuple[pd.Index, pd.Index] | None:
    """The training part split again the same way; None when that leaves too little."""
    try:
        fit_idx, tune_idx = split_rows(
            x,
            y,
            time_column=time_column,
            label_end_column=label_end_column,
            random_state=random_state,
        )
    except ValueError:  # one time value, or a class too rare to stratify
        return None
    if y.loc[fit_idx].nunique() < 2 or y.loc[tune_idx].nunique() < 2:
        return None
    return fit_idx, tune_idx


def _stratified_sample(index: pd.Index, y: pd.Series, size: int, random_state: int) -> pd.Index:
    """At most `size` of `index`, keeping the class shares and the original order."""
    if len(index) <= size:
        return index
    labels = y.loc[index]
    try:
        kept, _ = train_test_split(
            np.arange(len(index)), train_size=size, stratify=labels, random_state=random_state
        )
    except ValueError:  # a class too rare to stratify: a plain random sample
        kept, _ = train_test_split(
            np.arange(len(index)), train_size=size, random_state=random_state
        )
    return index[np.sort(kept)]


def cap_tuning_rows(
    fit_idx: pd.Index,
    tune_idx: pd.Index,
    y: pd.Series,
    max_rows: int | None,
    random_state: int = 0,
) -> tuple[pd.Index, pd.Index]:
    """The tuning split cut to `max_rows` in all by stratified samples of both parts, in
    their original proportion, so tuning costs the same however many rows there are."""
    total = len(fit_idx) + len(tune_idx)
    if max_rows is None or total <= max_rows:
        return fit_idx, tune_idx
    fit_size = max(1, round(max_rows * len(fit_idx) / total))
    return (
        _stratified_sample(fit_idx, y, fit_size, random_state),
        _stratified_sample(tune_idx, y, max(1, max_rows - fit_size), random_state),
    )


def tune_params(
    family: str,
    columns: FeatureColumns,
    x_fit: pd.DataFrame,
    y_fit: pd.Series,
    x_tune: pd.DataFrame,
    y_tune: pd.Series,
    *,
    random_state: int = 0,
) -> dict[str, Any]:
    """Classifier parameters chosen on a held-out tuning part (later in time when there is
    a time column), for `build_pipeline(..., params=...)`.

    Logistic regression: C from LOGISTIC_C_GRID by ROC AUC (class weights distort the log
    loss, which only breaks ties in AUC). Boosting: tree shape from TREE_SHAPE_GRID and the
    number of rounds by log loss of the staged predictions (smoother than AUC). Choosing the
    rounds here rather than with sklearn's built-in early stopping matters for panels: its
    random validation fraction shares customers (and outcomes) with the rows it trains on,
    so it stops too late.
    """
    if family == "logistic_regression":
        scores = {}
        for c in LOGISTIC_C_GRID:
            model = build_pipeline(family, columns, params={"C": c}, random_state=random_state)
            model.fit(x_fit, y_fit)
            probability = model.predict_proba(x_tune)[:, 1]
            scores[c] = (
                roc_auc_score(y_tune, probability),
                -log_loss(y_tune, probability, labels=[0, 1]),
            )
        # Equal AUCs (a small, separable tuning split ranks perfectly at every C: breast
        # cancer's 73 tuning rows gave AUC 1.0 for all three) go to the lower log loss,
        # and remaining ties to the stronger regularisation (grid order).
        return {"C": max(LOGISTIC_C_GRID, key=lambda c: scores[c])}
    if family == "hist_gradient_boosting":
        best: tuple[float, dict[str, Any]] | None = None
        for leaves, leaf_share in TREE_SHAPE_GRID:
            params = {
                "max_leaf_nodes": leaves,
                "min_samples_leaf": max(MIN_SAMPLES_LEAF, round(leaf_share * len(x_fit))),
                "max_iter": MAX_BOOSTING_ROUNDS,
                "early_stopping": False,
            }
            model = build_pipeline(family, columns, params=params, random_state=random_state)
            model.fit(x_fit, y_fit)
            x_tune_prepared = model[0].transform(x_tune)
            losses = [
                log_loss(y_tune, staged[:, 1], labels=[0, 1])
                for staged in model[-1].staged_predict_proba(x_tune_prepared)
            ]
            rounds = int(np.argmin(losses)) + 1
            if best is None or losses[rounds - 1] < best[0]:
                best = (losses[rounds - 1], {**params, "max_iter": rounds})
        assert best is not None
        return best[1]
    raise ValueError(f"unknown model family {family!r}; choose one of {MODEL_FAMILIES}")


# --- the trainer -----------------------------------------------------------------------------


def _flat_params(params: dict[str, Any], prefix: str = "model_") -> dict[str, Any]:
    """Tuned parameters as flat MLflow params (a blend nests one dict per member)."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, dict):
            flat.update(_flat_params(value, f"{prefix}{key}_"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@single_native_thread
def train_classifier(
    frame: pd.DataFrame,
    label: str,
    *,
    time_column: str | None = None,
    id_columns: Sequence[str] = (),
    exclude_columns: Iterable[str] = (),
    label_end_column: str | None = None,
    families: Sequence[str] = MODEL_FAMILIES,
    random_state: int = 0,
    max_tuning_rows: int | None = MAX_TUNING_ROWS,
    categorical_columns: Iterable[str] = (),
) -> TrainingResult:
    """Fit, compare, calibrate and refit; see the module docstring for the recipe and the
    search budget (19-23 fits; `metrics["fit_seconds"]` is the wall time of this call).

    The label may be 0/1, boolean or yes/no, true/false, t/f, "1"/"0" text
    (`ml.features.binary_label`). Rows with a missing label (label window not closed yet)
    are left out. `time_column` orders the validation split and is never a feature; it must
    be datetime (or datetime.date objects), numeric or an ordered categorical, because text
    sorts alphabetically ("Dec" before "Feb"): anything else raises ValueError. Without it
    the split is a stratified random one. `categorical_columns` forces code-like columns
    (region, browser or OS ids held as integers) to be categorical. `exclude_columns`
    keeps columns out of the features (e.g. other labels, which would leak). With
    `label_end_column` (the date a row's label window closes), training rows whose window
    reaches into the validation period are dropped from the training part, so that the
    validation metrics are not flattered by overlapping outcomes. Hyper-parameters are tuned
    on at most `max_tuning_rows` rows (None: all), then fitted on every training row.
    """
    started = time.perf_counter()
    if label not in frame.columns:
        raise ValueError(f"label column {label!r} not in frame (columns: {list(frame.columns)})")
    for column in [time_column, label_end_column, *id_columns]:
        if column is not None and column not in frame.columns:
            raise ValueError(f"column {column!r} not in frame (columns: {list(frame.columns)})")
    if time_column is not None:
        check_time_column(frame[time_column])
    if not frame.index.is_unique:
        # Rows are tracked by index label (validation_index); duplicates would mix them up.
        raise ValueError("frame index has duplicate labels; call frame.reset_index(drop=True)")
    # Splits, folds, samples and early stopping follow row order; the same rows in another
    # order (a warehouse rebuild) must give the same model.
    # The label as 0/1 first, so that "Yes"/"No" and 1/0 give the same order (and model).
    frame = frame.assign(**{label: binary_label(frame[label])})
    frame = canonical_order(frame, [c for c in (time_column, *id_columns) if c is not None])
    y_all = frame[label]
    labelled = frame.loc[y_all.notna()]
    if labelled.empty:
        raise InsufficientTrainingData(
            f"label column {label!r} is missing on every row; nothing to train on"
        )
    y = y_all.loc[labelled.index].astype(int)
    _check_both_classes(y, "labelled", label)
    excluded = [*exclude_columns, *([label_end_column] if label_end_column else [])]
    columns = infer_feature_columns(
        labelled,
        label,
        time_column=time_column,
        id_columns=id_columns,
        exclude_columns=excluded,
        categorical_columns=categorical_columns,
    )
    if not columns.all:
        raise ValueError(f"no usable feature columns; excluded: {columns.excluded}")

    train_idx, valid_idx = split_rows(
        labelled,
        y,
        time_column=time_column,
        label_end_column=label_end_column,
        random_state=random_state,
    )
    _check_both_classes(y.loc[train_idx], "training", label)
    # Calibration splits the training part into stratified folds: each needs both classes.
    minority = int(y.loc[train_idx].value_counts().min())
    if minority < CALIBRATION_FOLDS:
        raise InsufficientTrainingData(
            f"label column {label!r} has {minority} row(s) of its rarer class in the training "
            f"part; calibration needs at least {CALIBRATION_FOLDS} (one per fold)"
        )
    _check_both_classes(y.loc[valid_idx], "validation", label)

    x = labelled.drop(columns=[label])
    x_train, y_train = x.loc[train_idx], y.loc[train_idx]
    x_valid, y_valid = x.loc[valid_idx], y.loc[valid_idx]

    # Tuning looks only inside the training part, split the same way again, so that the
    # validation part stays untouched until the families are compared.
    tuning = _tuning_split(
        x_train,
        y_train,
        time_column=time_column,
        label_end_column=label_end_column,
        random_state=random_state,
    )
    if tuning is not None:
        tuning = cap_tuning_rows(*tuning, y_train, max_tuning_rows, random_state)
    tuned: dict[str, dict[str, Any]] = {}
    candidates: dict[str, dict[str, float]] = {}
    method = choose_calibration(y_train)
    for family in families:
        if tuning is not None:
            fit_idx, tune_idx = tuning
            tuned[family] = tune_params(
                family,
                columns,
                x_train.loc[fit_idx],
                y_train.loc[fit_idx],
                x_train.loc[tune_idx],
                y_train.loc[tune_idx],
                random_state=random_state,
            )
    compared = list(families)
    blend = None
    if set(MODEL_FAMILIES) <= set(families):
        tuned[BLEND] = {f: tuned[f] for f in MODEL_FAMILIES if f in tuned}
        blend = build_pipeline(
            BLEND, columns, calibration=method, random_state=random_state, params=tuned[BLEND]
        )
        blend.fit(x_train, y_train)
        candidates[BLEND] = evaluate(y_valid, blend.predict_proba(x_valid)[:, 1])
        compared.append(BLEND)
    for family in families:
        if blend is not None and family in MODEL_FAMILIES:
            # With ensemble=False each calibrated member holds the uncalibrated candidate
            # itself, refitted on all training rows with the same parameters and seed: the
            # same model a separate fit would give, without fitting it again.
            member = blend.named_steps["model"].named_estimators_[family]
            uncalibrated = member.named_steps["model"].calibrated_classifiers_[0].estimator
            prepared = member.named_steps["prep"].transform(x_valid)
            scores = uncalibrated.predict_proba(prepared)[:, 1]
        else:
            candidate = build_pipeline(
                family, columns, random_state=random_state, params=tuned.get(family)
            )
            candidate.fit(x_train, y_train)
            scores = candidate.predict_proba(x_valid)[:, 1]
        candidates[family] = evaluate(y_valid, scores)
    candidates = {f: candidates[f] for f in compared}  # listed in comparison order
    # Ties go to the first candidate listed (logistic regression: simpler to explain).
    best = max(
        compared, key=lambda f: (np.nan_to_num(candidates[f]["roc_auc"]), -compared.index(f))
    )

    if best == BLEND:
        validation_pipeline = blend  # already calibrated and fitted on the training part
    elif BLEND in compared:
        # The blend holds this very pipeline (same family, calibration and parameters),
        # fitted on the same rows.
        validation_pipeline = blend.named_steps["model"].named_estimators_[best]
    else:
        validation_pipeline = build_pipeline(
            best, columns, calibration=method, random_state=random_state, params=tuned.get(best)
        )
        validation_pipeline.fit(x_train, y_train)
    valid_scores = validation_pipeline.predict_proba(x_valid)[:, 1]
    metrics = evaluate(y_valid, valid_scores)
    metrics["training_rows"] = float(len(train_idx))

    # The tuned parameters (rounds included) carry over to the refit on every labelled row.
    final = build_pipeline(
        best, columns, calibration=method, random_state=random_state, params=tuned.get(best)
    )
    final.fit(x, y)
    # Kept on the model itself so that reason codes work for a pipeline loaded from MLflow.
    reference = reference_values(x, columns)
    final.reference_values_ = reference
    metrics["fit_seconds"] = time.perf_counter() - started

    kept = [c for c in [time_column, *id_columns] if c is not None]
    validation = x_valid[kept].copy()
    validation["y_true"] = y_valid.to_numpy()
    validation["y_score"] = valid_scores
    window = None
    if time_column is not None:
        valid_times = labelled.loc[valid_idx, time_column]
        window = (valid_times.min(), valid_times.max())
    return TrainingResult(
        pipeline=final,
        model_family=best,
        metrics=metrics,
        validation=validation,
        candidates=candidates,
        feature_columns=columns,
        validation_window=window,
        label=label,
        time_column=time_column,
        id_columns=list(id_columns),
        input_columns=list(x.columns),
        reference_values=reference,
        validation_pipeline=validation_pipeline,
        validation_index=valid_idx,
        calibration_method=method,
        training_rows=len(labelled),
        params={
            "model_family": best,
            "calibration": method,
            "families_compared": ",".join(compared),
            "validation": "time" if time_column else "stratified_random",
            "validation_share": VALIDATION_SHARE,
            "random_state": random_state,
            "tuning_rows": 0 if tuning is None else len(tuning[0]) + len(tuning[1]),
            "numeric_features": len(columns.numeric),
            "categorical_features": len(columns.categorical),
            **_flat_params(tuned.get(best, {})),
        },
    )
