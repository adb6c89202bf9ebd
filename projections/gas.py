"""Goal Attainment Scaling: the T-score of a set of goals' attainment levels.

Kiresuk & Sherman (1968); weights and the correlation rho as described by
Turner-Stokes (2009). Levels run from -2 (much less than expected) to +2
(much more than expected); 0 is the expected outcome.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from goalpath.core.errors import InvalidValueError

__all__ = ["DEFAULT_RHO", "GAS_LEVELS", "gas_t_score"]

DEFAULT_RHO: Final = 0.3
"""The assumed correlation between goal scores in the GAS formula."""

GAS_LEVELS: Final = (-2, -1, 0, 1, 2)
"""The attainment levels a review may record."""


def gas_t_score(
    levels: Sequence[int],
    weights: Sequence[float] | None = None,
    *,
    rho: float = DEFAULT_RHO,
) -> float | None:
    """Return the GAS T-score of ``levels``, or ``None`` when there are none.

    T = 50 + 10 * sum(w * x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2).
    Without ``weights`` every goal weighs 1. A T-score of 50 means the
    goals were met exactly as expected.
    """
    if weights is None:
        weights = [1.0] * len(levels)
    if len(weights) != len(levels):
        raise InvalidValueError(
            f"give one weight per goal: {len(levels)} levels but {len(weights)} weights"
        )
    for level in levels:
        if isinstance(level, bool) or level not in GAS_LEVELS:
            raise InvalidValueError(f"GAS levels are whole numbers from -2 to +2; got {level!r}")
    for weight in weights:
        if not math.isfinite(weight) or weight < 0:
            raise InvalidValueError(f"GAS weights are finite and not negative; got {weight!r}")
    if not 0 <= rho < 1:
        raise InvalidValueError(f"rho must be from 0 up to (not including) 1; got {rho!r}")
    if not levels:
        return None
    weighted = sum(w * x for w, x in zip(weights, levels, strict=True))
    denominator = math.sqrt((1 - rho) * sum(w * w for w in weights) + rho * sum(weights) ** 2)
    if denominator == 0:
        return None
    return 50 + 10 * weighted / denominator
