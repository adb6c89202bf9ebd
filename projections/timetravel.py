"""Time travel: a plan as it stood at a past moment, or as it was in force on a past day.

Two times (see :mod:`goalpath.core.effective_time`): ``as_of`` is recorded
time, what the store knew at that moment; ``effective_on`` is effective
time, what was in force on that day by the events' own dates (a goal's
start, a measurement's observation, a review). Given both, the plan in
force on ``effective_on`` as the store knew it at ``as_of``.

Nothing here reads the read-model tables, so a past plan does not depend
on how (or whether) the projections were built.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.episode import Episode
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.projections.plan import Plan, build_plan
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = ["episode_as_of", "goal_record_at", "plan_as_of"]


def _check_moment(as_of: datetime) -> None:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise InvalidValueError(f"the time must be a date and time with a time zone; got {as_of!r}")


def _check_times(as_of: datetime | None, effective_on: date | None) -> None:
    if as_of is None and effective_on is None:
        raise InvalidValueError(
            "give a recorded time (as_of), an effective date (effective_on), or both"
        )
    if as_of is not None:
        _check_moment(as_of)


def episode_as_of(
    app: GoalpathApp,
    episode_id: UUID,
    as_of: datetime | None = None,
    *,
    effective_on: date | None = None,
) -> EpisodeRecord:
    """The episode's record as it stood at ``as_of`` and/or as in force on ``effective_on``."""
    _check_times(as_of, effective_on)
    if effective_on is not None:
        return EpisodeRecord.from_episode(
            app.get_episode(episode_id, as_of=as_of, effective_on=effective_on)
        )
    assert as_of is not None  # noqa: S101  # _check_times: one of the two is given
    episode: Any = None
    for event in app.episode_events(episode_id):
        if event.timestamp > as_of:
            break
        episode = event.mutate(episode)
    if not isinstance(episode, Episode):
        raise NotFoundError("episode", f"{episode_id} as of {as_of.isoformat()} (not yet opened)")
    return EpisodeRecord.from_episode(episode)


def goal_record_at(
    app: GoalpathApp,
    goal_id: UUID,
    *,
    as_of: datetime | None = None,
    effective_on: date | None = None,
) -> GoalRecord:
    """A goal's record as it stood at ``as_of`` and/or as in force on ``effective_on``.

    With ``effective_on``, measurements observed and reviews held after that
    day are not in it, nor a later retirement.
    """
    _check_times(as_of, effective_on)
    return GoalRecord.from_goal(
        app.get_goal(goal_id, as_of=as_of, effective_on=effective_on),
        app.goal_measurements(goal_id, as_of=as_of, effective_on=effective_on),
    )


def plan_as_of(
    app: GoalpathApp,
    episode_id: UUID,
    as_of: datetime | None = None,
    *,
    effective_on: date | None = None,
) -> Plan:
    """The episode's plan at a past time: goals, definitions, statuses, warnings.

    As it stood at ``as_of`` (recorded time), as it was in force on
    ``effective_on`` (effective time), or in force then as known at ``as_of``.
    Warnings are judged on ``effective_on``, else on the date of ``as_of``.
    """
    episode = episode_as_of(app, episode_id, as_of, effective_on=effective_on)
    goals = [
        GoalRecord.from_goal(
            goal, app.goal_measurements(goal.id, as_of=as_of, effective_on=effective_on)
        )
        for goal in app.list_goals(episode_id, as_of=as_of, effective_on=effective_on)
    ]
    on = effective_on if effective_on is not None else as_of.date() if as_of else app.today()
    return build_plan(episode, goals, on)
