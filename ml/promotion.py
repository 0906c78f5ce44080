"""Whether a newly trained model (challenger) should replace the current one (champion)."""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_FLOOR = 0.70
DEFAULT_TOLERANCE = 0.005


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    reason: str
    challenger_auc: float
    champion_auc: float | None


def decide_promotion(
    challenger_auc: float,
    champion_auc: float | None,
    *,
    floor: float = DEFAULT_FLOOR,
    tolerance: float = DEFAULT_TOLERANCE,
) -> PromotionDecision:
    """Promote iff the challenger clears the floor and is not worse than the champion by more
    than `tolerance` (on the same validation rows).

    The tolerance lets a fresher model win a statistical tie: retraining on recent data is
    worth a hair of AUC. A missing or NaN champion AUC means there is nothing to beat.
    """
    if challenger_auc is None or math.isnan(challenger_auc):
        return PromotionDecision(False, "challenger AUC is undefined", float("nan"), champion_auc)
    if champion_auc is not None and math.isnan(champion_auc):
        champion_auc = None
    if challenger_auc < floor:
        reason = f"challenger AUC {challenger_auc:.4f} is below the floor {floor:.4f}"
        return PromotionDecision(False, reason, challenger_auc, champion_auc)
    if champion_auc is None:
        reason = f"no champion; challenger AUC {challenger_auc:.4f} clears the floor {floor:.4f}"
        return PromotionDecision(True, reason, challenger_auc, None)
    if challenger_auc >= champion_auc - tolerance:
        reason = (
            f"challenger AUC {challenger_auc:.4f} >= champion AUC {champion_auc:.4f} "
            f"- tolerance {tolerance:.4f}"
        )
        return PromotionDecision(True, reason, challenger_auc, champion_auc)
    reason = (
        f"challenger AUC {challenger_auc:.4f} is worse than champion AUC {champion_auc:.4f} "
        f"by more than the tolerance {tolerance:.4f}"
    )
    return PromotionDecision(False, reason, challenger_auc, champion_auc)
