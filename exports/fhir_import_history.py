"""A goal's history read back from the Provenances goalpath exports, and replayed on a Goal.

goalpath exports one Provenance per goal event (:mod:`goalpath.exports.fhir_resources`):
the version it made (the ``goal-version`` extension of its target), the event
class (the ``goal-event`` coding of its activity), who (agent), when it was
recorded and took effect, the reason (``change-reason``) and each field it
changed (``change``: field, before, after as JSON, the names of ``goal history``).
:func:`read_provenance` reads one back as a :class:`RecordedEvent`;
:func:`replay_goal` runs the goal's command methods with them in version order,
so every rule of the domain is checked again, and gives each event the time it
was first recorded.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Final
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate

from goalpath.core.changes import event_classes_of
from goalpath.core.episode import Episode
from goalpath.core.errors import GoalpathError
from goalpath.core.goal import Goal
from goalpath.core.values import (
    ROLES,
    Actor,
    GoalDefinition,
    Measure,
    Target,
)
from goalpath.exports.fhir_elements import Element, FhirImportError
from goalpath.exports.fhir_vocabulary import (
    ACTOR_ROLE_SYSTEM,
    CHANGE_REASON_URL,
    CHANGE_URL,
    EVENT_TYPE_SYSTEM,
    GOAL_VERSION_URL,
)

__all__ = [
    "RecordedEvent",
    "read_provenance",
    "records_goal_event",
    "replay_goal",
    "stamp_last_event",
]

GOAL_EVENT_NAMES: Final = frozenset(cls.__name__ for cls in event_classes_of(Goal))
_MEASUREMENT_PATH: Final = re.compile(r"measurements\[(\d+)\]\.")

ActorOf = Callable[[Element, str], Actor]
"""Reads a Reference to an actor (``Provenance.agent[0].who``) given the actor's role."""


@attrs.frozen
class RecordedEvent:
    """One goal event as a Provenance states it."""

    provenance: Element
    goal_reference: str
    version: int
    event_type: str
    actor: Actor
    recorded: datetime
    occurred: date | None
    reason: str | None
    changes: dict[str, Any]
    """Each changed field's value after the event (``None`` for one removed)."""

    def after(self, field: str) -> Any:
        """The value of ``field`` after the event, refused when the Provenance does not give it."""
        if field not in self.changes:
            raise self.provenance.fail(
                f"the {self.event_type} event needs the change of {field!r} "
                f"(a change extension with field {field!r}), which this Provenance lacks",
                "required",
            )
        return self.changes[field]

    def refused(self, problem: str) -> FhirImportError:
        """A refusal of this event, naming its Provenance."""
        return self.provenance.fail(
            f"{self.event_type} (Goal version {self.version}): {problem}", "business-rule"
        )


def records_goal_event(provenance: Element) -> bool:
    """Whether a Provenance is one goalpath wrote for a goal event (its ``goal-event`` coding)."""
    activity = provenance.value.get("activity") if isinstance(provenance.value, dict) else None
    codings = activity.get("coding") if isinstance(activity, dict) else None
    return isinstance(codings, list) and any(
        isinstance(coding, dict) and coding.get("system") == EVENT_TYPE_SYSTEM for coding in codings
    )


def read_provenance(provenance: Element, actor_of: ActorOf) -> RecordedEvent:
    """A goalpath Provenance read back as the goal event it records."""
    targets = provenance.items("target")
    if not targets:
        raise FhirImportError(
            provenance.resource, f"{provenance.path}.target", "is required and absent", "required"
        )
    first = targets[0]
    versions = first.extensions(GOAL_VERSION_URL)
    if len(versions) != 1:
        raise first.fail(f"must carry one {GOAL_VERSION_URL} extension", "required")
    version = versions[0].need("valuePositiveInt").integer()
    event_type = _event_type(provenance)
    agents = provenance.items("agent")
    if not agents:
        raise FhirImportError(
            provenance.resource, f"{provenance.path}.agent", "is required and absent", "required"
        )
    role = _actor_role(agents[0])
    changes: dict[str, Any] = {}
    for extension in provenance.extensions(CHANGE_URL):
        parts = {
            url: part
            for part in extension.items("extension")
            if isinstance(part.value, dict) and isinstance(url := part.value.get("url"), str)
        }
        if "field" not in parts:
            raise extension.fail("a change extension needs its 'field' part", "required")
        field = parts["field"].need("valueString").string()
        after = parts.get("after")
        changes[field] = None if after is None else _json(after.need("valueString"))
    reasons = provenance.extensions(CHANGE_REASON_URL)
    occurred = provenance.child("occurredDateTime")
    return RecordedEvent(
        provenance=provenance,
        goal_reference=first.need("reference").string(),
        version=version,
        event_type=event_type,
        actor=actor_of(agents[0].need("who"), role),
        recorded=provenance.need("recorded").instant(),
        occurred=None if occurred is None else occurred.day(),
        reason=reasons[0].need("valueString").string() if reasons else None,
        changes=changes,
    )


