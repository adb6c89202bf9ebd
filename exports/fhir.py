"""Export a plan as an HL7 FHIR Bundle (type ``collection``), for FHIR R5 or R4B.

The bundle holds, per episode, a ``CarePlan`` referencing the episode's
goals; per goal, a ``Goal``, an ``Observation`` per measurement and a
``Provenance`` per goal event. Everything is computed from the
application's aggregates and events (never from read-model tables), so
``as_of`` exports the plan exactly as it stood at that time.

The result is plain JSON-ready data (dicts, lists, strings, numbers).
``fhir.resources`` is not needed to export; :func:`validate_bundle` uses it
when it is installed (the ``fhir`` extra).

Ids: goal and episode ids are UUIDs and become the resources' ids, with
``urn:uuid:`` full URLs; observation and provenance ids are name-based
UUIDs derived from the goal id, so that exporting twice gives the same ids.
A host maps goalpath's client and actor ids to its own references with
``reference_for(kind, local_id)`` (kinds ``"client"`` and ``"actor"``).
"""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Final, Literal, cast, get_args
from uuid import UUID

import attrs

from goalpath.core.application import GoalpathApp
from goalpath.core.changes import effective_on
from goalpath.core.episode import Episode
from goalpath.core.errors import (
    GoalpathError,
    InvalidValueError,
    NotFoundError,
    UnhandledEventError,
)
from goalpath.core.goal import Goal, status_after
from goalpath.core.values import Actor, Measure, Measurement
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import Plugins, installed_instruments

__all__ = [
    "ACHIEVEMENT_DISPLAYS",
    "ACHIEVEMENT_SYSTEM",
    "ACTOR_ROLE_SYSTEM",
    "DATA_OPERATION_SYSTEM",
    "FHIR_VERSIONS",
    "GOAL_AREA_SYSTEM",
    "LIFECYCLE_STATUS_CODES",
    "LOINC_DISPLAYS",
    "LOINC_SYSTEM",
    "PERTAINS_TO_GOAL_URL",
    "PRIORITY_DISPLAYS",
    "TARGET_BASELINE_URL",
    "FhirExportError",
    "FhirValidationUnavailableError",
    "FhirVersion",
    "ReferenceFor",
    "client_episode_ids",
    "export_client",
    "export_episode",
    "measure_concept",
    "observation_id",
    "provenance_activity",
    "provenance_id",
    "validate_bundle",
]

FhirVersion = Literal["R5", "R4B"]
"""The FHIR releases goalpath exports."""
FHIR_VERSIONS: Final[tuple[str, ...]] = get_args(FhirVersion)

ReferenceFor = Callable[[str, str], str]
"""A host's id mapping: ``(kind, local_id) -> reference``, kind ``"client"`` or ``"actor"``."""

ACHIEVEMENT_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PRIORITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-priority"
GOAL_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-category"
OBSERVATION_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DATA_OPERATION_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
LOINC_SYSTEM: Final = "http://loinc.org"
GOAL_AREA_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/goal-area"
INSTRUMENT_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/instrument"
ACTOR_ROLE_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/actor-role"
EVENT_TYPE_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/goal-event"
FHIR_VERSION_TAG_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/fhir-version"
ID_SYSTEM_PREFIX: Final = "https://goalpath.dev/fhir/NamingSystem/"
PERTAINS_TO_GOAL_URL: Final = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"
TARGET_BASELINE_URL: Final = "https://goalpath.dev/fhir/StructureDefinition/goal-target-baseline"

LIFECYCLE_STATUS_CODES: Final[dict[str, str]] = {
    "proposed": "proposed",
    "active": "active",
    "on-hold": "on-hold",
    "completed": "completed",
    "cancelled": "cancelled",
    "entered-in-error": "entered-in-error",
}
"""goalpath goal status -> FHIR Goal.lifecycleStatus (goalpath uses FHIR's codes)."""

ACHIEVEMENT_DISPLAYS: Final[dict[str, str]] = {
    "in-progress": "In Progress",
    "improving": "Improving",
    "worsening": "Worsening",
    "no-change": "No Change",
    "achieved": "Achieved",
    "sustaining": "Sustaining",
    "not-achieved": "Not Achieved",
    "no-progress": "No Progress",
    "not-attainable": "Not Attainable",
}
"""goalpath review code -> display of the same code in FHIR's goal-achievement system."""

