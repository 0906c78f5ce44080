"""Which input columns are features, and of what kind.

Feature tables come from many hands: numbers exported as text ("1,234.5", " 42 "), blanks for
missing, booleans, keys and dates next to real signals. These functions decide, from the data
alone, what each column is, so that the trainer never depends on one table's exact schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

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
    """Coerce a column to trimmed text (object dtype, NaN for missing/blank) for the encoders.

    Numbers (code-like columns declared categorical) become their shortest text, whole
    numbers without a decimal part, so region 3 reads "3" whether it arrives as int, float
    (an integer column with a gap) or text.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce").astype(float)
        codes = numbers.map(_number_code, na_action="ignore")
        return codes.astype(object).where(numbers.notna(), np.nan)
    text = _blank_to_na(series)
    return text.astype(object).where(text.notna(), np.nan)


def _number_code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


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


def check_time_column(series: pd.Series) -> None:
    """Raise ValueError unless `series` sorts in time order: datetimes (also as
    datetime.date / datetime objects), numbers, or ordered categories.

    Text sorts alphabetically ("Dec" before "Feb", "10" before "9"), which would silently
    put the wrong rows in the validation part.
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if dtype.ordered:
            return
        hint = "mark its order: pd.Categorical(values, categories=[...in time order], ordered=True)"
    elif pd.api.types.is_datetime64_any_dtype(dtype) or (
        pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    ):
        return
    else:
        present = series.dropna()
        if len(present) and present.map(lambda v: isinstance(v, date)).all():
            return  # datetime.date / datetime / Timestamp objects compare in time order
        hint = (
            f"convert it first, e.g. frame[{series.name!r}] = pd.to_datetime(frame["
            f"{series.name!r}]) (with format= for text such as 'Dec 2025'), or make it an "
            "ordered pd.Categorical, or a number such as a period index"
        )
    example = ", ".join(repr(v) for v in series.dropna().unique()[:3])
    raise ValueError(
        f"time column {series.name!r} has dtype {dtype} ({example}), which is not known to "
        "sort in time order (text sorts alphabetically); it must be datetime, numeric or an "
        f"ordered categorical: {hint}"
    )


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
    categorical_columns: Iterable[str] = (),
) -> FeatureColumns:
    """Classify every column of `frame` as numeric, categorical or excluded (with the reason).

    Datetime columns are excluded rather than turned into ages: absolute dates teach a model
    the calendar, which does not carry over to the next scoring day. Express recency as a
    duration (days_since_last_order) upstream instead. The time column is never a feature.

    `categorical_columns` are categorical whatever their values: code-like integers (region,
    browser or OS ids) would otherwise be read as numbers, whose order means nothing. They
    are still excluded when all missing or constant.
    """
    excluded: dict[str, str] = {label: "label"}
    if time_column is not None:
        excluded[time_column] = "time column"
    for column in id_columns:
        excluded[column] = "id column (given)"
    for column in exclude_columns:
        excluded[column] = "excluded by caller"
    forced = list(dict.fromkeys(categorical_columns))
    missing = [c for c in forced if c not in frame.columns]
    if missing:
        raise ValueError(
            f"categorical_columns {missing} not in frame (columns: {list(frame.columns)}); "
            "name existing columns or leave them out"
        )
    clashes = {c: excluded[c] for c in forced if c in excluded}
    if clashes:
        raise ValueError(
            f"categorical_columns {list(clashes)} cannot be features: {clashes}; "
            "remove them from categorical_columns or from the other role"
        )
    numeric: list[str] = []
    categorical: list[str] = []
    for column in frame.columns:
        if column in excluded:
            continue
        series = frame[column]
        if column in forced:
            reason = "all missing" if to_category(series).isna().all() else None
            is_numeric = False
        else:
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


def binary_label(series: pd.Series) -> pd.Series:
    """Map a label to int 0/1 (missing stays missing, as nullable Int64).

    Accepted: 0/1 in any numeric dtype, booleans, and the text the feature parser reads as
    a boolean or a number ("Yes"/"No", "TRUE"/"FALSE", "t"/"f", "1"/"0", "1.0"; case and
    surrounding blanks ignored); blank text is missing, like in a feature column. Raises
    ValueError naming the column and the offending values for anything else.
    """
    present = series.dropna()
    try:
        distinct = list(present.unique())
    except TypeError:  # unhashable cells (lists) are certainly not labels
        distinct = list(present.astype(str).unique())
    values = {_label_key(v): _label_value(v) for v in distinct}
    bad = [v for v in distinct if values[_label_key(v)] is None]
    if bad:
        shown = ", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in bad[:5])
        raise ValueError(
            f"label column {series.name!r} must hold only 0/1, booleans or yes/no, true/false, "
            f"t/f text; found {shown}{' …' if len(bad) > 5 else ''}. Map it to 0/1 before "
            "training."
        )
    mapped = series.map(lambda v: pd.NA if _is_missing(v) else values[_label_key(v)])
    return mapped.astype("Int64")


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # array-like cells
        return False


def _label_key(value: object) -> object:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return (type(value).__name__, value) if isinstance(value, str) else value


def _label_value(value: object) -> int | float | None:
    """0 or 1; NaN for blank text; None when the value is not a binary label."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return np.nan
        number = to_number(pd.Series([text])).iloc[0]
    elif isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        number = float(value)
    else:
        return None
    return int(number) if number in (0.0, 1.0) else None
