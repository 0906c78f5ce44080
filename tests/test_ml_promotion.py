import pytest

from ml.promotion import decide_promotion


def test_no_champion_promotes_when_above_floor():
    decision = decide_promotion(0.75, None)
    assert decision.promote
    assert "no champion" in decision.reason


def test_no_champion_below_floor_is_not_promoted():
    assert not decide_promotion(0.69, None).promote


def test_worse_challenger_is_not_promoted():
    decision = decide_promotion(0.80, 0.82)
    assert not decision.promote
    assert "worse" in decision.reason
    assert decision.champion_auc == 0.82


@pytest.mark.parametrize("challenger", [0.816, 0.82, 0.90])
def test_within_tolerance_or_better_is_promoted(challenger):
    assert decide_promotion(challenger, 0.82, tolerance=0.005).promote


def test_below_floor_not_promoted_even_if_better_than_champion():
    decision = decide_promotion(0.65, 0.60, floor=0.70)
    assert not decision.promote
    assert "floor" in decision.reason


def test_nan_challenger_never_promoted_and_nan_champion_counts_as_none():
    assert not decide_promotion(float("nan"), None).promote
    assert decide_promotion(0.8, float("nan")).promote
