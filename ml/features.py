"""Which input columns are features, and of what kind.

Feature tables come from many hands: numbers exported as text ("1,234.5", " 42 "), blanks for
missing, booleans, keys and dates next to real signals. These functions decide, from the data
alone, what each column is, so that the trainer never depends on one table's exact schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# A text column is numeric when at least this share of its non-empty values parse as numbers.
NUMERIC_TEXT_SHARE = 0.95
# Names with an "id" token (customer_id, id, userId) mark keys, not signals.
_ID_NAME = re.compile(r"(^|_|\b)id($|_|\b)|[a-z]Id$|ID$", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(\D|$))")
_BOOL_TEXT = {"true": 1.0, "false": 0.0, "t": 1.0, "f": 0.0, "yes": 1.0, "no": 0.0}


@dataclass(frozen=True)
class FeatureColumns:
    """The split of a frame's columns into the model's inputs and what was left out, and why."""

    numeric: list[str]
    categorical: list[str]
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def all(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def _is_text(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def _blank_to_na(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def to_number(series: pd.Series) -> pd.Series:
    """Coerce a column to float: numbers, booleans and numeric text; anything else is NaN.

    Thousands separators ("1,234.5") and surrounding blanks are accepted; "" is missing.
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype("Float64").astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float)
    text = _blank_to_na(series)
    lowered = text.str.lower()
    as_bool = lowered.map(_BOOL_TEXT, na_action="ignore")
    cleaned = text.str.replace(_THOUSANDS, "", regex=True)
    numbers = pd.to_numeric(cleaned, errors="coerce").astype(float)
    return numbers.fillna(as_bool.astype(float)).astype(float).set_axis(series.index)


def to_category(series: pd.Series) -> pd.Series:
    """Coerce a column to trimmed text (object dtype, NaN for missing/blank) for the encoders."""
    text = _blank_to_na(series)
    return text.astype(object).where(text.notna(), np.nan)


def numeric_share(series: pd.Series) -> float:
    """Share of non-empty values that parse as numbers (1.0 for numeric/bool dtypes)."""
    if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
        return 1.0
    present = _blank_to_na(series).dropna()
    if present.empty:
        return 0.0
    return float(to_number(present).notna().mean())


def looks_like_datetime(series: pd.Series) -> bool:
    """Datetime dtypes, dates, and text where ≥ 95% of non-empty values are ISO dates."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not _is_text(series):
        return False
    present = series.dropna()
    if present.empty:
        return False
    sample = present.head(1000)
    is_date = sample.map(lambda v: hasattr(v, "isoformat") or bool(_ISO_DATE.match(str(v).strip())))
    return bool(is_date.mean() >= NUMERIC_TEXT_SHARE)


def is_id_like(name: str, series: pd.Series) -> bool:
    """Keys carry no signal that generalises: id-named strings/ints unique per row, or any text
    column whose every value is distinct (emails, free-text keys)."""
    present = series.dropna()
    if len(present) < 2:
        return False
    unique_per_row = present.nunique() == len(present)
    if not unique_per_row:
        return False
    integer_like = pd.api.types.is_integer_dtype(series)
    if _ID_NAME.search(name) and (integer_like or _is_text(series)):
        return True
    return _is_text(series) and numeric_share(series) < NUMERIC_TEXT_SHARE and len(present) >= 20


def infer_feature_columns(
    frame: pd.DataFrame,
    label: str,
    *,
    time_column: str | None = None,
    id_columns: Sequence[str] = (),
    exclude_columns: Iterable[str] = (),
) -> FeatureColumns:
    """Classify every column of `frame` as numeric, categorical or excluded (with the reason).

    Datetime columns are excluded rather than turned into ages: absolute dates teach a model
    the calendar, which does not carry over to the next scoring day. Express recency as a
    duration (days_since_last_order) upstream instead.
    """
    excluded: dict[str, str] = {label: "label"}
    if time_column is not None:
        excluded[time_column] = "time column"
    for column in id_columns:
        excluded[column] = "id column (given)"
    for column in exclude_columns:
        excluded[column] = "excluded by caller"
    numeric: list[str] = []
    categorical: list[str] = []
    for column in frame.columns:
        if column in excluded:
            continue
        series = frame[column]
        reason = _exclusion_reason(column, series)
        is_numeric = reason is None and numeric_share(series) >= NUMERIC_TEXT_SHARE
        coerced = to_number(series) if is_numeric else to_category(series)
        # One value everywhere (missing counts as a value: its presence can be the signal).
        if reason is None and coerced.nunique(dropna=False) <= 1:
            reason = "constant"
        if reason:
            excluded[column] = reason
        elif is_numeric:
            numeric.append(column)
        else:
            categorical.append(column)
    return FeatureColumns(numeric=numeric, categorical=categorical, excluded=excluded)


def _exclusion_reason(column: str, series: pd.Series) -> str | None:
    if series.isna().all() or (_is_text(series) and _blank_to_na(series).isna().all()):
        return "all missing"
    if looks_like_datetime(series):
        return "datetime (express as an age upstream)"
    if is_id_like(column, series):
        return "id-like (unique per row)"
    return None


def reference_values(frame: pd.DataFrame, columns: FeatureColumns) -> dict[str, object]:
    """A typical value per feature (median for numbers, mode for categories).

    Reason codes measure how far a row's score falls when one feature is set to this value.
    """
    reference: dict[str, object] = {}
    for column in columns.numeric:
        median = to_number(frame[column]).median()
        reference[column] = float(median) if pd.notna(median) else np.nan
    for column in columns.categorical:
        mode = to_category(frame[column]).mode(dropna=True)
        reference[column] = mode.iloc[0] if not mode.empty else np.nan
    return reference


def canonical_order(frame: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
    """The rows of `frame` in one order that depends on their values only: by `keys`, then
    by a hash of the whole row (index labels are kept, and ignored).

    A warehouse returns rows in whatever order it stored them, and that order changes from
    one build to the next; splits, calibration folds, samples and early stopping all follow
    row order. Sorting first makes the same rows give the same model, whatever their order.
    """
    present = [k for k in keys if k in frame.columns]
    try:
        row_hash = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists): the keys alone decide
        row_hash = np.zeros(len(frame), dtype=np.uint64)
    sort_keys = [frame[k].to_numpy() for k in reversed(present)]
    try:
        order = np.lexsort([row_hash, *sort_keys])
    except TypeError:  # keys of mixed types (text and NaN): the row hash alone decides
        order = np.argsort(row_hash, kind="stable")
    return frame.iloc[order]


_TRUE_LABELS = {True}
_FALSE_LABELS = {False}


def binary_label(series: pd.Series) -> pd.Series:
    """Map a 0/1 or boolean label to int 0/1 (missing stays missing, as nullable Int64).

    Raises ValueError naming the column and the offending values for anything else.
    """
    present = series.dropna()
    bad = [v for v in present.unique() if not _is_binary_value(v)]
    if bad:
        shown = ", ".join(repr(v) for v in bad[:5])
        raise ValueError(
            f"label column {series.name!r} must hold only 0/1 or booleans; found {shown}"
            f"{' …' if len(bad) > 5 else ''}. Map it to 0/1 before training."
        )
    mapped = series.map(lambda v: v if pd.isna(v) else int(v in _TRUE_LABELS))
    return mapped.astype("Int64")


def _is_binary_value(value: object) -> bool:
    try:
        return value in _TRUE_LABELS or value in _FALSE_LABELS
    except TypeError:  # unhashable values are certainly not labels
        return False
