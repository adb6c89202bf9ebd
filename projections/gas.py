"""Goal Attainment Scaling: the T-score of a set of goals' attainment levels.

Kiresuk & Sherman (1968); weights and the correlation rho as described by
Turner-Stokes (2009). Levels run from -2 (much less than expected) to +2
(much more than expected); 0 is the expected outcome. A goal's weight is
its importance x difficulty (each rated 0 to 3); :func:`score_goals` scores
a plan's goals, counting those not scored yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.core.values import GAS_LEVELS

__all__ = ["DEFAULT_RHO", "GAS_LEVELS", "GasGoal", "GasScore", "gas_t_score", "score_goals"]

DEFAULT_RHO: Final = 0.3
"""The assumed correlation between goal scores in the GAS formula."""


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


@attrs.frozen
class GasGoal:
    """One goal as GAS sees it: its latest level (``None``: not scored yet) and its weight.

    ``weight`` is importance x difficulty, or ``None`` when the goal is not
    rated, which weighs it 1.
    """

    level: int | None
    weight: float | None = None


@attrs.frozen
class GasScore:
    """The GAS T-score of a plan's goals, with how many of them it covers.

    ``t_score`` is over the ``scored`` goals only (``None`` when none is
    scored, or every scored goal weighs 0); ``goals`` counts every goal in
    scope, so a score over one goal of three says so. ``weighted``: some
    scored goal has an importance and difficulty rating.
    """

    t_score: float | None
    scored: int
    goals: int
    weighted: bool

    @property
    def unscored(self) -> int:
        """How many goals in scope have no attainment level yet."""
        return self.goals - self.scored

    @property
    def coverage(self) -> str:
        """How many goals the score covers, as a clinician reads it: ``1 of 3 goals scored``."""
        noun = "goal" if self.goals == 1 else "goals"
        return f"{self.scored} of {self.goals} {noun} scored"


def score_goals(goals: Sequence[GasGoal], *, rho: float = DEFAULT_RHO) -> GasScore:
    """Score ``goals`` by :func:`gas_t_score`, over those with a level, weighted when rated.

    A goal with no rating weighs 1 (importance 1 x difficulty 1), so a plan
    with no ratings gets the unweighted score.
    """
    scored = [goal for goal in goals if goal.level is not None]
    weights = [1.0 if goal.weight is None else float(goal.weight) for goal in scored]
    return GasScore(
        t_score=gas_t_score(
            [goal.level for goal in scored if goal.level is not None], weights, rho=rho
        ),
        scored=len(scored),
        goals=len(goals),
        weighted=any(goal.weight is not None for goal in scored),
    )
