"""What each event means to an auditor: the fields it changed and the date it took effect.

Written once, beside the domain model, and asked by every reader of the
history: ``goal history`` (which replays the stream), the audit log read
model (which reads the state before the event from its tables) and the
audit export all describe an event with :func:`describe_changes` and date it
with :func:`effective_on`, so they name the same change with the same field.

The field names are paths into the aggregate's state, as
``goal show --json`` prints it: ``status``, ``definition.target.due_on``,
``measurements[2].value``, ``reviews[1].decision``, ``sessions[3].held_on``,
``therapist_ids[2]``. An item added to a list is named by its position
there, from 1. Values are JSON-ready (dates as ISO text, ids as text).

Both functions cover every event class in :data:`EVENT_CLASSES` and refuse
any other with :class:`~goalpath.core.errors.UnhandledEventError`, so a new
event type cannot pass unnoticed: the event-coverage test walks every class.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

import attrs
from eventsourcing.domain import Aggregate

from goalpath.core.access import AccessRecord
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure
from goalpath.core.errors import UnhandledEventError
from goalpath.core.goal import Goal, status_after
from goalpath.core.values import GoalDefinition, corrected, jsonable

__all__ = [
    "EVENT_CLASSES",
    "FieldChange",
    "MeasurementState",
    "StreamState",
    "describe_changes",
    "diff_definitions",
    "effective_on",
    "event_classes_of",
    "follow_measurements",
    "stream_type",
]


def event_classes_of(aggregate_class: type[Aggregate]) -> tuple[type[Any], ...]:
    """The event classes an aggregate class declares and records, in declaration order.

    The library's own nested classes are left out: the ``Event`` base, and
    the ``Created`` class it makes when the aggregate names its creation
    event otherwise (``Episode.Opened``).
    """
    nested = [
        value
        for name, value in vars(aggregate_class).items()
        if isinstance(value, type) and issubclass(value, Aggregate.Event) and name != "Event"
    ]
    creations = [value for value in nested if issubclass(value, Aggregate.Created)]
    return tuple(
        value for value in nested if not (len(creations) > 1 and value.__name__ == "Created")
    )


EVENT_CLASSES: Final = (
    *event_classes_of(Goal),
    *event_classes_of(Episode),
    *event_classes_of(ClientErasure),
    *event_classes_of(AccessRecord),
)
"""Every event class goalpath records: the goal's, the episode's, the erasure's and the
access log's."""


@attrs.frozen
class FieldChange:
    """One field an event changed: its path and its JSON-ready values before and after.

    ``before`` is ``None`` for a field the event set for the first time,
    ``after`` is ``None`` for a value it removed (a voided measurement).
    """

    field: str
    before: Any
    after: Any

    def as_record(self) -> dict[str, Any]:
        """The change as a JSON object (``field``, ``before``, ``after``), as stored and shown."""
        return {"field": self.field, "before": self.before, "after": self.after}


@attrs.frozen
class MeasurementState:
    """What a correction's description needs of the measurement it corrects."""

    value: float | None
    status: str = "final"
    original_value: float | None = None


@attrs.frozen
class StreamState:
    """What :func:`describe_changes` needs to know of a stream before an event.

    From a replayed aggregate (:meth:`of`) or from read-model rows; only the
    parts an event's description reads need be given.
    """

    definition: GoalDefinition | None = None
    status: str | None = None
    measurements: Mapping[int, MeasurementState] = attrs.field(factory=dict)
    reviews: int = 0
    therapists: int = 0
    goals: int = 0

    @classmethod
    def of(
        cls, aggregate: object, measurements: Mapping[int, MeasurementState] | None = None
    ) -> StreamState | None:
        """The state of a goal or an episode aggregate (``None`` before its first event).

        A goal's state keeps only its recent valid measurements (without
        ``measurements`` those are given), so a reader that describes
        corrections of any measurement gives the ``measurements`` it followed
        (:func:`follow_measurements`).
        """
        if isinstance(aggregate, Goal):
            if measurements is None:
                measurements = {
                    m.sequence: MeasurementState(m.value, m.status, m.original_value)
                    for m in aggregate.recent_measurements
                }
            return cls(
                definition=aggregate.definition,
                status=aggregate.status,
                measurements=measurements,
                reviews=len(aggregate.reviews),
            )
        if isinstance(aggregate, Episode):
            return cls(therapists=len(aggregate.therapist_ids), goals=len(aggregate.goal_ids))
        return None