def _event_type(provenance: Element) -> str:
    activity = provenance.need("activity")
    for coding in activity.items("coding"):
        if isinstance(coding.value, dict) and coding.value.get("system") == EVENT_TYPE_SYSTEM:
            name = coding.need("code").string()
            if name not in GOAL_EVENT_NAMES:
                raise coding.fail(
                    f"{name!r} is not a goal event; expected one of "
                    f"{', '.join(sorted(GOAL_EVENT_NAMES))}",
                    "value",
                )
            return name
    raise activity.fail(f"needs a coding of {EVENT_TYPE_SYSTEM} naming the goal event", "required")


def _actor_role(agent: Element) -> str:
    for role in agent.items("role"):
        for coding in role.items("coding"):
            if isinstance(coding.value, dict) and coding.value.get("system") == ACTOR_ROLE_SYSTEM:
                code = coding.need("code").string()
                if code not in ROLES:
                    raise coding.fail(
                        f"{code!r} is not an actor role; expected one of {', '.join(ROLES)}",
                        "value",
                    )
                return code
    raise agent.fail(f"needs a role coded in {ACTOR_ROLE_SYSTEM}", "required")


def _json(element: Element) -> Any:
    try:
        return json.loads(element.string())
    except json.JSONDecodeError as error:
        raise element.fail(f"must be JSON text: {error}", "value") from None


# -- definitions from change records ----------------------------------------------------


