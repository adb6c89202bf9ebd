"""The Episode aggregate: one client's episode of care, its therapists, sessions and goals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from goalpath.core.errors import InvalidCommandError, InvalidValueError
from goalpath.core.inputs import check_identity_list, check_text_list
from goalpath.core.values import (
    Actor,
    check_actor,
    check_date,
    check_identifier,
    check_reason,
    check_text,
)

__all__ = ["MAX_SESSIONS", "Episode", "Session"]

MAX_SESSIONS: Final = 1000
"""More sessions than this in one episode is taken as a data error."""


@attrs.frozen
class Session:
    """One therapy session of an episode."""

    number: int
    held_on: date
    attended: bool
    recorded_by: Actor


def _check_not_future(name: str, value: date, today: date) -> None:
    if value > today:
        raise InvalidValueError(
            f"{name} {value.isoformat()} is in the future (today is {today.isoformat()})"
        )


class Episode(Aggregate):
    """An episode of care: one client, their therapists, sessions and goals."""

    class Opened(Aggregate.Created):
        """An episode of care began."""

        client_id: str
        therapist_ids: tuple[str, ...]
        concerns: tuple[str, ...]
        opened_on: date
        actor: Actor

    class SessionRecorded(Aggregate.Event):
        """A session took place (or was missed)."""

        number: int
        held_on: date
        attended: bool
        actor: Actor

    class TherapistAssigned(Aggregate.Event):
        """Another therapist joined the episode."""

        therapist_id: str
        actor: Actor

    class GoalAdded(Aggregate.Event):
        """A goal was stated in this episode."""

        goal_id: UUID
        actor: Actor

    class Closed(Aggregate.Event):
        """The episode ended."""

        reason: str
        closed_on: date
        actor: Actor

    @event(Opened)
    def __init__(
        self,
        client_id: str,
        therapist_ids: tuple[str, ...],
        concerns: tuple[str, ...],
        opened_on: date,
        actor: Actor,
    ) -> None:
        self.client_id = client_id
        self.therapist_ids = list(therapist_ids)
        self.concerns = list(concerns)
        self.opened_on = opened_on
        self.opened_by = actor
        self.sessions: list[Session] = []
        self.goal_ids: list[UUID] = []
        self.closed_on: date | None = None
        self.close_reason: str | None = None

    @classmethod
    def open(
        cls,
        *,
        client_id: str,
        therapist_ids: tuple[str, ...] | list[str],
        concerns: tuple[str, ...] | list[str],
        opened_on: date,
        actor: Actor,
        today: date,
        episode_id: UUID | None = None,
    ) -> Episode:
        """Open an episode for a client, with at least one therapist."""
        check_actor(actor)
        client_id = check_identifier("client id", client_id)
        therapists = check_identity_list("therapist id", therapist_ids)
        if not therapists:
            raise InvalidValueError("an episode needs at least one therapist id")
        if len(set(therapists)) != len(therapists):
            raise InvalidValueError("the same therapist is named twice")
        concern_tuple = check_text_list("presenting concerns", concerns)
        for concern in concern_tuple:
            check_text("presenting concern", concern, 500)
        opened = check_date("opening date", opened_on)
        _check_not_future("opening date", opened, today)
        return cls._create(
            cls.Opened,
            id=episode_id,
            client_id=client_id,
            therapist_ids=therapists,
            concerns=concern_tuple,
            opened_on=opened,
            actor=actor,
        )

    @property
    def is_closed(self) -> bool:
        """Whether the episode has ended."""
        return self.closed_on is not None

    @property
    def sessions_attended(self) -> int:
        """How many sessions the client attended."""
        return sum(1 for session in self.sessions if session.attended)

    def _refuse_if_closed(self, action: str) -> None:
        if self.closed_on is not None:
            raise InvalidCommandError(
                f"episode {self.id} was closed on {self.closed_on.isoformat()}; it cannot {action}"
            )

    def record_session(
        self, held_on: date, attended: bool, actor: Actor, today: date, number: int | None = None
    ) -> int:
        """Record the next session; return its number. Numbers run 1, 2, 3... without gaps."""
        self._refuse_if_closed("record a session")
        check_actor(actor)
        expected = len(self.sessions) + 1
        if number is not None and (isinstance(number, bool) or number != expected):
            raise InvalidValueError(
                f"the next session of episode {self.id} is number {expected}; got {number!r}"
            )
        if expected > MAX_SESSIONS:
            raise InvalidCommandError(f"an episode holds at most {MAX_SESSIONS} sessions")
        if not isinstance(attended, bool):
            raise InvalidValueError(f"attended must be true or false; got {attended!r}")
        held = check_date("session date", held_on)
        _check_not_future("session date", held, today)
        if held < self.opened_on:
            raise InvalidValueError(
                f"session date {held.isoformat()} is before the episode opened "
                f"({self.opened_on.isoformat()})"
            )
        if self.sessions and held < self.sessions[-1].held_on:
            raise InvalidValueError(
                f"session date {held.isoformat()} is before session {len(self.sessions)} "
                f"({self.sessions[-1].held_on.isoformat()}); sessions are recorded in order"
            )
        self._session_recorded(number=expected, held_on=held, attended=attended, actor=actor)
        return expected

    @event(SessionRecorded)
    def _session_recorded(self, number: int, held_on: date, attended: bool, actor: Actor) -> None:
        self.sessions.append(
            Session(number=number, held_on=held_on, attended=attended, recorded_by=actor)
        )

    def assign_therapist(self, therapist_id: str, actor: Actor) -> None:
        """Add a therapist to the episode."""
        self._refuse_if_closed("take a new therapist")
        check_actor(actor)
        therapist_id = check_identifier("therapist id", therapist_id)
        if therapist_id in self.therapist_ids:
            raise InvalidCommandError(
                f"therapist {therapist_id} is already assigned to episode {self.id}"
            )
        self._therapist_assigned(therapist_id=therapist_id, actor=actor)

    @event(TherapistAssigned)
    def _therapist_assigned(self, therapist_id: str, actor: Actor) -> None:
        self.therapist_ids.append(therapist_id)

    def add_goal(self, goal_id: UUID, actor: Actor, stated_at: datetime | None = None) -> None:
        """Link a newly stated goal to this episode.

        ``stated_at`` is the goal's creation time: the link carries the same
        timestamp, so the plan as of any moment includes exactly the goals
        stated by then.
        """
        self._refuse_if_closed("take a new goal")
        check_actor(actor)
        if goal_id in self.goal_ids:
            raise InvalidCommandError(f"goal {goal_id} is already part of episode {self.id}")
        if stated_at is None:
            self._goal_added(goal_id=goal_id, actor=actor)
        else:
            self.trigger_event(self.GoalAdded, goal_id=goal_id, actor=actor, timestamp=stated_at)

    @event(GoalAdded)
    def _goal_added(self, goal_id: UUID, actor: Actor) -> None:
        self.goal_ids.append(goal_id)

    def close(self, reason: str, closed_on: date, actor: Actor, today: date) -> None:
        """End the episode."""
        self._refuse_if_closed("be closed again")
        check_actor(actor)
        check_reason(reason, "close an episode")
        closed = check_date("closing date", closed_on)
        _check_not_future("closing date", closed, today)
        last = self.sessions[-1].held_on if self.sessions else self.opened_on
        if closed < last:
            raise InvalidValueError(
                f"closing date {closed.isoformat()} is before the last recorded activity "
                f"({last.isoformat()})"
            )
        self._closed(reason=reason, closed_on=closed, actor=actor)

    @event(Closed)
    def _closed(self, reason: str, closed_on: date, actor: Actor) -> None:
        self.closed_on = closed_on
        self.close_reason = reason
