"""The facts the read models keep about episodes and goals, as plain values.

The same records come from the read-model tables (current state) and from
replayed aggregates (time travel), so plan, progress and queue rules are
written once, against these records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from uuid import UUID

import attrs

from goalpath.core.episode import Episode
from goalpath.core.goal import TERMINAL_STATUSES, Goal, latest_attainment_by_review_date
from goalpath.core.values import GoalDefinition, Measure, Measurement, Target, jsonable

__all__ = [
    "EpisodeRecord",
    "GoalRecord",
    "MeasurementRecord",
    "definition_from_json",
    "definition_to_json",
    "latest_attainment_by_review_date",
]


def definition_to_json(definition: GoalDefinition) -> str:
    """Serialise a goal definition for a read-model row (stable key order)."""
    return json.dumps(jsonable(definition), sort_keys=True, ensure_ascii=False)


def definition_from_json(text: str) -> GoalDefinition:
    """Rebuild a goal definition from :func:`definition_to_json` output."""
    data = json.loads(text)
    measure = data.get("measure")
    target = data.get("target")
    return GoalDefinition(
        statement=data["statement"],
        start_on=date.fromisoformat(data["start_on"]),
        measure=Measure(**measure) if measure else None,
        target=(
            Target(
                baseline=target["baseline"],
                value=target["value"],
                due_on=date.fromisoformat(target["due_on"]),
            )
            if target
            else None
        ),
        area=data.get("area"),
        focus=data.get("focus"),
        practices=tuple(data.get("practices", ())),
        priority=data["priority"],
        review_every_days=data["review_every_days"],
        gas_importance=data.get("gas_importance"),
        gas_difficulty=data.get("gas_difficulty"),
        gas_levels=tuple(data.get("gas_levels", ())),
    )


@attrs.frozen
class MeasurementRecord:
    """One measurement with its corrections applied (``value`` is ``None`` when voided)."""

    sequence: int
    value: float | None
    observed_on: date
    status: str = "final"
    original_value: float | None = None


@attrs.frozen
class EpisodeRecord:
    """An episode's facts: client, therapists, concerns, sessions, goals."""

    episode_id: UUID
    client_id: str
    therapist_ids: tuple[str, ...]
    concerns: tuple[str, ...]
    opened_on: date
    closed_on: date | None
    close_reason: str | None
    sessions_recorded: int
    sessions_attended: int
    goal_ids: tuple[UUID, ...]
    version: int

    @classmethod
    def from_episode(cls, episode: Episode) -> EpisodeRecord:
        """The record of an Episode aggregate (as it is, or as it stood)."""
        return cls(
            episode_id=episode.id,
            client_id=episode.client_id,
            therapist_ids=tuple(episode.therapist_ids),
            concerns=tuple(episode.concerns),
            opened_on=episode.opened_on,
            closed_on=episode.closed_on,
            close_reason=episode.close_reason,
            sessions_recorded=len(episode.sessions),
            sessions_attended=episode.sessions_attended,
            goal_ids=tuple(episode.goal_ids),
            version=episode.version,
        )


@attrs.frozen
class GoalRecord:
    """A goal's facts: current definition, status, reviews summary, measurements."""

    goal_id: UUID
    episode_id: UUID
    client_id: str
    status: str
    definition: GoalDefinition
    concerns: tuple[str, ...]
    version: int
    reviews_count: int
    last_reviewed_on: date | None
    latest_achievement: str | None
    latest_attainment: int | None
    retirement_reason: str | None
    ended_on: date | None
    template_id: str | None
    template_version: str | None
    measurements: tuple[MeasurementRecord, ...] = ()
    latest_attainment_on: date | None = None
    """The review date of ``latest_attainment``: the latest review by date that scored GAS."""

    @classmethod
    def from_goal(cls, goal: Goal, measurements: Iterable[Measurement]) -> GoalRecord:
        """The record of a Goal aggregate (as it is, or as it stood) and its ``measurements``.

        The goal's state keeps only its recent measurements: ``measurements``
        is its whole series as it stood (``GoalpathApp.goal_measurements``).
        """
        attainment, attained_on = latest_attainment_by_review_date(
            (review.reviewed_on, review.attainment) for review in goal.reviews
        )
        return cls(
            goal_id=goal.id,
            episode_id=goal.episode_id,
            client_id=goal.client_id,
            status=goal.status,
            definition=goal.definition,
            concerns=tuple(goal.concerns),
            version=goal.version,
            reviews_count=len(goal.reviews),
            last_reviewed_on=goal.last_reviewed_on,
            latest_achievement=goal.latest_achievement,
            latest_attainment=attainment,
            latest_attainment_on=attained_on,
            retirement_reason=goal.retirement_reason,
            ended_on=goal.ended_on,
            template_id=goal.template_id,
            template_version=goal.template_version,
            measurements=tuple(
                MeasurementRecord(
                    sequence=m.sequence,
                    value=m.value,
                    observed_on=m.observed_on,
                    status=m.status,
                    original_value=m.original_value,
                )
                for m in measurements
            ),
        )

    @property
    def in_force(self) -> bool:
        """Whether the goal is part of the current plan (not retired)."""
        return self.status not in TERMINAL_STATUSES

    @property
    def valid_measurements(self) -> list[MeasurementRecord]:
        """Measurements not voided, oldest observation first."""
        valid = [m for m in self.measurements if m.value is not None]
        return sorted(valid, key=lambda m: (m.observed_on, m.sequence))

    @property
    def latest_measurement(self) -> MeasurementRecord | None:
        """The most recently observed valid measurement, if any."""
        valid = self.valid_measurements
        return valid[-1] if valid else None

    @property
    def next_review_due(self) -> date | None:
        """When the next review is due (from the last review, or the start); ``None`` if retired."""
        if not self.in_force:
            return None
        since = self.last_reviewed_on or self.definition.start_on
        return since + timedelta(days=self.definition.review_every_days)
