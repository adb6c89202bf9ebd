"""Caseload outcomes by the NHS Talking Therapies paired rule, per therapist and overall.

The unit is an episode, not a goal. For each standardised instrument (one of
the plugin registry with caseness and reliable-change thresholds) the
episode's scores are gathered across all its goals (goals entered in error
left out; corrections applied, voided scores and scores outside the
instrument's range left out) and the first and the last by observation date
make the instrument's pair (:func:`instrument_pairs`). A goal replaced
mid-episode therefore still gives the episode's first score.

The episode is then classified by :data:`~goalpath.projections.outcomes.PAIRED_RULE`
on its PHQ-9 pair and its anxiety pair (GAD-7, or an anxiety-disorder-specific
measure standing in for it): a case at the start on either; recovery when
below caseness on both at the end; reliable improvement on at least one with
no reliable deterioration on the other; reliable deterioration on either.
Only finished courses with both pairs count in the rates; open episodes are
``interim``, ended episodes with fewer than two attended sessions
``not-finished``, and finished episodes missing a pair ``unpaired``, each
counted beside the rates. Recovery rates are over the counted episodes that
were a case at the start; the other rates over all counted episodes. An
episode counts for each of its therapists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

import attrs

from goalpath.projections.outcomes import (
    MIN_TREATMENT_SESSIONS,
    PAIRED_RULE,
    CombinedOutcome,
    Conventions,
    Course,
    InstrumentPair,
    OutcomeClassification,
    OutcomeRule,
    classify_change,
    combine_outcomes,
    conventions_or_installed,
    paired_measures,
)
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = [
    "CaseloadOutcomes",
    "EpisodeOutcome",
    "OutcomeCounts",
    "build_caseload_outcomes",
    "course_of",
    "episode_outcome",
    "goal_outcome",
    "instrument_pairs",
]


def _rate(count: int, total: int) -> float | None:
    return None if total == 0 else count / total


def course_of(episode: EpisodeRecord) -> Course:
    """Whether an episode is a finished course, still open (interim) or ended unfinished."""
    if episode.closed_on is None:
        return "interim"
    if episode.sessions_attended < MIN_TREATMENT_SESSIONS:
        return "not-finished"
    return "finished"


@attrs.frozen
class EpisodeOutcome:
    """One episode classified by the paired rule.

    ``pairs`` holds every standardised instrument with a first and a last
    score; ``depression`` and ``anxiety`` are the two the rule takes (the
    anxiety one may be an anxiety-disorder-specific measure). ``outcome`` is
    ``None`` unless both are there; for an ``interim`` episode it is a
    reading so far.
    """

    episode_id: UUID
    therapist_ids: tuple[str, ...]
    course: Course
    pairs: Mapping[str, InstrumentPair]
    depression: InstrumentPair | None
    anxiety: InstrumentPair | None
    outcome: CombinedOutcome | None

    @property
    def paired(self) -> bool:
        """Whether the episode has both a depression and an anxiety pair."""
        return self.outcome is not None

    @property
    def counted(self) -> bool:
        """Whether the episode counts in the rates: a finished course with both pairs."""
        return self.course == "finished" and self.paired

    @property
    def label(self) -> str:
        """What a clinician reads for this episode.

        ``interim``, ``not-finished`` or ``unpaired`` when it does not count;
        otherwise ``reliable recovery``, ``recovery``, ``reliable
        deterioration``, ``reliable improvement``, ``no reliable change``.
        """
        if self.course != "finished":
            return self.course
        outcome = self.outcome
        if outcome is None:
            return "unpaired"
        readings = (
            (outcome.reliable_recovery, "reliable recovery"),
            (outcome.recovery, "recovery"),
            (outcome.reliable_deterioration, "reliable deterioration"),
            (outcome.reliable_improvement, "reliable improvement"),
        )
        return next((label for holds, label in readings if holds), "no reliable change")


@attrs.frozen
class OutcomeCounts:
    """Counts of paired outcomes over a set of episodes, with rates.

    ``finished_paired`` (the denominator) counts the finished courses with
    both pairs; ``interim``, ``not_finished`` and ``unpaired`` the episodes
    with standardised scores that do not count, and why.
    """

    finished_paired: int = 0
    cases_at_start: int = 0
    reliable_improvement: int = 0
    reliable_deterioration: int = 0
    recovery: int = 0
    reliable_recovery: int = 0
    interim: int = 0
    not_finished: int = 0
    unpaired: int = 0

    def add(self, episode: EpisodeOutcome) -> OutcomeCounts:
        """These counts with one more episode."""
        if episode.course == "interim":
            return attrs.evolve(self, interim=self.interim + 1)
        if episode.course == "not-finished":
            return attrs.evolve(self, not_finished=self.not_finished + 1)
        outcome = episode.outcome
        if outcome is None:
            return attrs.evolve(self, unpaired=self.unpaired + 1)
        return attrs.evolve(
            self,
            finished_paired=self.finished_paired + 1,
            cases_at_start=self.cases_at_start + outcome.case_at_start,
            reliable_improvement=self.reliable_improvement + outcome.reliable_improvement,
            reliable_deterioration=self.reliable_deterioration + outcome.reliable_deterioration,
            recovery=self.recovery + outcome.recovery,
            reliable_recovery=self.reliable_recovery + outcome.reliable_recovery,
        )

    @property
    def rates(self) -> dict[str, float | None]:
        """Improvement and deterioration per counted episode; recovery per case at start."""
        return {
            "reliable_improvement": _rate(self.reliable_improvement, self.finished_paired),
            "reliable_deterioration": _rate(self.reliable_deterioration, self.finished_paired),
            "recovery": _rate(self.recovery, self.cases_at_start),
            "reliable_recovery": _rate(self.reliable_recovery, self.cases_at_start),
        }


@attrs.frozen
class CaseloadOutcomes:
    """Outcome counts overall and per therapist, by ``rule``, with each episode's outcome."""

    overall: OutcomeCounts
    by_therapist: Mapping[str, OutcomeCounts]
    episodes: tuple[EpisodeOutcome, ...] = ()
    rule: OutcomeRule = PAIRED_RULE