def stream_type(event: object) -> str:
    """The kind of stream an event belongs to: ``goal``, ``episode``, ``erasure`` or ``access``."""
    if isinstance(event, Goal.Event):
        return "goal"
    if isinstance(event, Episode.Event):
        return "episode"
    if isinstance(event, ClientErasure.Event):
        return "erasure"
    if isinstance(event, AccessRecord.Event):
        return "access"
    raise UnhandledEventError(event)


def effective_on(event: object) -> date | None:  # noqa: PLR0911  # one return per event type
    """The date an event took effect, where it has one apart from when it was recorded."""
    match event:
        case Goal.Created():
            return event.definition.start_on
        case Goal.Measured():
            return event.observed_on
        case Goal.Reviewed():
            return event.reviewed_on
        case Goal.Retired():
            return event.retired_on
        case Episode.Opened():
            return event.opened_on
        case Episode.SessionRecorded():
            return event.held_on
        case Episode.Closed():
            return event.closed_on
        case (
            Goal.Refined()
            | Goal.Activated()
            | Goal.MeasurementCorrected()
            | Episode.TherapistAssigned()
            | Episode.GoalAdded()
            | ClientErasure.Recorded()
            | AccessRecord.Recorded()
        ):
            return None
    raise UnhandledEventError(event)


def _diff(name: str, before: Any, after: Any) -> list[FieldChange]:
    if before == after:
        return []
    if type(before) is type(after) and attrs.has(type(before)):
        changes: list[FieldChange] = []
        for field in attrs.fields(type(before)):
            changes += _diff(
                f"{name}.{field.name}", getattr(before, field.name), getattr(after, field.name)
            )
        return changes
    return [FieldChange(name, jsonable(before), jsonable(after))]


def diff_definitions(before: GoalDefinition | None, after: GoalDefinition) -> list[FieldChange]:
    """Field-by-field differences between two goal definitions (``definition.…`` paths)."""
    if before is None:
        return [
            FieldChange(f"definition.{field.name}", None, jsonable(getattr(after, field.name)))
            for field in attrs.fields(GoalDefinition)
            if getattr(after, field.name) not in (None, ())
        ]
    changes: list[FieldChange] = []
    for field in attrs.fields(GoalDefinition):
        changes += _diff(
            f"definition.{field.name}", getattr(before, field.name), getattr(after, field.name)
        )
    return changes


def _set(name: str, value: Any) -> list[FieldChange]:
    """A field set for the first time, left out when the event leaves it empty."""
    return [] if value in (None, ()) else [FieldChange(name, None, jsonable(value))]


def _status(previous: StreamState | None, event: object) -> list[FieldChange]:
    before = previous.status if previous else None
    after = status_after(event, before)
    return [] if after == before else [FieldChange("status", before, after)]


def _correction(
    before: MeasurementState | None, event: Goal.MeasurementCorrected
) -> list[FieldChange]:
    path = f"measurements[{event.sequence}]"
    before = before or MeasurementState(None)
    status, original_value = corrected(
        before.value, before.status, before.original_value, event.value
    )
    return [
        FieldChange(f"{path}.{name}", old, new)
        for name, old, new in (
            ("value", before.value, event.value),
            ("status", before.status, status),
            ("original_value", before.original_value, original_value),
        )
        if old != new
    ]


