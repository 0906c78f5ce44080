"""Column inference: what counts as numeric, categorical or excluded, and label checks."""

import numpy as np
import pandas as pd
import pytest

from ml.features import binary_label, infer_feature_columns, numeric_share, to_number


def test_numbers_stored_as_text_are_parsed():
    raw = pd.Series(["1,234.5", " 42 ", "", None, "7", "1,000,000"], name="amount")
    parsed = to_number(raw)
    assert parsed.iloc[0] == 1234.5
    assert parsed.iloc[1] == 42.0
    assert np.isnan(parsed.iloc[2]) and np.isnan(parsed.iloc[3])
    assert parsed.iloc[5] == 1_000_000.0
    assert numeric_share(raw) == 1.0


def test_text_is_numeric_only_when_95_percent_parse():
    mostly = pd.Series([str(i) for i in range(96)] + ["n/a"] * 4)
    half = pd.Series([str(i) for i in range(50)] + ["x"] * 50)
    assert numeric_share(mostly) == pytest.approx(0.96)
    assert numeric_share(half) == pytest.approx(0.5)


def test_infer_feature_columns_sorts_every_kind():
    n = 60
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "row_id": np.arange(n),
            "email": [f"person{i}@example.com" for i in range(n)],
            "snapshot_date": pd.date_range("2026-01-01", periods=n),
            "signup_day": [f"2025-12-{1 + i % 28:02d}" for i in range(n)],
            "spend": [f"{v:,.2f}" for v in rng.gamma(2, 900, n)],
            "active": rng.random(n) < 0.5,
            "plan": rng.choice(["a", "b"], n),
            "constant": 3,
            "blank": [""] * n,
            "other_label": rng.integers(0, 2, n),
            "y": rng.integers(0, 2, n),
        }
    )
    columns = infer_feature_columns(
        frame, "y", time_column="snapshot_date", exclude_columns=["other_label"]
    )
    assert columns.numeric == ["spend", "active"]
    assert columns.categorical == ["plan"]
    assert columns.excluded["customer_id"].startswith("id-like")
    assert columns.excluded["row_id"].startswith("id-like")
    assert columns.excluded["email"].startswith("id-like")
    assert columns.excluded["signup_day"].startswith("datetime")
    assert columns.excluded["constant"] == "constant"
    assert columns.excluded["blank"] == "all missing"
    assert columns.excluded["other_label"] == "excluded by caller"
    assert columns.excluded["snapshot_date"] == "time column"


def test_binary_label_accepts_bools_ints_and_missing():
    mapped = binary_label(pd.Series([True, False, None, 1, 0.0], name="churned"))
    assert mapped.tolist()[:2] == [1, 0]
    assert mapped.isna().tolist() == [False, False, True, False, False]


def test_binary_label_names_column_and_bad_values():
    with pytest.raises(ValueError, match=r"'churned'.*2.*'maybe'"):
        binary_label(pd.Series([0, 1, 2, "maybe"], name="churned", dtype=object))