def goal_outcome(
    goal: GoalRecord, conventions: Conventions | None = None
) -> OutcomeClassification | None:
    """The first-to-latest outcome of one standardised goal, if it has two valid scores.

    A goal's own reading (progress shows it); episodes are classified by
    :func:`episode_outcome`, across goals. ``conventions`` (the standardised
    instruments) defaults to the installed plugins'.
    """
    pairs = instrument_pairs([goal], conventions)
    return next((pair.outcome for pair in pairs.values()), None)


def instrument_pairs(
    goals: Sequence[GoalRecord], conventions: Conventions | None = None
) -> dict[str, InstrumentPair]:
    """The first and last score of each standardised instrument across ``goals``, by id.

    Scores are ordered by observation date; on the same date, by the goals'
    order (the order they were stated) and then recording order. An
    instrument with fewer than two valid scores in range has no pair.
    """
    table = conventions_or_installed(conventions)
    scores: dict[str, list[tuple[date, int, int, float]]] = {}
    for index, goal in enumerate(goals):
        measure = goal.definition.measure
        if goal.status == "entered-in-error" or measure is None or measure.instrument is None:
            continue
        instrument = table.get(measure.instrument.lower())
        if instrument is None:
            continue
        for measurement in goal.valid_measurements:
            value = measurement.value
            if value is not None and instrument.minimum <= value <= instrument.maximum:
                scores.setdefault(instrument.id, []).append(
                    (measurement.observed_on, index, measurement.sequence, value)
                )
    pairs: dict[str, InstrumentPair] = {}
    for code, series in sorted(scores.items()):
        if len(series) < 2:  # a pair is two scores
            continue
        series.sort()
        first_on, *_, first = series[0]
        last_on, *_, last = series[-1]
        pairs[code] = InstrumentPair(
            instrument=code,
            first=first,
            first_on=first_on,
            last=last,
            last_on=last_on,
            scores=len(series),
            outcome=classify_change(code, first, last, table),
        )
    return pairs


def episode_outcome(
    episode: EpisodeRecord, goals: Sequence[GoalRecord], conventions: Conventions | None = None
) -> EpisodeOutcome | None:
    """Classify one episode by the paired rule; ``None`` if it has no standardised score at all.

    ``goals`` are the episode's, in the order they were stated.
    """
    table = conventions_or_installed(conventions)
    own = [goal for goal in goals if goal.episode_id == episode.episode_id]
    if not any(_scores_a_standardised_instrument(goal, table) for goal in own):
        return None
    pairs = instrument_pairs(own, table)
    depression, anxiety = paired_measures(pairs, table)
    outcome = (
        None
        if depression is None or anxiety is None
        else combine_outcomes([depression.outcome, anxiety.outcome])
    )
    return EpisodeOutcome(
        episode_id=episode.episode_id,
        therapist_ids=episode.therapist_ids,
        course=course_of(episode),
        pairs=pairs,
        depression=depression,
        anxiety=anxiety,
        outcome=outcome,
    )


def _scores_a_standardised_instrument(goal: GoalRecord, conventions: Conventions) -> bool:
    measure = goal.definition.measure
    return (
        goal.status != "entered-in-error"
        and measure is not None
        and measure.instrument is not None
        and measure.instrument.lower() in conventions
        and any(m.value is not None for m in goal.valid_measurements)
    )


def build_caseload_outcomes(
    episodes: Mapping[UUID, EpisodeRecord],
    goals: Sequence[GoalRecord],
    *,
    therapist_id: str | None = None,
    conventions: Conventions | None = None,
) -> CaseloadOutcomes:
    """Count paired outcomes over episodes (only ``therapist_id``'s when given).

    ``goals`` in the order they were stated; ``conventions`` (the
    standardised instruments) defaults to the installed plugins'.
    """
    table = conventions_or_installed(conventions)
    by_episode: dict[UUID, list[GoalRecord]] = {}
    for goal in goals:
        by_episode.setdefault(goal.episode_id, []).append(goal)
    overall = OutcomeCounts()
    by_therapist: dict[str, OutcomeCounts] = {}
    classified: list[EpisodeOutcome] = []
    for episode_id, episode_goals in by_episode.items():
        episode = episodes.get(episode_id)
        if episode is None:
            continue
        if therapist_id is not None and therapist_id not in episode.therapist_ids:
            continue
        outcome = episode_outcome(episode, episode_goals, table)
        if outcome is None:
            continue
        classified.append(outcome)
        overall = overall.add(outcome)
        for therapist in episode.therapist_ids:
            if therapist_id is None or therapist == therapist_id:
                by_therapist[therapist] = by_therapist.get(therapist, OutcomeCounts()).add(outcome)
    return CaseloadOutcomes(
        overall=overall,
        by_therapist=dict(sorted(by_therapist.items())),
        episodes=tuple(classified),
    )