def _set_path(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for name in path[:-1]:
        inner = data.get(name)
        if not isinstance(inner, dict):
            inner = {}
            data[name] = inner
        data = inner
    data[path[-1]] = value


def definition_fields(record: RecordedEvent, before: dict[str, Any]) -> dict[str, Any]:
    """A definition's JSON fields after the ``definition.…`` changes of ``record``."""
    fields: dict[str, Any] = json.loads(json.dumps(before))
    for field, value in record.changes.items():
        if field.startswith("definition."):
            _set_path(fields, field.split(".")[1:], value)
    return fields


def definition_of(record: RecordedEvent, fields: dict[str, Any]) -> GoalDefinition:
    """A goal definition from its JSON fields (as ``jsonable`` wrote them), or a refusal."""
    try:
        measure = fields.get("measure")
        target = fields.get("target")
        values = {
            **fields,
            "start_on": date.fromisoformat(fields["start_on"]),
            "measure": None if measure is None else Measure(**measure),
            "target": None
            if target is None
            else Target(
                baseline=target["baseline"],
                value=target["value"],
                due_on=date.fromisoformat(target["due_on"]),
            ),
            "practices": tuple(fields.get("practices") or ()),
        }
        return GoalDefinition(**values)
    except (GoalpathError, KeyError, TypeError, ValueError) as error:
        raise record.refused(f"its definition cannot be read back: {error}") from None


# -- replay ------------------------------------------------------------------------------


def stamp_last_event(aggregate: Aggregate, recorded: datetime) -> None:
    """Give the event just triggered on ``aggregate`` the time it was first recorded.

    The command methods check every rule and trigger the event; an import
    keeps the original recording time, so that the history, ``--as-of`` and
    the exported Provenance say when the change was made, not when it was copied.
    """
    pending = aggregate.pending_events
    pending[-1] = dataclasses.replace(pending[-1], timestamp=recorded)  # type: ignore[type-var]
    aggregate.modified_on = recorded
    if aggregate.version == 1:
        aggregate._created_on = recorded  # the library keeps it private


def replay_goal(
    goal_id: UUID,
    records: Sequence[RecordedEvent],
    episode: Episode,
    today: date,
) -> Goal:
    """Run a goal's recorded events through its command methods, in version order.

    A record the domain refuses (a measurement out of range, a review of a
    retired goal) is refused naming its Provenance; nothing is stored.
    """
    goal: Goal | None = None
    definition: dict[str, Any] = {}
    for record in records:
        try:
            if goal is None:
                goal, definition = _created(goal_id, record, episode)
                episode.add_goal(goal.id, record.actor, stated_at=record.recorded)
            else:
                definition = _apply(goal, record, definition, today)
        except FhirImportError:
            raise
        except GoalpathError as error:
            raise record.refused(str(error)) from None
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            # A change record whose value is of the wrong kind (a number where a date belongs).
            raise record.refused(f"its change records cannot be read back: {error!r}") from None
        stamp_last_event(goal, record.recorded)
    if goal is None:
        msg = "replay_goal needs at least one record"
        raise ValueError(msg)
    return goal


def _created(goal_id: UUID, record: RecordedEvent, episode: Episode) -> tuple[Goal, dict[str, Any]]:
    if record.event_type != "Created" or record.version != 1:
        raise record.refused("a goal's first event (version 1) must be its Created event")
    fields = definition_fields(record, {})
    status = record.after("status")
    if status not in ("proposed", "active"):
        raise record.refused(f"a goal is created proposed or active; got {status!r}")
    client = record.changes.get("client_id", episode.client_id)
    if client != episode.client_id:
        raise record.refused(
            f"the goal's client {client!r} is not its episode's client {episode.client_id!r}"
        )
    goal = Goal.state(
        episode_id=episode.id,
        client_id=episode.client_id,
        definition=definition_of(record, fields),
        actor=record.actor,
        concerns=tuple(record.changes.get("concerns") or ()),
        activate=status == "active",
        goal_id=goal_id,
        template_id=record.changes.get("template_id"),
        template_version=record.changes.get("template_version"),
        episode_opened_on=episode.opened_on,
    )
    return goal, fields


def _apply(
    goal: Goal, record: RecordedEvent, definition: dict[str, Any], today: date
) -> dict[str, Any]:
    """Apply one recorded event after the first; return the definition's fields after it."""
    if record.version != goal.version + 1:
        raise record.refused(f"expected Goal version {goal.version + 1} next")
    match record.event_type:
        case "Refined":
            fields = definition_fields(record, definition)
            goal.refine(definition_of(record, fields), _reason(record), record.actor)
            return fields
        case "Activated":
            goal.activate(record.actor)
        case "Measured":
            sequence = _sequence(record)
            path = f"measurements[{sequence}]"
            number = goal.measure(
                record.after(f"{path}.value"),
                observed_on=date.fromisoformat(record.after(f"{path}.observed_on")),
                actor=record.actor,
                today=today,
                note=record.changes.get(f"{path}.note"),
            )
            if number != sequence:
                raise record.refused(f"it is measurement {number} of the goal, not {sequence}")
        case "MeasurementCorrected":
            sequence = _sequence(record)
            goal.correct_measurement(
                sequence,
                reason=_reason(record),
                actor=record.actor,
                value=record.changes.get(f"measurements[{sequence}].value"),
            )
        case "Reviewed":
            path = f"reviews[{len(goal.reviews) + 1}]"
            goal.review(
                reviewed_on=_occurred(record),
                achievement=record.after(f"{path}.achievement"),
                decision=record.after(f"{path}.decision"),
                actor=record.actor,
                today=today,
                attainment=record.changes.get(f"{path}.attainment"),
                note=record.changes.get(f"{path}.note"),
            )
        case "Retired":
            replaced_by = record.changes.get("replaced_by")
            goal.retire(
                reason_code=record.after("retirement_reason"),
                reason=_reason(record),
                actor=record.actor,
                retired_on=_occurred(record),
                today=today,
                replaced_by=None if replaced_by is None else UUID(replaced_by),
            )
        case _:
            raise record.refused("only a goal's first event is a Created event")
    return definition


def _reason(record: RecordedEvent) -> str:
    if record.reason is None:
        raise record.provenance.fail(
            f"the {record.event_type} event needs its reason (a {CHANGE_REASON_URL} extension)",
            "required",
        )
    return record.reason


def _occurred(record: RecordedEvent) -> date:
    if record.occurred is None:
        raise FhirImportError(
            record.provenance.resource,
            f"{record.provenance.path}.occurredDateTime",
            f"the {record.event_type} event needs the date it took effect",
            "required",
        )
    return record.occurred


def _sequence(record: RecordedEvent) -> int:
    for field in record.changes:
        found = _MEASUREMENT_PATH.match(field)
        if found:
            return int(found.group(1))
    raise record.provenance.fail(
        f"the {record.event_type} event needs the change of a measurement "
        "(a change extension with field measurements[N]....)",
        "required",
    )
