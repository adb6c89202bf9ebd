"""The current plan of an episode: its goals in force and the plan warnings.

Warnings follow the plan rules of goalpath's design; they are advice a
clinician sees, not errors:

- ``no-plan``: session 4 or later is recorded and no goal is agreed (active
  or on hold); goals are normally set in the first 2-4 sessions;
- ``no-progress-check``: session 8 or later is recorded and no goal of the
  episode has been reviewed; progress is normally checked by session 6-8;
- ``only-symptom-reduction``: every goal in force reduces a symptom (by
  :attr:`~goalpath.core.values.GoalDefinition.effective_focus`); balance
  problem-solving with strength-building goals;
- ``review-overdue``: an active or on-hold goal is past its review cadence.

A closed episode has no warnings: there is nothing left to plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final, Literal
from uuid import UUID

import attrs

from goalpath.core.goal import REVIEWABLE_STATUSES
from goalpath.core.smart import SmartReport, evaluate_smart
from goalpath.projections.gas import GasGoal, GasScore, score_goals
from goalpath.projections.records import EpisodeRecord, GoalRecord, MeasurementRecord

__all__ = [
    "NO_PLAN_BY_SESSION",
    "NO_PROGRESS_CHECK_BY_SESSION",
    "Plan",
    "PlanGoal",
    "PlanWarning",
    "WarningCode",
    "build_plan",
    "plan_warnings",
]

NO_PLAN_BY_SESSION: Final = 4
NO_PROGRESS_CHECK_BY_SESSION: Final = 8

WarningCode = Literal["no-plan", "no-progress-check", "only-symptom-reduction", "review-overdue"]


@attrs.frozen
class PlanWarning:
    """One plan warning, with the goal it concerns when it concerns one."""

    code: WarningCode
    message: str
    goal_id: UUID | None = None


@attrs.frozen
class PlanGoal:
    """A goal of a plan with what a clinician needs at a glance."""

    record: GoalRecord
    smart: SmartReport
    latest: MeasurementRecord | None
    next_review_due: date | None

    @property
    def goal_id(self) -> UUID:
        """The goal's id."""
        return self.record.goal_id


@attrs.frozen
class Plan:
    """An episode's plan on a given day: goals in force, goals ended, warnings."""

    episode: EpisodeRecord
    on: date
    goals: tuple[PlanGoal, ...]
    ended: tuple[PlanGoal, ...]
    warnings: tuple[PlanWarning, ...]
    gas: GasScore
    """The GAS score of the goals' latest attainment levels by review date, weighted when rated."""

    @property
    def gas_t_score(self) -> float | None:
        """The GAS T-score (:attr:`gas`), if any goal is scored."""
        return self.gas.t_score


def plan_warnings(
    episode: EpisodeRecord, goals: Sequence[GoalRecord], today: date
) -> list[PlanWarning]:
    """Return the plan warnings of an episode's goals on ``today``."""
    if episode.closed_on is not None:
        return []
    warnings: list[PlanWarning] = []
    sessions = episode.sessions_recorded
    if sessions >= NO_PLAN_BY_SESSION and not any(g.status in REVIEWABLE_STATUSES for g in goals):
        warnings.append(
            PlanWarning(
                "no-plan",
                f"{sessions} sessions recorded and no goal is agreed (active); goals are "
                f"normally set in the first 2-{NO_PLAN_BY_SESSION} sessions",
            )
        )
    if sessions >= NO_PROGRESS_CHECK_BY_SESSION and not any(g.reviews_count for g in goals):
        warnings.append(
            PlanWarning(
                "no-progress-check",
                f"{sessions} sessions recorded and no goal has been reviewed; progress is "
                f"normally checked by session 6-{NO_PROGRESS_CHECK_BY_SESSION}",
            )
        )
    in_force = [g for g in goals if g.in_force]
    if in_force and all(g.definition.effective_focus == "symptom-reduction" for g in in_force):
        warnings.append(
            PlanWarning(
                "only-symptom-reduction",
                "every goal in force reduces a symptom; balance it with a goal that builds "
                "a strength or solves a problem",
            )
        )
    for goal in goals:
        due = goal.next_review_due
        if goal.status in REVIEWABLE_STATUSES and due is not None and due < today:
            warnings.append(
                PlanWarning(
                    "review-overdue",
                    f"review was due on {due.isoformat()} ({(today - due).days} days ago; "
                    f"cadence {goal.definition.review_every_days} days)",
                    goal.goal_id,
                )
            )
    return warnings


def _latest_only(goal: GoalRecord) -> tuple[MeasurementRecord, ...]:
    latest = goal.latest_measurement
    return () if latest is None else (latest,)


def build_plan(episode: EpisodeRecord, goals: Sequence[GoalRecord], today: date) -> Plan:
    """Build an episode's plan from its records; goals keep the episode's order.

    A plan shows each goal's latest valid measurement, and its goal records
    hold that one only (now or at a past time alike): the whole series is a
    goal's progress (``Projections.progress``) or ``GoalpathApp.goal_measurements``.
    """
    order = {goal_id: index for index, goal_id in enumerate(episode.goal_ids)}
    ordered = sorted(goals, key=lambda g: order.get(g.goal_id, len(order)))
    plan_goals = [
        PlanGoal(
            record=attrs.evolve(goal, measurements=_latest_only(goal)),
            smart=evaluate_smart(goal.definition, goal.concerns),
            latest=goal.latest_measurement,
            next_review_due=goal.next_review_due,
        )
        for goal in ordered
    ]
    return Plan(
        episode=episode,
        on=today,
        goals=tuple(g for g in plan_goals if g.record.in_force),
        ended=tuple(g for g in plan_goals if not g.record.in_force),
        warnings=tuple(plan_warnings(episode, ordered, today)),
        gas=score_goals(
            [
                GasGoal(level=g.latest_attainment, weight=g.definition.gas_weight)
                for g in ordered
                if g.status != "entered-in-error"
            ]
        ),
    )
