"""Field-level history for auditors: every event with the before and after of each change.

The history is computed by replaying a stream's events one at a time and
comparing a flat view of the aggregate before and after each event, so it
shows exactly what each event changed, whatever its type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any
from uuid import UUID

import attrs

from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure
from goalpath.core.goal import Goal

__all__ = [
    "FieldChange",
    "HistoryBuilder",
    "HistoryEntry",
    "flatten",
    "history_of",
    "replay_with_changes",
]

_SKIPPED_STATE = frozenset({"_id", "_version", "_created_on", "_modified_on", "_pending_events"})
_EFFECTIVE_DATE_FIELDS = (
    "observed_on",
    "reviewed_on",
    "retired_on",
    "held_on",
    "closed_on",
    "opened_on",
)


@attrs.frozen
class FieldChange:
    """One field an event changed: its dotted path and the values before and after."""

    field: str
    before: Any
    after: Any


@attrs.frozen
class HistoryEntry:
    """One event of a stream, as an auditor reads it."""

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


def _plain(value: Any) -> Any:
    if attrs.has(type(value)):
        return {
            field.name: _plain(getattr(value, field.name)) for field in attrs.fields(type(value))
        }
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A flat ``{dotted.path: value}`` view of nested dicts and lists, for diffing."""
    flat: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and not value:
        # An empty collection has nothing to show; its first item appears as a change.
        pass
    elif isinstance(value, list) and isinstance(value[0], dict):
        for index, item in enumerate(value, start=1):
            flat.update(flatten(item, f"{prefix}[{index}]"))
    else:
        flat[prefix] = value
    return flat


def _state_of(aggregate: Any) -> dict[str, Any]:
    if aggregate is None:
        return {}
    state = {
        name: _plain(value) for name, value in vars(aggregate).items() if name not in _SKIPPED_STATE
    }
    return flatten(state)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldChange, ...]:
    fields = sorted(set(before) | set(after))
    return tuple(
        FieldChange(field, before.get(field), after.get(field))
        for field in fields
        if before.get(field) != after.get(field)
    )


def _stream_type(domain_event: Any) -> str:
    if isinstance(domain_event, Goal.Event):
        return "goal"
    if isinstance(domain_event, Episode.Event):
        return "episode"
    if isinstance(domain_event, ClientErasure.Recorded):
        return "erasure"
    return type(domain_event).__qualname__.split(".")[0].lower()


def _effective_on(domain_event: Any) -> date | None:
    for name in _EFFECTIVE_DATE_FIELDS:
        value = getattr(domain_event, name, None)
        if isinstance(value, date):
            return value
    definition = getattr(domain_event, "definition", None)
    if definition is not None and getattr(domain_event, "originator_version", 0) == 1:
        start: date = definition.start_on
        return start
    return None


class HistoryBuilder:
    """Builds history entries for events of many streams, given in recording order.

    It keeps each stream's replayed aggregate and flat state, so that each
    event's entry shows exactly what that event changed.
    """

    def __init__(self) -> None:
        self._streams: dict[UUID, tuple[Any, dict[str, Any]]] = {}

    def entry_for(self, domain_event: Any) -> HistoryEntry:
        """Apply the next event of its stream and describe it."""
        stream = domain_event.originator_id
        aggregate, before = self._streams.get(stream, (None, {}))
        aggregate = domain_event.mutate(aggregate)
        after = _state_of(aggregate)
        self._streams[stream] = (aggregate, after)
        actor = getattr(domain_event, "actor", None)
        return HistoryEntry(
            stream_id=stream,
            stream_type=_stream_type(domain_event),
            version=domain_event.originator_version,
            recorded_at=domain_event.timestamp,
            effective_on=_effective_on(domain_event),
            event_type=type(domain_event).__name__,
            actor_id=getattr(actor, "id", None),
            actor_role=getattr(actor, "role", None),
            reason=getattr(domain_event, "reason", None),
            changes=_changes(before, after),
        )


def replay_with_changes(events: Iterable[Any]) -> Iterator[tuple[Any, HistoryEntry]]:
    """Replay one stream's events in order, yielding each event with its history entry."""
    builder = HistoryBuilder()
    for domain_event in events:
        yield domain_event, builder.entry_for(domain_event)


def history_of(events: Iterable[Any]) -> list[HistoryEntry]:
    """The field-level history of one stream's events."""
    return [entry for _event, entry in replay_with_changes(events)]
