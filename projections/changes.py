"""Field-level changes: what one event changed, before and after.

Used by the audit log read model, and meant for ``goal history`` too: give
:func:`describe_changes` the goal's state before the event (or ``None``
before the first event) and the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from goalpath.core.episode import Episode
from goalpath.core.goal import RETIRED_STATUS, Goal, status_after_review
from goalpath.core.values import GoalDefinition
from goalpath.projections.records import jsonable

__all__ = ["RETIRED_STATUS", "FieldChange", "GoalState", "describe_changes", "diff_definitions"]

"""The status a retirement reason gives a goal (as :class:`~goalpath.core.goal.Goal` does)."""


@attrs.frozen
class FieldChange:
    """One field's value before and after an event (JSON-ready values; ``None`` when unset)."""

    field: str
    before: Any
    after: Any


@attrs.frozen
class GoalState:
    """What :func:`describe_changes` needs to know of a goal before an event."""

    definition: GoalDefinition | None = None
    status: str | None = None
    measurement_values: Mapping[int, float | None] = attrs.field(factory=dict)

    @classmethod
    def from_goal(cls, goal: Goal) -> GoalState:
        """The state of a Goal aggregate."""
        return cls(
            definition=goal.definition,
            status=goal.status,
            measurement_values={m.sequence: m.value for m in goal.measurements},
        )


def _diff_values(name: str, before: Any, after: Any) -> list[FieldChange]:
    if before == after:
        return []
    if type(before) is type(after) and attrs.has(type(before)):
        changes: list[FieldChange] = []
        for field in attrs.fields(type(before)):
            changes += _diff_values(
                f"{name}.{field.name}", getattr(before, field.name), getattr(after, field.name)
            )
        return changes
    return [FieldChange(name, jsonable(before), jsonable(after))]


def diff_definitions(before: GoalDefinition | None, after: GoalDefinition) -> list[FieldChange]:
    """Field-by-field differences between two goal definitions (nested fields dotted)."""
    if before is None:
        return [
            FieldChange(field.name, None, jsonable(getattr(after, field.name)))
            for field in attrs.fields(GoalDefinition)
            if getattr(after, field.name) not in (None, ())
        ]
    changes: list[FieldChange] = []
    for field in attrs.fields(GoalDefinition):
        changes += _diff_values(field.name, getattr(before, field.name), getattr(after, field.name))
    return changes


def _status_change(previous: GoalState | None, after: str) -> list[FieldChange]:
    before = previous.status if previous else None
    return [] if before == after else [FieldChange("status", before, after)]


def describe_changes(previous: GoalState | None, event: object) -> list[FieldChange]:  # noqa: PLR0911  # one return per event type reads best
    """Return the fields ``event`` changed, given the goal's state before it.

    Goal events are diffed against ``previous``; episode events need no
    previous state (pass ``None``).
    """
    definition = previous.definition if previous else None
    if isinstance(event, Goal.Created):
        return [
            FieldChange("status", None, event.status),
            *diff_definitions(None, event.definition),
        ]
    if isinstance(event, Goal.Refined):
        return diff_definitions(definition, event.definition)
    if isinstance(event, Goal.Activated):
        return _status_change(previous, "active")
    if isinstance(event, Goal.Measured):
        return [FieldChange(f"measurement {event.sequence}", None, event.value)]
    if isinstance(event, Goal.MeasurementCorrected):
        before = previous.measurement_values.get(event.sequence) if previous else None
        return [FieldChange(f"measurement {event.sequence}", before, event.value)]
    if isinstance(event, Goal.Reviewed):
        changes = [
            FieldChange("achievement", None, event.achievement),
            FieldChange("decision", None, event.decision),
        ]
        if event.attainment is not None:
            changes.append(FieldChange("attainment", None, event.attainment))
        status = status_after_review(event.decision)
        if status is not None:
            changes += _status_change(previous, status)
        return changes
    if isinstance(event, Goal.Retired):
        changes = [
            *_status_change(previous, RETIRED_STATUS[event.reason_code]),
            FieldChange("retirement_reason", None, event.reason_code),
        ]
        if event.replaced_by is not None:
            changes.append(FieldChange("replaced_by", None, str(event.replaced_by)))
        return changes
    return _describe_episode_event(event)


def _describe_episode_event(event: object) -> list[FieldChange]:
    if isinstance(event, Episode.Opened):
        return [
            FieldChange("client_id", None, event.client_id),
            FieldChange("therapist_ids", None, list(event.therapist_ids)),
            FieldChange("concerns", None, list(event.concerns)),
            FieldChange("opened_on", None, event.opened_on.isoformat()),
        ]
    if isinstance(event, Episode.SessionRecorded):
        return [
            FieldChange(
                f"session {event.number}",
                None,
                {"held_on": event.held_on.isoformat(), "attended": event.attended},
            )
        ]
    if isinstance(event, Episode.TherapistAssigned):
        return [FieldChange("therapist", None, event.therapist_id)]
    if isinstance(event, Episode.GoalAdded):
        return [FieldChange("goal", None, str(event.goal_id))]
    if isinstance(event, Episode.Closed):
        return [FieldChange("closed_on", None, event.closed_on.isoformat())]
    return []