PRIORITY_DISPLAYS: Final[dict[str, str]] = {
    "high-priority": "High Priority",
    "medium-priority": "Medium Priority",
    "low-priority": "Low Priority",
}
"""goalpath priority -> display of the same code in FHIR's goal-priority system."""

GOAL_AREA_DISPLAYS: Final[dict[str, str]] = {
    "symptom-relief": "Symptom relief and emotional regulation",
    "behavioural-change": "Behavioural change",
    "relationships": "Relationships and social skills",
    "personal-growth": "Personal growth and self-understanding",
}

# LOINC codes come from the instruments of the plugin registry; for the codes below the
# display is LOINC's own name, for any other the instrument's name.
LOINC_DISPLAYS: Final[dict[str, str]] = {
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
}
"""LOINC code -> LOINC's display of it, for the codes of the built-in instruments."""

_ACTOR_RESOURCE: Final[dict[str, str]] = {
    "client": "Patient",
    "therapist": "Practitioner",
    "supervisor": "Practitioner",
    "system": "Device",
}

_FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_FHIR_CODE: Final = re.compile(r"[^\s]+( [^\s]+)*")
# FHIR strings may not hold control characters other than tab, carriage return and newline.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_EXACT_INTEGER_LIMIT: Final = 2**53


class FhirExportError(InvalidValueError):
    """A FHIR export was asked for with something it cannot use (version, id mapping)."""


class FhirValidationUnavailableError(GoalpathError):
    """Validation needs the optional ``fhir.resources`` package, which is not installed."""


def observation_id(goal_id: UUID, sequence: int) -> UUID:
    """The Observation id of a goal's measurement number ``sequence`` (stable across exports)."""
    return uuid.uuid5(goal_id, f"measurement/{sequence}")


def provenance_id(goal_id: UUID, version: int) -> UUID:
    """The Provenance id of a goal's event at ``version`` (stable across exports)."""
    return uuid.uuid5(goal_id, f"provenance/{version}")


def export_episode(
    app: GoalpathApp,
    episode_id: UUID,
    *,
    fhir_version: str = "R5",
    as_of: datetime | None = None,
    reference_for: ReferenceFor | None = None,
    generated_at: datetime | None = None,
    bundle_id: UUID | None = None,
    plugins: Plugins | None = None,
) -> dict[str, Any]:
    """Export one episode's plan as a FHIR Bundle of type ``collection``.

    ``as_of`` (a time with a time zone) exports the plan as it stood then;
    ``reference_for`` maps client and actor ids to the host's references;
    ``generated_at`` and ``bundle_id`` fix the bundle's timestamp and id
    (default: now, and a random UUID); instruments (for LOINC codes) come from
    ``plugins``, by default the installed ones.
    """
    exporter = _Exporter(_check_version(fhir_version), reference_for, _instruments_of(plugins))
    exporter.add_episode(app, episode_id, as_of)
    return exporter.bundle(generated_at, bundle_id)


def export_client(
    app: GoalpathApp,
    client_id: str,
    *,
    fhir_version: str = "R5",
    as_of: datetime | None = None,
    reference_for: ReferenceFor | None = None,
    generated_at: datetime | None = None,
    bundle_id: UUID | None = None,
    plugins: Plugins | None = None,
) -> dict[str, Any]:
    """Export every episode of a client (opened by ``as_of``, when given) as one FHIR Bundle.

    The arguments are those of :func:`export_episode`.
    """
    version = _check_version(fhir_version)
    episode_ids = client_episode_ids(app, client_id, as_of=as_of)
    if not episode_ids:
        when = f" as of {as_of.isoformat()}" if as_of is not None else ""
        raise NotFoundError("client", f"{client_id}{when} (no episode of care is recorded)")
    exporter = _Exporter(version, reference_for, _instruments_of(plugins))
    for episode_id in episode_ids:
        exporter.add_episode(app, episode_id, as_of)
    return exporter.bundle(generated_at, bundle_id)


def _instruments_of(plugins: Plugins | None) -> Mapping[str, Instrument]:
    if plugins is None:
        return installed_instruments()
    return {instrument.id: instrument for instrument in plugins.instruments()}


