"""Caseload outcomes: reliable improvement, deterioration and recovery, per therapist and overall.

The unit is an episode. Its standardised goals (on an instrument of the
plugin registry with caseness and reliable-change thresholds, such as PHQ-9
and GAD-7; goals entered in error left out) with at least two valid scores are compared
first score to latest score, and combined as in NHS Talking Therapies
(:func:`~goalpath.projections.outcomes.combine_outcomes`). Recovery rates
are over episodes that were a case at the start; the other rates over all
measured episodes. An episode counts for each of its therapists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

import attrs

from goalpath.projections.outcomes import (
    CombinedOutcome,
    Conventions,
    OutcomeClassification,
    classify_change,
    combine_outcomes,
    conventions_or_installed,
)
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = [
    "CaseloadOutcomes",
    "OutcomeCounts",
    "build_caseload_outcomes",
    "episode_outcome",
    "goal_outcome",
]


def _rate(count: int, total: int) -> float | None:
    return None if total == 0 else count / total


@attrs.frozen
class OutcomeCounts:
    """Counts of outcomes over a set of measured episodes, with rates."""

    episodes_measured: int = 0
    cases_at_start: int = 0
    reliable_improvement: int = 0
    reliable_deterioration: int = 0
    recovery: int = 0
    reliable_recovery: int = 0

    def add(self, outcome: CombinedOutcome) -> OutcomeCounts:
        """These counts with one more episode's outcome."""
        return OutcomeCounts(
            episodes_measured=self.episodes_measured + 1,
            cases_at_start=self.cases_at_start + outcome.case_at_start,
            reliable_improvement=self.reliable_improvement + outcome.reliable_improvement,
            reliable_deterioration=self.reliable_deterioration + outcome.reliable_deterioration,
            recovery=self.recovery + outcome.recovery,
            reliable_recovery=self.reliable_recovery + outcome.reliable_recovery,
        )

    @property
    def rates(self) -> dict[str, float | None]:
        """Improvement and deterioration per measured episode; recovery per case at start."""
        return {
            "reliable_improvement": _rate(self.reliable_improvement, self.episodes_measured),
            "reliable_deterioration": _rate(self.reliable_deterioration, self.episodes_measured),
            "recovery": _rate(self.recovery, self.cases_at_start),
            "reliable_recovery": _rate(self.reliable_recovery, self.cases_at_start),
        }


@attrs.frozen
class CaseloadOutcomes:
    """Outcome counts overall and per therapist."""

    overall: OutcomeCounts
    by_therapist: Mapping[str, OutcomeCounts]


def goal_outcome(
    goal: GoalRecord, conventions: Conventions | None = None
) -> OutcomeClassification | None:
    """The first-to-latest outcome of a standardised goal, if it has two valid scores.

    ``conventions`` (the standardised instruments) defaults to the installed plugins'.
    """
    measure = goal.definition.measure
    if goal.status == "entered-in-error" or measure is None or measure.instrument is None:
        return None
    table = conventions_or_installed(conventions)
    instrument = table.get(measure.instrument.lower())
    if instrument is None:
        return None
    values = [m.value for m in goal.valid_measurements if m.value is not None]
    if len(values) < 2 or not all(
        instrument.minimum <= value <= instrument.maximum for value in (values[0], values[-1])
    ):
        return None
    return classify_change(instrument.id, values[0], values[-1], table)


def episode_outcome(
    goals: Sequence[GoalRecord], conventions: Conventions | None = None
) -> CombinedOutcome | None:
    """The combined outcome of one episode's goals, or ``None`` if none is measured."""
    table = conventions_or_installed(conventions)
    outcomes = [o for o in (goal_outcome(goal, table) for goal in goals) if o is not None]
    return combine_outcomes(outcomes)


def build_caseload_outcomes(
    episodes: Mapping[UUID, EpisodeRecord],
    goals: Sequence[GoalRecord],
    *,
    therapist_id: str | None = None,
    conventions: Conventions | None = None,
) -> CaseloadOutcomes:
    """Count outcomes over episodes (only ``therapist_id``'s when given).

    ``conventions`` (the standardised instruments) defaults to the installed plugins'.
    """
    table = conventions_or_installed(conventions)
    by_episode: dict[UUID, list[GoalRecord]] = {}
    for goal in goals:
        by_episode.setdefault(goal.episode_id, []).append(goal)
    overall = OutcomeCounts()
    by_therapist: dict[str, OutcomeCounts] = {}
    for episode_id, episode_goals in by_episode.items():
        episode = episodes.get(episode_id)
        if episode is None:
            continue
        if therapist_id is not None and therapist_id not in episode.therapist_ids:
            continue
        outcome = episode_outcome(episode_goals, table)
        if outcome is None:
            continue
        overall = overall.add(outcome)
        for therapist in episode.therapist_ids:
            if therapist_id is None or therapist == therapist_id:
                by_therapist[therapist] = by_therapist.get(therapist, OutcomeCounts()).add(outcome)
    return CaseloadOutcomes(overall=overall, by_therapist=dict(sorted(by_therapist.items())))
