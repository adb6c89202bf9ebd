"""The FHIR resources of one export: Goal, CarePlan, Observation and Provenance, in a Bundle.

Built from the application's aggregates and events by :class:`BundleExporter`,
which :mod:`goalpath.exports.fhir` drives; ids of observations and
provenances are name-based, so exporting twice gives the same ids. GAS
scales and scores follow the PCO IG (:mod:`goalpath.exports.fhir_gas`).

This module is over 500 lines because it is one class, the exporter, with one
method per resource type that shares its references (client, actors, host id
mapping) and its bundle; splitting the methods apart would pass that state around.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any
from urllib.parse import quote
from uuid import UUID

import attrs

from goalpath.core.application import GoalpathApp
from goalpath.core.changes import FieldChange, effective_on
from goalpath.core.episode import Episode
from goalpath.core.errors import (
    NotFoundError,
)
from goalpath.core.goal import Goal, status_after
from goalpath.core.history import HistoryBuilder
from goalpath.core.measurements import measurement_series
from goalpath.core.values import Actor, Measure, Measurement
from goalpath.exports.fhir_gas import (
    gas_observation_id,
    gas_scaling_extensions,
    gas_score_observation,
)
from goalpath.exports.fhir_vocabulary import (
    ACHIEVEMENT_DISPLAYS,
    ACHIEVEMENT_SYSTEM,
    ACTIVITY_DISPLAYS,
    ACTOR_RESOURCE,
    ACTOR_ROLE_SYSTEM,
    CHANGE_REASON_URL,
    CHANGE_URL,
    CONTROL_CHARACTERS,
    DATA_ABSENT_SYSTEM,
    DATA_OPERATION_SYSTEM,
    EVENT_TYPE_SYSTEM,
    FHIR_VERSION_TAG_SYSTEM,
    GOAL_AREA_DISPLAYS,
    GOAL_AREA_SYSTEM,
    GOAL_CATEGORY_SYSTEM,
    GOAL_VERSION_SYSTEM,
    GOAL_VERSION_URL,
    ID_SYSTEM_PREFIX,
    LIFECYCLE_STATUS_CODES,
    OBSERVATION_CATEGORY_SYSTEM,
    PARTICIPANT_TYPE_SYSTEM,
    PERTAINS_TO_GOAL_URL,
    PRIORITY_DISPLAYS,
    PRIORITY_SYSTEM,
    TARGET_BASELINE_URL,
    BundleType,
    FhirExportError,
    FhirVersion,
    ReferenceFor,
    check_as_of,
    fhir_coding,
    fhir_concept,
    fhir_day,
    fhir_instant,
    fhir_quantity,
    fhir_text,
    fhir_urn,
    fhir_uuid_identifier,
    measure_concept,
    provenance_activity,
)
from goalpath.modalities.instruments import Instrument

__all__ = ["BundleExporter", "observation_id", "provenance_id"]


def _identifier_query(identifier: Mapping[str, str]) -> str:
    """An ``identifier=system|value`` search, each part URL-encoded."""
    return (
        f"identifier={quote(identifier['system'], safe='')}|{quote(identifier['value'], safe='')}"
    )


def observation_id(goal_id: UUID, sequence: int) -> UUID:
    """The Observation id of a goal's measurement number ``sequence`` (stable across exports)."""
    return uuid.uuid5(goal_id, f"measurement/{sequence}")


def provenance_id(goal_id: UUID, version: int) -> UUID:
    """The Provenance id of a goal's event at ``version`` (stable across exports)."""
    return uuid.uuid5(goal_id, f"provenance/{version}")


def _change_extension(change: FieldChange) -> dict[str, Any]:
    """One field an event changed, as ``goal history`` names it: field, before, after (JSON)."""
    parts: list[dict[str, Any]] = [{"url": "field", "valueString": change.field}]
    for name, value in (("before", change.before), ("after", change.after)):
        if value is not None:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
            parts.append({"url": name, "valueString": fhir_text(text)})
    return {"url": CHANGE_URL, "extension": parts}


@attrs.frozen
class _StatusChange:
    on: str | None = None
    reason: str | None = None