def follow_measurements(measurements: dict[int, MeasurementState], event: object) -> None:
    """Follow a goal's ``measurements`` (by number) through its next ``event``."""
    if isinstance(event, Goal.Measured):
        measurements[event.sequence] = MeasurementState(event.value)
    elif isinstance(event, Goal.MeasurementCorrected):
        before = measurements.get(event.sequence) or MeasurementState(None)
        status, original_value = corrected(
            before.value, before.status, before.original_value, event.value
        )
        measurements[event.sequence] = MeasurementState(event.value, status, original_value)


def describe_changes(previous: StreamState | None, event: object) -> tuple[FieldChange, ...]:
    """The fields ``event`` changed, given its stream's state before it (``None`` at first)."""
    state = previous or StreamState()
    return tuple(_describe(state, previous, event))


def _describe(  # noqa: PLR0911, PLR0912  # one case per event type reads best
    state: StreamState, previous: StreamState | None, event: object
) -> list[FieldChange]:
    match event:
        case Goal.Created():
            return [
                *_status(previous, event),
                FieldChange("episode_id", None, str(event.episode_id)),
                FieldChange("client_id", None, event.client_id),
                *diff_definitions(None, event.definition),
                *_set("concerns", event.concerns),
                *_set("template_id", event.template_id),
                *_set("template_version", event.template_version),
            ]
        case Goal.Refined():
            return diff_definitions(state.definition, event.definition)
        case Goal.Activated():
            return _status(previous, event)
        case Goal.Measured():
            path = f"measurements[{event.sequence}]"
            return [
                FieldChange(f"{path}.value", None, event.value),
                FieldChange(f"{path}.observed_on", None, event.observed_on.isoformat()),
                *_set(f"{path}.note", event.note),
            ]
        case Goal.MeasurementCorrected():
            return _correction(state.measurements.get(event.sequence), event)
        case Goal.Reviewed():
            path = f"reviews[{state.reviews + 1}]"
            return [
                FieldChange(f"{path}.achievement", None, event.achievement),
                FieldChange(f"{path}.decision", None, event.decision),
                *_set(f"{path}.attainment", event.attainment),
                *_set(f"{path}.note", event.note),
                *_status(previous, event),
            ]
        case Goal.Retired():
            return [
                *_status(previous, event),
                FieldChange("retirement_reason", None, event.reason_code),
                *_set("replaced_by", event.replaced_by),
                FieldChange("ended_on", None, event.retired_on.isoformat()),
            ]
        case Episode.Opened():
            return [
                FieldChange("client_id", None, event.client_id),
                FieldChange("therapist_ids", None, list(event.therapist_ids)),
                *_set("concerns", event.concerns),
                FieldChange("opened_on", None, event.opened_on.isoformat()),
            ]
        case Episode.SessionRecorded():
            path = f"sessions[{event.number}]"
            return [
                FieldChange(f"{path}.held_on", None, event.held_on.isoformat()),
                FieldChange(f"{path}.attended", None, event.attended),
            ]
        case Episode.TherapistAssigned():
            return [FieldChange(f"therapist_ids[{state.therapists + 1}]", None, event.therapist_id)]
        case Episode.GoalAdded():
            return [FieldChange(f"goal_ids[{state.goals + 1}]", None, str(event.goal_id))]
        case Episode.Closed():
            return [
                FieldChange("closed_on", None, event.closed_on.isoformat()),
                FieldChange("close_reason", None, event.reason),
            ]
        case ClientErasure.Recorded():
            return [
                FieldChange("client_id", None, event.client_id),
                FieldChange("key_id", None, str(event.key_id)),
            ]
        case AccessRecord.Recorded():
            # A read changes no client's record: these are the record's own facts.
            return [
                FieldChange("read", None, event.read),
                *_set("client_id", event.client_id),
                *_set("episode_id", event.episode_id),
                *_set("goal_id", event.goal_id),
                FieldChange("asserted_by", None, event.asserted_by),
                *_set("purpose", event.purpose),
            ]
    raise UnhandledEventError(event)
