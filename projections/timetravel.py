"""Time travel: a plan as it stood at a past moment, computed from the events themselves.

Nothing here reads the read-model tables, so a past plan does not depend
on how (or whether) the projections were built.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.episode import Episode
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.projections.plan import Plan, build_plan
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = ["episode_as_of", "plan_as_of"]


def _check_moment(as_of: datetime) -> None:
    if not isinstance(as_of, datetime) or as_of.tzinfo is None:
        raise InvalidValueError(f"the time must be a date and time with a time zone; got {as_of!r}")


def episode_as_of(app: GoalpathApp, episode_id: UUID, as_of: datetime) -> EpisodeRecord:
    """The episode's record as it stood at ``as_of``, replayed from its events."""
    _check_moment(as_of)
    episode: Any = None
    for event in app.episode_events(episode_id):
        if event.timestamp > as_of:
            break
        episode = event.mutate(episode)
    if not isinstance(episode, Episode):
        raise NotFoundError("episode", f"{episode_id} as of {as_of.isoformat()} (not yet opened)")
    return EpisodeRecord.from_episode(episode)


def plan_as_of(app: GoalpathApp, episode_id: UUID, as_of: datetime) -> Plan:
    """The episode's plan as it stood at ``as_of``: goals, definitions, statuses, warnings.

    Warnings are judged on the date of ``as_of``.
    """
    episode = episode_as_of(app, episode_id, as_of)
    goals = [GoalRecord.from_goal(goal) for goal in app.list_goals(episode_id, as_of=as_of)]
    return build_plan(episode, goals, as_of.date())
