"""An aggregate at a past version, as recorded by a past time, or as in force on a past date.

Part of the engine (:class:`~goalpath.core.application.sealed.SealedApplication`):
the reads of ``GoalpathApp`` with ``version``, ``as_of`` and ``effective_on``
(:mod:`goalpath.core.effective_time` holds the rules of effective time).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from itertools import takewhile
from typing import Any, Final, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from goalpath.core.effective_time import in_force, replay_with_gaps
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.core.storage.mapper import GoalpathMapper
from goalpath.core.storage.replay import replay
from goalpath.core.values import as_uuid, check_date

__all__ = ["TimeTravel", "kind_name"]

TAggregate = TypeVar("TAggregate", bound=Aggregate)


def kind_name(cls: type[Aggregate]) -> str:
    """What an aggregate class is called in messages: ``goal``, ``episode``."""
    return cls.__name__.lower()


class TimeTravel:
    """The engine's reads of the past, from its events (the engine provides what is declared)."""

    events: Any
    """The library's event store."""
    repository: Any
    """The library's repository."""
    sealing: GoalpathMapper
    """The mapper (erasure checks)."""

    def _stored_version(self, aggregate_id: UUID) -> int:
        raise NotImplementedError  # the engine's

    def _exists(self, aggregate_id: UUID) -> bool:
        raise NotImplementedError  # the engine's

    def _check_version(self, cls: type[Aggregate], aggregate_id: UUID, version: int) -> UUID:
        """Refuse a version the stream does not have (or an erased client's); return its id."""
        kind = kind_name(cls)
        aggregate_id = as_uuid(aggregate_id, kind)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise InvalidValueError(f"version must be a whole number from 1; got {version!r}")
        stored = self._stored_version(aggregate_id)
        if stored == 0:
            raise NotFoundError(kind, aggregate_id)
        if version > stored:
            raise InvalidValueError(
                f"{kind} {aggregate_id} has {stored} versions; version {version} does not exist"
            )
        self.sealing.check_not_erased(aggregate_id)
        return aggregate_id

    def _at_version(self, cls: type[TAggregate], aggregate_id: UUID, version: int) -> TAggregate:
        aggregate_id = self._check_version(cls, aggregate_id, version)
        aggregate: object = self.repository.get(
            aggregate_id, version=version, projector_func=replay
        )
        if not isinstance(aggregate, cls):
            raise NotFoundError(kind_name(cls), aggregate_id)
        return aggregate

    def _as_of(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        as_of: datetime | None,
        effective_on: date | None = None,
    ) -> TAggregate:
        """From the events recorded by ``as_of``, in effect on ``effective_on`` (either or both)."""
        domain_events = self._events_as_of(cls, aggregate_id, as_of, effective_on)
        aggregate: Any = (
            replay(None, domain_events) if effective_on is None else replay_with_gaps(domain_events)
        )
        if not isinstance(aggregate, cls):
            raise NotFoundError(kind_name(cls), aggregate_id)
        return aggregate

    def _events_as_of(
        self,
        cls: type[Aggregate],
        aggregate_id: UUID,
        as_of: datetime | None,
        effective_on: date | None = None,
        version: int | None = None,
    ) -> list[Any]:
        """A stream's events recorded by ``as_of`` (or to ``version``), in effect then.

        ``effective_on`` keeps those in effect that day. The events :meth:`_as_of`
        replays; refused as not found when there
        are none, or when the stream is not one of ``cls``.
        """
        kind = kind_name(cls)
        aggregate_id = as_uuid(aggregate_id, kind)
        if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
            raise InvalidValueError(
                f"the time must be a date and time with a time zone; got {as_of!r}"
            )
        day = None if effective_on is None else check_date("effective_on", effective_on)
        if self._exists(aggregate_id):
            self.sealing.check_not_erased(aggregate_id)
        known: Iterable[Any] = self.events.get(aggregate_id, lte=version)
        if as_of is not None:
            until = as_of
            known = list(takewhile(lambda stored: stored.timestamp <= until, known))

        def first_event_of(stream_id: UUID) -> Any:
            first: Any = next(iter(self.events.get(stream_id, limit=1)), None)
            return None if first is None or (as_of and first.timestamp > as_of) else first

        selected = list(known if day is None else in_force(known, day, first_event_of))
        if not selected and self._exists(aggregate_id):
            when = "" if as_of is None else f" as of {as_of.isoformat()}"
            not_yet = "not yet stated"
            if day is not None:
                when += f" in effect on {day.isoformat()}"
                not_yet = f"not yet {_BEGUN[kind]}" if as_of is None or known else not_yet
            raise NotFoundError(kind, f"{aggregate_id}{when} ({not_yet})")
        if not selected or not (
            isinstance(selected[0], Aggregate.Created) and isinstance(selected[0], cls.Event)
        ):
            raise NotFoundError(kind, aggregate_id)
        return selected


_BEGUN: Final = {"goal": "started", "episode": "opened"}
"""What an aggregate's first effective date is, for "not yet ..." refusals."""
