"""The goal reads: a goal now, at a version or at a past time; its measurements; its events.

Part of :class:`~goalpath.core.application.GoalpathApp`, beside the goal
commands (:mod:`goalpath.core.application.goal_commands`), which read a
goal's series the same way.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from typing import cast
from uuid import UUID

from goalpath.core.application.access_control import AccessControl
from goalpath.core.authorization import Principal
from goalpath.core.episode import Episode
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.core.goal import Goal
from goalpath.core.measurements import measurement_series, with_recent_from
from goalpath.core.values import Actor, Measurement, as_uuid

__all__ = ["GoalReads"]


class GoalReads(AccessControl):
    """The reads of goals, for :class:`~goalpath.core.application.GoalpathApp`."""

    def get_goal(
        self,
        goal_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> Goal:
        """Return a goal as it is now, at a given version, or at a past time of either kind.

        ``as_of`` (recorded time, a date and time with a time zone): the goal
        as the store knew it then. ``effective_on`` (effective time, a date):
        the goal as it was in force that day, from its events' own dates
        (start, observation, review, retirement; see
        :mod:`goalpath.core.effective_time`), of the events recorded by
        ``as_of`` when both are given. With a ``principal`` the read is
        decided and logged (:meth:`reading`).
        """
        if version is not None and (as_of is not None or effective_on is not None):
            raise InvalidValueError("give a version or a time, not both")
        with self._logged(principal, "goal", goal_id=goal_id, purpose=purpose):
            if as_of is not None or effective_on is not None:
                goal = self._engine._as_of(Goal, goal_id, as_of, effective_on)
            elif version is not None:
                goal = self._engine._at_version(Goal, goal_id, version)
            else:
                goal = self._engine._load(Goal, goal_id)
            return self._knowing_latest(goal, as_of, effective_on)

    def goal_measurements(
        self,
        goal_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Measurement]:
        """Every measurement of a goal, by number, with its corrections applied, from its events.

        Voided ones are in it (status ``entered-in-error``, no value). The
        goal's own state keeps only the latest valid ones
        (:attr:`Goal.recent_measurements`); this reads the whole series. The
        times and version are those of :meth:`get_goal`, whose read (a
        ``goal`` read) it is.
        """
        if version is not None and (as_of is not None or effective_on is not None):
            raise InvalidValueError("give a version or a time, not both")
        with self._logged(principal, "goal", goal_id=goal_id, purpose=purpose):
            if version is None and as_of is None and effective_on is None:
                return self._series_of(self._engine._load(Goal, goal_id))
            if version is not None:
                self._engine._check_version(Goal, goal_id, version)
            domain_events = self._engine._events_as_of(
                Goal, goal_id, as_of, effective_on, version=version
            )
            return measurement_series(domain_events)

    def _knowing_latest(
        self, goal: Goal, as_of: datetime | None, effective_on: date | None
    ) -> Goal:
        """``goal``, or a copy knowing its latest measurement when its state alone does not.

        Only when every recent measurement was voided (:attr:`Goal.latest_known`).
        """
        if goal.latest_known:
            return goal
        domain_events = self._engine._events_as_of(
            Goal,
            goal.id,
            as_of,
            effective_on,
            version=None if as_of or effective_on else goal.version,
        )
        return with_recent_from(goal, domain_events)

    def list_goals(
        self,
        episode_id: UUID,
        *,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Goal]:
        """Return an episode's goals, in the order they were stated: its plan.

        ``as_of`` (recorded time): the goals the store knew of then, as they
        stood then. ``effective_on`` (effective time): the goals started by
        that day, as they were in force then (see :meth:`get_goal`). With a
        ``principal`` the read is decided and logged as a ``plan`` read.
        """
        with self._logged(principal, "plan", episode_id=episode_id, purpose=purpose):
            if as_of is None and effective_on is None:
                episode = self._engine._load(Episode, episode_id)
                return [
                    self._knowing_latest(self._engine._load(Goal, goal_id), None, None)
                    for goal_id in episode.goal_ids
                ]
            episode = self._engine._as_of(Episode, episode_id, as_of, effective_on)
            goals = []
            for goal_id in episode.goal_ids:
                try:
                    goal = self._engine._as_of(Goal, goal_id, as_of, effective_on)
                except NotFoundError:
                    if effective_on is None:
                        raise
                    continue
                goals.append(self._knowing_latest(goal, as_of, effective_on))
            return goals

    def goal_events(
        self,
        goal_id: UUID,
        *,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Goal.Event]:
        """Return every stored event of a goal, oldest first.

        With a ``principal`` the read is decided and logged as a ``history`` read.
        """
        goal_id = as_uuid(goal_id, "goal")
        with self._logged(principal, "history", goal_id=goal_id, purpose=purpose):
            self._engine.sealing.check_not_erased(goal_id)
            events = cast("list[Goal.Event]", list(self._engine.events.get(goal_id)))
            if not events or not isinstance(events[0], Goal.Created):
                raise NotFoundError("goal", goal_id)
            return events

    def _series_of(self, goal: Goal) -> list[Measurement]:
        """Every measurement of ``goal`` as loaded, from its events.

        The events stored before the goal's pending ones (a unit of work's
        changes, not yet written), then those.
        """
        pending = list(goal._pending_events)  # the library's own queue
        stored_to = pending[0].originator_version - 1 if pending else goal.version
        return measurement_series(
            itertools.chain(self._engine.events.get(goal.id, lte=stored_to), pending)
        )