def client_episode_ids(
    app: GoalpathApp, client_id: str, *, as_of: datetime | None = None
) -> list[UUID]:
    """Return the ids of a client's episodes, in the order they were opened.

    This scans every stored event for ``Episode.Opened``: linear in the size
    of the store, acceptable until a client index exists.
    """
    _check_as_of(as_of)
    found: list[UUID] = []
    for _position, domain_event in app.iter_events():
        if not isinstance(domain_event, Episode.Opened) or domain_event.client_id != client_id:
            continue
        if as_of is not None and domain_event.timestamp > as_of:
            continue
        found.append(domain_event.originator_id)
    return found


def validate_bundle(bundle: dict[str, Any]) -> None:
    """Validate every resource of an exported bundle with ``fhir.resources``.

    The FHIR release is read from the bundle's ``meta.tag``. Raises
    :class:`FhirExportError` naming the first invalid resource, or
    :class:`FhirValidationUnavailableError` when ``fhir.resources`` is not
    installed.
    """
    version = _bundle_version(bundle)
    module = "fhir.resources" if version == "R5" else "fhir.resources.R4B"
    try:
        # Imported here: fhir.resources is an optional extra, not needed to export.
        get_fhir_model_class = importlib.import_module(module).get_fhir_model_class
    except ImportError as error:
        raise FhirValidationUnavailableError(
            "validating FHIR needs the fhir.resources package: "
            'pip install "goalpath[fhir]" (or "fhir.resources>=8")'
        ) from error
    # Resources first, so that an error names the resource rather than the whole bundle.
    resources = [*(entry["resource"] for entry in bundle.get("entry", [])), bundle]
    for resource in resources:
        kind = resource.get("resourceType", "?")
        try:
            get_fhir_model_class(kind).model_validate(resource)
        except ValueError as error:
            raise FhirExportError(
                f"{kind}/{resource.get('id', '?')} is not valid FHIR {version}: {error}"
            ) from error


# -- internals ------------------------------------------------------------------


def _check_version(value: object) -> FhirVersion:
    if value not in FHIR_VERSIONS:
        raise FhirExportError(
            f"FHIR version must be one of {', '.join(FHIR_VERSIONS)}; got {value!r}"
        )
    return cast("FhirVersion", value)


def _check_as_of(as_of: object) -> None:
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise InvalidValueError(f"the time must be a date and time with a time zone; got {as_of!r}")


def _bundle_version(bundle: dict[str, Any]) -> FhirVersion:
    tags = bundle.get("meta", {}).get("tag", [])
    for tag in tags:
        if tag.get("system") == FHIR_VERSION_TAG_SYSTEM:
            return _check_version(tag.get("code"))
    raise FhirExportError("the bundle does not say its FHIR version (meta.tag); export it again")


def _text(value: str) -> str:
    """A goalpath text as a FHIR string (control characters become U+FFFD)."""
    return _CONTROL.sub("\ufffd", value)


def _number(value: float) -> int | float:
    """Whole numbers print without a trailing ``.0``; others stay as recorded."""
    if value.is_integer() and abs(value) < _EXACT_INTEGER_LIMIT:
        return int(value)
    return value


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [_coding(system, code, display)]}


def _urn(resource_id: UUID) -> str:
    return f"urn:uuid:{resource_id}"


def _uuid_identifier(resource_id: UUID) -> list[dict[str, str]]:
    return [{"system": "urn:ietf:rfc:3986", "value": _urn(resource_id)}]


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": _text(unit)}


def measure_concept(
    measure: Measure, instruments: Mapping[str, Instrument] | None = None
) -> dict[str, Any]:
    """The CodeableConcept of a measure: LOINC where the instrument has a code, else text.

    ``instruments`` (by id) defaults to those of the installed plugins.
    """
    concept: dict[str, Any] = {}
    instrument = measure.instrument
    if instrument is not None:
        table = installed_instruments() if instruments is None else instruments
        registered = table.get(instrument.strip().lower())
        if registered is not None and registered.loinc:
            display = LOINC_DISPLAYS.get(registered.loinc, registered.name)
            concept["coding"] = [_coding(LOINC_SYSTEM, registered.loinc, display)]
        elif _FHIR_CODE.fullmatch(instrument):
            concept["coding"] = [_coding(INSTRUMENT_SYSTEM, instrument)]
    concept["text"] = _text(measure.name)
    return concept


