"""Field-level history for auditors: every event of a stream with what it changed.

The history replays a stream's events one at a time and asks
:func:`~goalpath.core.changes.describe_changes` what each changed, given the
aggregate as it stood before, so ``goal history``, the audit log and the
audit export name every change alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import attrs

from goalpath.core.changes import (
    FieldChange,
    MeasurementState,
    StreamState,
    describe_changes,
    effective_on,
    follow_measurements,
    stream_type,
)

__all__ = [
    "HistoryBuilder",
    "HistoryEntry",
    "history_of",
    "replay_with_changes",
]


@attrs.frozen
class HistoryEntry:
    """One event of a stream, as an auditor reads it.

    The same names as the audit log's entries and the audit export's
    columns: ``stream_id``, ``stream_type``, ``version``, ``recorded_at``,
    ``effective_on``, ``event_type``, ``actor_id``, ``actor_role``,
    ``reason`` and ``changes``.
    """

    stream_id: UUID
    stream_type: str
    version: int
    recorded_at: datetime
    effective_on: date | None
    event_type: str
    actor_id: str | None
    actor_role: str | None
    reason: str | None
    changes: tuple[FieldChange, ...]

    def document(self) -> dict[str, Any]:
        """The entry as JSON-ready data, under the names above."""
        return {
            "stream_id": str(self.stream_id),
            "stream_type": self.stream_type,
            "version": self.version,
            "recorded_at": self.recorded_at.isoformat(),
            "effective_on": self.effective_on.isoformat() if self.effective_on else None,
            "event_type": self.event_type,
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "reason": self.reason,
            "changes": [change.as_record() for change in self.changes],
        }


class HistoryBuilder:
    """Builds history entries for events of many streams, given in recording order.

    It keeps each stream's replayed aggregate, so that each event is
    described against the state it changed.
    """

    def __init__(self) -> None:
        self._streams: dict[UUID, Any] = {}
        self._measurements: dict[UUID, dict[int, MeasurementState]] = {}

    def entry_for(self, domain_event: Any) -> HistoryEntry:
        """Apply the next event of its stream and describe it."""
        stream = domain_event.originator_id
        before = self._streams.get(stream)
        measurements = self._measurements.setdefault(stream, {})
        changes = describe_changes(StreamState.of(before, measurements), domain_event)
        follow_measurements(measurements, domain_event)
        self._streams[stream] = domain_event.mutate(before)
        actor = getattr(domain_event, "actor", None)
        return HistoryEntry(
            stream_id=stream,
            stream_type=stream_type(domain_event),
            version=domain_event.originator_version,
            recorded_at=domain_event.timestamp,
            effective_on=effective_on(domain_event),
            event_type=type(domain_event).__name__,
            actor_id=getattr(actor, "id", None),
            actor_role=getattr(actor, "role", None),
            reason=getattr(domain_event, "reason", None),
            changes=changes,
        )


def replay_with_changes(events: Iterable[Any]) -> Iterator[tuple[Any, HistoryEntry]]:
    """Replay one stream's events in order, yielding each event with its history entry."""
    builder = HistoryBuilder()
    for domain_event in events:
        yield domain_event, builder.entry_for(domain_event)


def history_of(events: Iterable[Any]) -> list[HistoryEntry]:
    """The field-level history of one stream's events."""
    return [entry for _event, entry in replay_with_changes(events)]
