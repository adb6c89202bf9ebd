"""Transcodings that carry goalpath's value objects inside stored events and snapshots.

Events stay the library's frozen dataclasses; the attrs value objects inside
them are turned into JSON-compatible dicts here and rebuilt (and so
re-validated) when events are read back. Direct JSON writers for the most
frequent events live in :mod:`goalpath.core.storage.fast_paths`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import attrs
from eventsourcing.persistence import JSONTranscoder, Transcoding

from goalpath.core.episode import Session
from goalpath.core.smart import SmartReport, SmartVerdict
from goalpath.core.values import (
    Actor,
    GoalDefinition,
    Measure,
    Measurement,
    Review,
    Target,
)

__all__ = [
    "AttrsTranscoding",
    "DateAsISO",
    "register_goalpath_transcodings",
]

VALUE_CLASSES: tuple[type[Any], ...] = (
    Actor,
    Measure,
    Target,
    GoalDefinition,
    Measurement,
    Review,
    Session,
    SmartVerdict,
    SmartReport,
)


class DateAsISO(Transcoding):
    """A calendar date as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        """Return the ISO form of the date."""
        return obj.isoformat()

    def decode(self, data: str) -> date:
        """Parse an ISO date."""
        return date.fromisoformat(data)


class AttrsTranscoding(Transcoding):
    """A frozen attrs value object as a dict of its fields.

    Nested values are transcoded by the transcoder itself, so a
    ``GoalDefinition`` holding a ``Measure`` round-trips whole.
    """

    def __init__(self, cls: type[Any]) -> None:
        self.type = cls
        self.name = f"goalpath.{cls.__name__}"
        self._fields = tuple(field.name for field in attrs.fields(cls))

    def encode(self, obj: Any) -> dict[str, Any]:
        """Return the object's fields as a dict (tuples become lists)."""
        return {name: getattr(obj, name) for name in self._fields}

    def decode(self, data: dict[str, Any]) -> Any:
        """Rebuild the object, running its validators again."""
        return self.type(**data)


class ActorTranscoding(AttrsTranscoding):
    """Actors recur in every event: decoded ones are remembered, since they are immutable."""

    def __init__(self) -> None:
        super().__init__(Actor)
        self._known: dict[tuple[str, str], Actor] = {}

    def decode(self, data: dict[str, Any]) -> Any:
        """Return the (remembered) actor for these fields."""
        key = (data["id"], data["role"])
        actor = self._known.get(key)
        if actor is None:
            actor = Actor(**data)
            if len(self._known) < MAX_REMEMBERED_ACTORS:
                self._known[key] = actor
        return actor


MAX_REMEMBERED_ACTORS = 10_000


def register_goalpath_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every goalpath value object on an eventsourcing JSON transcoder."""
    transcoder.register(DateAsISO())
    for cls in VALUE_CLASSES:
        transcoder.register(ActorTranscoding() if cls is Actor else AttrsTranscoding(cls))