@attrs.frozen
class _StatusChange:
    on: str | None = None
    reason: str | None = None


_ACTIVITY_DISPLAYS: Final[dict[str, str]] = {
    "CREATE": "create",
    "UPDATE": "revise",
    "APPEND": "append",
    "ACTIVATE": "activate",
    "SUSPEND": "suspend",
    "RESUME": "resume",
    "COMPLETE": "complete",
    "ABORT": "abort",
    "CANCEL": "cancel",
    "OBSOLETE": "obsolete",
    "NULLIFY": "nullify",
}

_RETIREMENT_ACTIVITY: Final[dict[str, str]] = {
    "achieved": "COMPLETE",
    "replaced": "OBSOLETE",
    "entered-in-error": "NULLIFY",
    "no-longer-relevant": "ABORT",
    "client-discharged": "ABORT",
}


def provenance_activity(domain_event: object, status_before: str | None) -> str:  # noqa: PLR0911
    """The v3-DataOperation code that says what a goal event did (every goal event class).

    Refuses any other event with :class:`~goalpath.core.errors.UnhandledEventError`.
    """
    match domain_event:
        case Goal.Created():
            return "CREATE"
        case Goal.Refined():
            return "UPDATE"
        case Goal.Activated():
            return "ACTIVATE"
        case Goal.Measured():
            return "APPEND"
        case Goal.MeasurementCorrected():
            return "NULLIFY" if domain_event.value is None else "UPDATE"
        case Goal.Reviewed():
            return {"pause": "SUSPEND", "resume": "RESUME"}.get(domain_event.decision, "APPEND")
        case Goal.Retired():
            code = _RETIREMENT_ACTIVITY[domain_event.reason_code]
            # Ending a goal that was never agreed is a cancellation, not an abort.
            return "CANCEL" if code == "ABORT" and status_before == "proposed" else code
    raise UnhandledEventError(domain_event)


def _last_status_change(events: Sequence[Goal.Event]) -> _StatusChange:
    """When the goal's status last changed, and why (from the events that changed it)."""
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
            change = _StatusChange(_day(domain_event.timestamp), None)
    return change


