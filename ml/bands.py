"""Risk bands: probability thresholds that turn a score into high / medium / low."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RiskBands:
    """Probability thresholds: high ≥ `high`, medium ≥ `medium`, otherwise low.

    Defaults suit churn (act on anyone at ≥ 50%, watch ≥ 20%); pass other values per model,
    e.g. RiskBands(high=0.3, medium=0.1) for a rarer purchase event.
    """

    high: float = 0.5
    medium: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.medium < self.high <= 1.0:
            raise ValueError(
                f"risk bands need 0 <= medium < high <= 1, got medium={self.medium}, "
                f"high={self.high}"
            )

    def band(self, probability: np.ndarray) -> np.ndarray:
        return np.select(
            [probability >= self.high, probability >= self.medium], ["high", "medium"], "low"
        ).astype(object)