def _last_status_change(events: Sequence[Goal.Event], zone: tzinfo) -> _StatusChange:
    """When the goal's status last changed, and why (from the events that changed it).

    An event without an effective date of its own dates the change by the
    day it was recorded, in the clinic's time zone ``zone``.
    """
    change = _StatusChange()
    status: str | None = None
    for domain_event in events:
        after = status_after(domain_event, status)
        if after == status:
            continue
        status = after
        if isinstance(domain_event, Goal.Retired):
            reason = f"{domain_event.reason_code}: {domain_event.reason}"
            if domain_event.replaced_by is not None:
                reason += f" (replaced by Goal {domain_event.replaced_by})"
            change = _StatusChange(domain_event.retired_on.isoformat(), reason)
        elif isinstance(domain_event, Goal.Reviewed):
            reason = domain_event.note or f"review decision: {domain_event.decision}"
            change = _StatusChange(domain_event.reviewed_on.isoformat(), reason)
        else:
            change = _StatusChange(fhir_day(domain_event.timestamp, zone), None)
    return change


@attrs.define
class BundleExporter:
    """Collects the resources of one bundle: add episodes, then take the :meth:`bundle`."""

    version: FhirVersion
    reference_for: ReferenceFor | None
    instruments: Mapping[str, Instrument]
    bundle_type: BundleType = "collection"
    time_zone: tzinfo = UTC
    entries: list[dict[str, Any]] = attrs.field(factory=list)

    # -- bundle -----------------------------------------------------------------

    def bundle(self, generated_at: datetime | None, bundle_id: UUID | None) -> dict[str, Any]:
        """The finished Bundle."""
        check_as_of(generated_at)
        moment = datetime.now(UTC) if generated_at is None else generated_at
        return {
            "resourceType": "Bundle",
            "id": str(bundle_id or uuid.uuid4()),
            "meta": {"tag": [fhir_coding(FHIR_VERSION_TAG_SYSTEM, self.version)]},
            "type": self.bundle_type,
            "timestamp": fhir_instant(moment),
            "entry": self.entries,
        }

    def add(self, resource_id: UUID, resource: dict[str, Any]) -> None:
        """Add a resource with its ``urn:uuid:`` full URL (and, in a transaction, its request).

        In a transaction every resource is created (``POST``); one that has an
        identifier is created only if the server holds none with it
        (``ifNoneExist``), so posting the same export twice creates nothing new.
        """
        entry: dict[str, Any] = {"fullUrl": fhir_urn(resource_id), "resource": resource}
        if self.bundle_type == "transaction":
            request = {"method": "POST", "url": resource["resourceType"]}
            if "identifier" in resource:
                request["ifNoneExist"] = _identifier_query(resource["identifier"][0])
            entry["request"] = request
        self.entries.append(entry)

    def add_episode(self, app: GoalpathApp, episode_id: UUID, as_of: datetime | None) -> None:
        """Add an episode's CarePlan and, per goal, its Goal, Observations and Provenances."""
        check_as_of(as_of)
        events = app.episode_events(episode_id)
        if as_of is not None:
            events = [e for e in events if e.timestamp <= as_of]
            if not events:
                raise NotFoundError(
                    "episode", f"{episode_id} as of {as_of.isoformat()} (not yet opened)"
                )
        episode = app.get_episode(episode_id, version=len(events))
        goals = app.list_goals(episode.id, as_of=as_of)
        self.add(episode.id, self.care_plan(episode, events, goals))
        for goal in goals:
            goal_events = app.goal_events(goal.id)[: goal.version]
            self.add(goal.id, self.goal(goal, goal_events))
            measure = goal.definition.measure
            if measure is not None:
                for measurement in measurement_series(goal_events):
                    self.add(
                        observation_id(goal.id, measurement.sequence),
                        self.observation(goal, measure, measurement),
                    )
            for number, review in enumerate(goal.reviews, start=1):
                if review.attainment is not None:
                    self.add(
                        gas_observation_id(goal.id, number),
                        gas_score_observation(
                            goal.id,
                            number,
                            review,
                            subject=self.client(goal.client_id),
                            performer=(
                                None
                                if review.reviewed_by.role == "system"
                                else self.actor(review.reviewed_by)
                            ),
                        ),
                    )
            status: str | None = None
            history = HistoryBuilder()
            for domain_event in goal_events:
                changes = history.entry_for(domain_event).changes
                self.add(
                    provenance_id(goal.id, domain_event.originator_version),
                    self.provenance(goal, domain_event, status, changes),
                )
                status = status_after(domain_event, status)

    # -- references -------------------------------------------------------------

    def reference(self, kind: str, local_id: str, resource_type: str) -> dict[str, Any]:
        """A Reference to a client or actor, through the host's mapping when one is given.

        Without a mapping, goalpath's id becomes an identifier: a logical
        reference in a collection (nothing to resolve), and in a transaction
        also a conditional reference (``Patient?identifier=…``) that the
        server resolves to its own resource. Neither dangles.
        """
        mapped = None if self.reference_for is None else self.reference_for(kind, local_id)
        if mapped is not None:
            if (
                not isinstance(mapped, str)
                or not mapped.strip()
                or CONTROL_CHARACTERS.search(mapped)
            ):
                raise FhirExportError(
                    f"reference_for({kind!r}, {local_id!r}) returned {mapped!r}; it must return "
                    "a reference such as 'Patient/123' or an absolute URL, or None"
                )
            return {"reference": mapped}
        identifier = {"system": f"{ID_SYSTEM_PREFIX}{kind}-id", "value": fhir_text(local_id)}
        reference: dict[str, Any] = {"type": resource_type, "identifier": identifier}
        if self.bundle_type == "transaction":
            reference["reference"] = f"{resource_type}?{_identifier_query(identifier)}"
        return reference

    def client(self, client_id: str) -> dict[str, Any]:
        """The Reference to the client (a Patient unless the host maps it)."""
        return self.reference("client", client_id, "Patient")

    def actor(self, actor: Actor) -> dict[str, Any]:
        """The Reference to an actor (Patient, Practitioner or Device by role)."""
        return self.reference("actor", actor.id, ACTOR_RESOURCE[actor.role])

    def annotation(self, actor: Actor, when: date, text: str) -> dict[str, Any]:
        """A note by an actor; a system actor is named as text (Annotation cannot cite a Device)."""
        note: dict[str, Any] = {}
        if actor.role == "system":
            note["authorString"] = fhir_text(f"{actor.id} (system)")
        else:
            note["authorReference"] = self.actor(actor)
        note["time"] = when.isoformat()
        note["text"] = fhir_text(text)
        return note

    # -- resources --------------------------------------------------------------

    def care_plan(
        self, episode: Episode, events: Sequence[Episode.Event], goals: Iterable[Goal]
    ) -> dict[str, Any]:
        """The CarePlan of an episode, referencing its goals."""
        plan: dict[str, Any] = {
            "resourceType": "CarePlan",
            "id": str(episode.id),
            "meta": {
                "versionId": str(episode.version),
                "lastUpdated": fhir_instant(events[-1].timestamp),
            },
            "identifier": fhir_uuid_identifier(episode.id),
            "status": "completed" if episode.is_closed else "active",
            "intent": "plan",
            "title": "Therapy goals",
            "subject": self.client(episode.client_id),
        }
        period = {"start": episode.opened_on.isoformat()}
        if episode.closed_on is not None:
            period["end"] = episode.closed_on.isoformat()
        plan["period"] = period
        plan["created"] = episode.opened_on.isoformat()
        plan["contributor"] = [
            self.reference("actor", therapist, "Practitioner")
            for therapist in episode.therapist_ids
        ]
        if episode.concerns:
            if self.version == "R5":
                plan["addresses"] = [{"concept": {"text": fhir_text(c)}} for c in episode.concerns]
            else:
                plan["addresses"] = [{"display": fhir_text(c)} for c in episode.concerns]
        goal_references = [{"reference": fhir_urn(goal.id)} for goal in goals]
        if goal_references:
            plan["goal"] = goal_references
        if episode.close_reason is not None and episode.closed_on is not None:
            plan["note"] = [
                {
                    "time": episode.closed_on.isoformat(),
                    "text": fhir_text(f"Closed: {episode.close_reason}"),
                }
            ]
        return plan

    def goal(self, goal: Goal, events: Sequence[Goal.Event]) -> dict[str, Any]:
        """The Goal resource of a goal as it stands after ``events``."""
        definition = goal.definition
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "id": str(goal.id),
            "meta": {
                "versionId": str(goal.version),
                "lastUpdated": fhir_instant(events[-1].timestamp),
            },
            "identifier": fhir_uuid_identifier(goal.id),
            "lifecycleStatus": LIFECYCLE_STATUS_CODES[goal.status],
        }
        if definition.gas_levels:
            resource["extension"] = gas_scaling_extensions(definition)
        achievement = goal.latest_achievement
        if goal.retirement_reason == "achieved":
            achievement = "achieved"  # retired as achieved, whatever the last review said
        if achievement is not None:
            resource["achievementStatus"] = fhir_concept(
                ACHIEVEMENT_SYSTEM, achievement, ACHIEVEMENT_DISPLAYS[achievement]
            )
        if definition.area is not None:
            category = fhir_concept(
                GOAL_AREA_SYSTEM, definition.area, GOAL_AREA_DISPLAYS[definition.area]
            )
            if definition.area == "behavioural-change":
                category["coding"].append(
                    fhir_coding(GOAL_CATEGORY_SYSTEM, "behavioral", "Behavioral")
                )
            resource["category"] = [category]
        resource["priority"] = fhir_concept(
            PRIORITY_SYSTEM, definition.priority, PRIORITY_DISPLAYS[definition.priority]
        )
        resource["description"] = {"text": fhir_text(definition.statement)}
        resource["subject"] = self.client(goal.client_id)
        resource["startDate"] = definition.start_on.isoformat()
        if definition.measure is not None:
            resource["target"] = [self.target(goal, definition.measure)]
        change = _last_status_change(events, self.time_zone)
        if change.on is not None:
            resource["statusDate"] = change.on
        if change.reason is not None:
            resource["statusReason"] = fhir_text(change.reason)
        resource["source" if self.version == "R5" else "expressedBy"] = self.actor(goal.created_by)
        notes = self.goal_notes(goal)
        if notes:
            resource["note"] = notes
        return resource

    def target(self, goal: Goal, measure: Measure) -> dict[str, Any]:
        """Goal.target: the measure, the target as a Quantity, the due date, the baseline."""
        target: dict[str, Any] = {}
        aim = goal.definition.target
        if aim is not None:
            target["extension"] = [
                {
                    "url": TARGET_BASELINE_URL,
                    "valueQuantity": fhir_quantity(aim.baseline, measure.unit),
                }
            ]
        target["measure"] = measure_concept(measure, self.instruments)
        if aim is not None:
            detail = fhir_quantity(aim.value, measure.unit)
            # The target is a bound: at most the value for a symptom, at least it for a strength.
            detail["comparator"] = "<=" if measure.direction == "decrease" else ">="
            target["detailQuantity"] = detail
            target["dueDate"] = aim.due_on.isoformat()
        return target

    def goal_notes(self, goal: Goal) -> list[dict[str, Any]]:
        """Goal.note: the practices, then each review with its decision, GAS level and note."""
        notes: list[dict[str, Any]] = []
        if goal.definition.practices:
            notes.append({"text": fhir_text("Practices: " + "; ".join(goal.definition.practices))})
        for review in goal.reviews:
            summary = f"Review: {review.achievement}; decision: {review.decision}"
            if review.attainment is not None:
                summary += f"; GAS attainment {review.attainment:+d}"
            if review.note:
                summary += f". {review.note}"
            notes.append(self.annotation(review.reviewed_by, review.reviewed_on, summary))
        return notes

    def observation(self, goal: Goal, measure: Measure, measurement: Measurement) -> dict[str, Any]:
        """The Observation of one measurement against the goal's ``measure``, linked to the goal."""
        resource_id = observation_id(goal.id, measurement.sequence)
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": str(resource_id),
            "extension": [
                {"url": PERTAINS_TO_GOAL_URL, "valueReference": {"reference": fhir_urn(goal.id)}}
            ],
            "identifier": fhir_uuid_identifier(resource_id),
            "status": measurement.status,
        }
        if measure.instrument is not None:
            resource["category"] = [fhir_concept(OBSERVATION_CATEGORY_SYSTEM, "survey", "Survey")]
        resource["code"] = measure_concept(measure, self.instruments)
        resource["subject"] = self.client(goal.client_id)
        resource["effectiveDateTime"] = measurement.observed_on.isoformat()
        if measurement.recorded_by.role != "system":
            resource["performer"] = [self.actor(measurement.recorded_by)]
        if measurement.value is not None:
            resource["valueQuantity"] = fhir_quantity(measurement.value, measure.unit)
        else:
            resource["dataAbsentReason"] = fhir_concept(DATA_ABSENT_SYSTEM, "error", "Error")
        notes = []
        if measurement.note:
            notes.append({"text": fhir_text(measurement.note)})
        if measurement.status == "amended" and measurement.original_value is not None:
            notes.append(
                {
                    "text": fhir_text(
                        f"Corrected from {measurement.original_value:g} to "
                        f"{measurement.value:g}: {measurement.correction_reason}"
                    )
                }
            )
        elif measurement.status == "entered-in-error":
            recorded = measurement.original_value
            was = f" (recorded as {recorded:g} {measure.unit})" if recorded is not None else ""
            notes.append({"text": fhir_text(f"Voided{was}: {measurement.correction_reason}")})
        if notes:
            resource["note"] = notes
        return resource

    def provenance(
        self,
        goal: Goal,
        domain_event: Goal.Event,
        status_before: str | None,
        changes: Sequence[FieldChange] = (),
    ) -> dict[str, Any]:
        """The Provenance of one goal event: which version it made, when, who, why, what.

        ``changes`` (from :mod:`goalpath.core.changes`, as ``goal history``
        names them) become one ``change`` extension each.
        """
        version = domain_event.originator_version
        # The Goal in the bundle is its latest version; which version this event
        # made is said by an extension, so the reference resolves in the bundle.
        targets: list[dict[str, Any]] = [
            {
                "reference": fhir_urn(goal.id),
                "extension": [{"url": GOAL_VERSION_URL, "valuePositiveInt": version}],
            }
        ]
        if isinstance(domain_event, Goal.Measured | Goal.MeasurementCorrected):
            targets.append({"reference": fhir_urn(observation_id(goal.id, domain_event.sequence))})
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": str(provenance_id(goal.id, version)),
            "target": targets,
        }
        effective = effective_on(domain_event)
        if effective is not None:
            resource["occurredDateTime"] = effective.isoformat()
        resource["recorded"] = fhir_instant(domain_event.timestamp)
        extensions: list[dict[str, Any]] = []
        reason = getattr(domain_event, "reason", None)
        if isinstance(reason, str):
            extensions.append({"url": CHANGE_REASON_URL, "valueString": fhir_text(reason)})
        extensions += [_change_extension(change) for change in changes]
        if extensions:
            resource["extension"] = extensions
        if self.version == "R5":
            resource["patient"] = self.client(goal.client_id)
        code = provenance_activity(domain_event, status_before)
        activity = fhir_concept(DATA_OPERATION_SYSTEM, code, ACTIVITY_DISPLAYS[code])
        activity["coding"].append(fhir_coding(EVENT_TYPE_SYSTEM, type(domain_event).__name__))
        resource["activity"] = activity
        actor: Actor = domain_event.actor  # type: ignore[attr-defined]  # every goal event has one
        role_concept = fhir_concept(ACTOR_ROLE_SYSTEM, actor.role)
        role_concept["text"] = actor.role
        resource["agent"] = [
            {
                "type": fhir_concept(PARTICIPANT_TYPE_SYSTEM, "author", "Author"),
                "role": [role_concept],
                "who": self.actor(actor),
            }
        ]
        if version > 1:
            resource["entity"] = [
                {
                    "role": "revision",
                    "what": {
                        "identifier": {
                            "system": GOAL_VERSION_SYSTEM,
                            "value": f"{goal.id}/_history/{version - 1}",
                        },
                        "display": f"Goal {goal.id} version {version - 1}",
                    },
                }
            ]
        return resource