@attrs.define
class _Exporter:
    """Collects the resources of one bundle."""

    version: FhirVersion
    reference_for: ReferenceFor | None
    instruments: Mapping[str, Instrument]
    entries: list[dict[str, Any]] = attrs.field(factory=list)

    # -- bundle -----------------------------------------------------------------

    def bundle(self, generated_at: datetime | None, bundle_id: UUID | None) -> dict[str, Any]:
        """The finished Bundle."""
        _check_as_of(generated_at)
        moment = datetime.now(UTC) if generated_at is None else generated_at
        return {
            "resourceType": "Bundle",
            "id": str(bundle_id or uuid.uuid4()),
            "meta": {"tag": [_coding(FHIR_VERSION_TAG_SYSTEM, self.version)]},
            "type": "collection",
            "timestamp": _instant(moment),
            "entry": self.entries,
        }

    def add(self, resource_id: UUID, resource: dict[str, Any]) -> None:
        """Add a resource with its ``urn:uuid:`` full URL."""
        self.entries.append({"fullUrl": _urn(resource_id), "resource": resource})

    def add_episode(self, app: GoalpathApp, episode_id: UUID, as_of: datetime | None) -> None:
        """Add an episode's CarePlan and, per goal, its Goal, Observations and Provenances."""
        _check_as_of(as_of)
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
                for measurement in goal.measurements:
                    self.add(
                        observation_id(goal.id, measurement.sequence),
                        self.observation(goal, measure, measurement),
                    )
            status: str | None = None
            for domain_event in goal_events:
                self.add(
                    provenance_id(goal.id, domain_event.originator_version),
                    self.provenance(goal, domain_event, status),
                )
                status = status_after(domain_event, status)

    # -- references -------------------------------------------------------------

    def reference(self, kind: str, local_id: str, resource_type: str) -> dict[str, Any]:
        """A Reference to a client or actor, through the host's mapping when one is given."""
        if self.reference_for is not None:
            mapped = self.reference_for(kind, local_id)
            if not isinstance(mapped, str) or not mapped.strip() or _CONTROL.search(mapped):
                raise FhirExportError(
                    f"reference_for({kind!r}, {local_id!r}) returned {mapped!r}; it must return "
                    "a reference such as 'Patient/123' or an absolute URL"
                )
            return {"reference": mapped}
        if _FHIR_ID.fullmatch(local_id):
            return {"reference": f"{resource_type}/{local_id}"}
        # Not a valid FHIR id: refer by identifier, which any text may be.
        return {
            "type": resource_type,
            "identifier": {"system": f"{ID_SYSTEM_PREFIX}{kind}-id", "value": _text(local_id)},
        }

    def client(self, client_id: str) -> dict[str, Any]:
        """The Reference to the client (a Patient unless the host maps it)."""
        return self.reference("client", client_id, "Patient")

    def actor(self, actor: Actor) -> dict[str, Any]:
        """The Reference to an actor (Patient, Practitioner or Device by role)."""
        return self.reference("actor", actor.id, _ACTOR_RESOURCE[actor.role])

    def annotation(self, actor: Actor, when: date, text: str) -> dict[str, Any]:
        """A note by an actor; a system actor is named as text (Annotation cannot cite a Device)."""
        note: dict[str, Any] = {}
        if actor.role == "system":
            note["authorString"] = _text(f"{actor.id} (system)")
        else:
            note["authorReference"] = self.actor(actor)
        note["time"] = when.isoformat()
        note["text"] = _text(text)
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
                "lastUpdated": _instant(events[-1].timestamp),
            },
            "identifier": _uuid_identifier(episode.id),
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
                plan["addresses"] = [{"concept": {"text": _text(c)}} for c in episode.concerns]
            else:
                plan["addresses"] = [{"display": _text(c)} for c in episode.concerns]
        goal_references = [{"reference": _urn(goal.id)} for goal in goals]
        if goal_references:
            plan["goal"] = goal_references
        if episode.close_reason is not None and episode.closed_on is not None:
            plan["note"] = [
                {
                    "time": episode.closed_on.isoformat(),
                    "text": _text(f"Closed: {episode.close_reason}"),
                }
            ]
        return plan

    def goal(self, goal: Goal, events: Sequence[Goal.Event]) -> dict[str, Any]:
        """The Goal resource of a goal as it stands after ``events``."""
        definition = goal.definition
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "id": str(goal.id),
            "meta": {"versionId": str(goal.version), "lastUpdated": _instant(events[-1].timestamp)},
            "identifier": _uuid_identifier(goal.id),
            "lifecycleStatus": LIFECYCLE_STATUS_CODES[goal.status],
        }
        achievement = goal.latest_achievement
        if achievement is not None:
            resource["achievementStatus"] = _concept(
                ACHIEVEMENT_SYSTEM, achievement, ACHIEVEMENT_DISPLAYS[achievement]
            )
        if definition.area is not None:
            category = _concept(
                GOAL_AREA_SYSTEM, definition.area, GOAL_AREA_DISPLAYS[definition.area]
            )
            if definition.area == "behavioural-change":
                category["coding"].append(_coding(GOAL_CATEGORY_SYSTEM, "behavioral", "Behavioral"))
            resource["category"] = [category]
        resource["priority"] = _concept(
            PRIORITY_SYSTEM, definition.priority, PRIORITY_DISPLAYS[definition.priority]
        )
        resource["description"] = {"text": _text(definition.statement)}
        resource["subject"] = self.client(goal.client_id)
        resource["startDate"] = definition.start_on.isoformat()
        if definition.measure is not None:
            resource["target"] = [self.target(goal, definition.measure)]
        change = _last_status_change(events)
        if change.on is not None:
            resource["statusDate"] = change.on
        if change.reason is not None:
            resource["statusReason"] = _text(change.reason)
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
                {"url": TARGET_BASELINE_URL, "valueQuantity": _quantity(aim.baseline, measure.unit)}
            ]
        target["measure"] = measure_concept(measure, self.instruments)
        if aim is not None:
            detail = _quantity(aim.value, measure.unit)
            # The target is a bound: at most the value for a symptom, at least it for a strength.
            detail["comparator"] = "<=" if measure.direction == "decrease" else ">="
            target["detailQuantity"] = detail
            target["dueDate"] = aim.due_on.isoformat()
        return target

    def goal_notes(self, goal: Goal) -> list[dict[str, Any]]:
        """Goal.note: the practices, then each review with its decision, GAS level and note."""
        notes: list[dict[str, Any]] = []
        if goal.definition.practices:
            notes.append({"text": _text("Practices: " + "; ".join(goal.definition.practices))})
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
                {"url": PERTAINS_TO_GOAL_URL, "valueReference": {"reference": _urn(goal.id)}}
            ],
            "identifier": _uuid_identifier(resource_id),
            "status": measurement.status,
        }
        if measure.instrument is not None:
            resource["category"] = [_concept(OBSERVATION_CATEGORY_SYSTEM, "survey", "Survey")]
        resource["code"] = measure_concept(measure, self.instruments)
        resource["subject"] = self.client(goal.client_id)
        resource["effectiveDateTime"] = measurement.observed_on.isoformat()
        if measurement.recorded_by.role != "system":
            resource["performer"] = [self.actor(measurement.recorded_by)]
        if measurement.value is not None:
            resource["valueQuantity"] = _quantity(measurement.value, measure.unit)
        else:
            resource["dataAbsentReason"] = _concept(DATA_ABSENT_SYSTEM, "error", "Error")
        notes = []
        if measurement.note:
            notes.append({"text": _text(measurement.note)})
        if measurement.status == "amended" and measurement.original_value is not None:
            notes.append(
                {
                    "text": _text(
                        f"Corrected from {measurement.original_value:g} to "
                        f"{measurement.value:g}: {measurement.correction_reason}"
                    )
                }
            )
        elif measurement.status == "entered-in-error":
            recorded = measurement.original_value
            was = f" (recorded as {recorded:g} {measure.unit})" if recorded is not None else ""
            notes.append({"text": _text(f"Voided{was}: {measurement.correction_reason}")})
        if notes:
            resource["note"] = notes
        return resource

    def provenance(
        self, goal: Goal, domain_event: Goal.Event, status_before: str | None
    ) -> dict[str, Any]:
        """The Provenance of one goal event: which version it made, when, who, why, what."""
        version = domain_event.originator_version
        targets: list[dict[str, Any]] = [{"reference": f"Goal/{goal.id}/_history/{version}"}]
        if isinstance(domain_event, Goal.Measured | Goal.MeasurementCorrected):
            targets.append({"reference": _urn(observation_id(goal.id, domain_event.sequence))})
        resource: dict[str, Any] = {
            "resourceType": "Provenance",
            "id": str(provenance_id(goal.id, version)),
            "target": targets,
        }
        effective = effective_on(domain_event)
        if effective is not None:
            resource["occurredDateTime"] = effective.isoformat()
        resource["recorded"] = _instant(domain_event.timestamp)
        reason = getattr(domain_event, "reason", None)
        if isinstance(reason, str):
            if self.version == "R5":
                # R5 renamed R4B's Provenance.reason to authorization (a CodeableReference).
                resource["authorization"] = [{"concept": {"text": _text(reason)}}]
            else:
                resource["reason"] = [{"text": _text(reason)}]
        if self.version == "R5":
            resource["patient"] = self.client(goal.client_id)
        code = provenance_activity(domain_event, status_before)
        activity = _concept(DATA_OPERATION_SYSTEM, code, _ACTIVITY_DISPLAYS[code])
        activity["coding"].append(_coding(EVENT_TYPE_SYSTEM, type(domain_event).__name__))
        resource["activity"] = activity
        actor: Actor = domain_event.actor  # type: ignore[attr-defined]  # every goal event has one
        role_concept = _concept(ACTOR_ROLE_SYSTEM, actor.role)
        role_concept["text"] = actor.role
        resource["agent"] = [
            {
                "type": _concept(PARTICIPANT_TYPE_SYSTEM, "author", "Author"),
                "role": [role_concept],
                "who": self.actor(actor),
            }
        ]
        if version > 1:
            resource["entity"] = [
                {
                    "role": "revision",
                    "what": {"reference": f"Goal/{goal.id}/_history/{version - 1}"},
                }
            ]
        return resource
