"""Transcodings that carry goalpath's value objects inside stored events and snapshots.

Events stay the library's frozen dataclasses; the attrs value objects inside
them are turned into JSON-compatible dicts here and rebuilt (and so
re-validated) when events are read back.
"""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final

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
    "FAST_ENCODERS",
    "AttrsTranscoding",
    "DateAsISO",
    "encode_goal_snapshot",
    "encode_measured",
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


# -- a fast path for the most frequent event ----------------------------------------

Encode = Callable[[Any], bytes]
_MEASURED_FIELDS: Final = frozenset(
    {"timestamp", "sequence", "value", "observed_on", "note", "actor"}
)
_ACTOR_JSON: dict[int, tuple[Actor, str]] = {}
"""Written actors by object identity (the actor is kept, so its id cannot be reused)."""
_json_text = json.JSONEncoder(ensure_ascii=False).encode


def _actor_json(actor: Actor) -> str:
    known = _ACTOR_JSON.get(id(actor))
    if known is not None and known[0] is actor:
        return known[1]
    text = (
        '{"_type_":"goalpath.Actor","_data_":{"id":'
        f'{_json_text(actor.id)},"role":{_json_text(actor.role)}}}}}'
    )
    if len(_ACTOR_JSON) >= MAX_REMEMBERED_ACTORS:
        _ACTOR_JSON.clear()
    _ACTOR_JSON[id(actor)] = (actor, text)
    return text


def _text_or_null(value: object) -> str | None:
    if value is None:
        return "null"
    if type(value) is str:
        return _json_text(value)
    return None


def _float_or_null(value: object) -> str | None:
    if value is None:
        return "null"
    if type(value) is float and math.isfinite(value):
        return repr(value)
    return None


def _date_json(value: object) -> str | None:
    if type(value) is date:
        return f'{{"_type_":"date_iso","_data_":"{value.isoformat()}"}}'
    return None


def encode_measured(state: dict[str, Any], _encode: Encode) -> bytes | None:
    """The JSON of a ``Goal.Measured`` event's state, written directly; ``None`` if unusual.

    The bytes are exactly what the library's ``JSONTranscoder`` (with the
    transcodings above) produces, so they decode the same way; writing them
    directly skips one Python callback per date, time and actor. A state with
    any other field or type returns ``None`` and takes the general path.
    """
    if state.keys() != _MEASURED_FIELDS:
        return None
    timestamp = state["timestamp"]
    sequence = state["sequence"]
    actor = state["actor"]
    value = _float_or_null(state["value"])
    observed_on = _date_json(state["observed_on"])
    note = _text_or_null(state["note"])
    if (
        type(timestamp) is not datetime
        or type(sequence) is not int
        or type(actor) is not Actor
        or value is None
        or value == "null"
        or observed_on is None
        or note is None
    ):
        return None
    return (
        '{"timestamp":{"_type_":"datetime_iso","_data_":"'
        f'{timestamp.isoformat()}"}},"sequence":{sequence},"value":{value},'
        f'"observed_on":{observed_on},"note":{note},"actor":{_actor_json(actor)}}}'
    ).encode()


def _measurement_json(measurement: object) -> str | None:
    if type(measurement) is not Measurement:
        return None
    parts = (
        _float_or_null(measurement.value),
        _date_json(measurement.observed_on),
        _text_or_null(measurement.note),
        _text_or_null(measurement.status),
        _float_or_null(measurement.original_value),
        _text_or_null(measurement.correction_reason),
    )
    if None in parts or type(measurement.sequence) is not int:
        return None
    if type(measurement.recorded_by) is not Actor:
        return None
    value, observed_on, note, status, original_value, correction_reason = parts
    return (
        '{"_type_":"goalpath.Measurement","_data_":{'
        f'"sequence":{measurement.sequence},"value":{value},"observed_on":{observed_on},'
        f'"recorded_by":{_actor_json(measurement.recorded_by)},"note":{note},'
        f'"status":{status},"original_value":{original_value},'
        f'"correction_reason":{correction_reason}}}}}'
    )


_PLACEHOLDER: Final = f"goalpath-measurements-{secrets.token_hex(16)}"
_PLACEHOLDER_JSON: Final = f'"{_PLACEHOLDER}"'.encode()


def encode_goal_snapshot(state: dict[str, Any], encode: Encode) -> bytes | None:
    """The JSON of a goal snapshot, its measurement list written directly; ``None`` if unusual.

    A goal's snapshot holds every measurement, so encoding them one
    callback at a time dominates taking it. The rest of the snapshot goes
    through the general encoder with an unguessable placeholder where the
    list belongs, and the directly written list replaces the placeholder;
    the result is the same JSON the general encoder writes.
    """
    aggregate_state = state.get("state")
    if not isinstance(aggregate_state, dict):
        return None
    measurements = aggregate_state.get("measurements")
    if type(measurements) is not list or not measurements:
        return None
    written = []
    for measurement in measurements:
        text = _measurement_json(measurement)
        if text is None:
            return None
        written.append(text)
    encoded = encode({**state, "state": {**aggregate_state, "measurements": _PLACEHOLDER}})
    if encoded.count(_PLACEHOLDER_JSON) != 1:
        return None
    return encoded.replace(_PLACEHOLDER_JSON, f"[{','.join(written)}]".encode())


FAST_ENCODERS: Final[dict[str, Callable[[dict[str, Any], Encode], bytes | None]]] = {
    "goalpath.core.goal:Goal.Measured": encode_measured,
    "eventsourcing.domain:Snapshot": encode_goal_snapshot,
}
"""Direct JSON writers for frequent event topics, given an event's state and the general
encoder; each returns ``None`` to decline (the general encoder is used then)."""
