"""FHIR's vocabulary as goalpath uses it: code systems, codes, datatype builders, checks.

The code systems, goalpath's codes mapped to FHIR's, and the small datatype
builders and checks the resources are made with.

Part of the FHIR export (:mod:`goalpath.exports.fhir`); its public names are
re-exported there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Final, Literal, cast, get_args
from uuid import UUID

from goalpath.core.errors import (
    GoalpathError,
    InvalidValueError,
    UnhandledEventError,
)
from goalpath.core.goal import Goal
from goalpath.core.values import Measure
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import installed_instruments

__all__ = [
    "ACHIEVEMENT_DISPLAYS",
    "ACHIEVEMENT_SYSTEM",
    "ACTOR_ROLE_SYSTEM",
    "BUNDLE_TYPES",
    "DATA_OPERATION_SYSTEM",
    "FHIR_VERSIONS",
    "GOAL_AREA_SYSTEM",
    "LIFECYCLE_STATUS_CODES",
    "LOINC_DISPLAYS",
    "LOINC_SYSTEM",
    "PERTAINS_TO_GOAL_URL",
    "PRIORITY_DISPLAYS",
    "TARGET_BASELINE_URL",
    "BundleType",
    "FhirExportError",
    "FhirValidationUnavailableError",
    "FhirVersion",
    "ReferenceFor",
    "bundle_version",
    "check_as_of",
    "check_bundle_type",
    "check_fhir_version",
    "measure_concept",
    "provenance_activity",
]

FhirVersion = Literal["R5", "R4B"]
"""The FHIR releases goalpath exports."""

BundleType = Literal["collection", "transaction"]
"""``collection`` for reading and archiving; ``transaction`` for posting to a FHIR server."""

BUNDLE_TYPES: Final[tuple[str, ...]] = get_args(BundleType)
"""The bundle types an export can make (:data:`BundleType`)."""
FHIR_VERSIONS: Final[tuple[str, ...]] = get_args(FhirVersion)
"""The FHIR releases an export can target (:data:`FhirVersion`)."""

ReferenceFor = Callable[[str, str], str | None]
"""A host's id mapping: ``(kind, local_id) -> reference``, kind ``"client"`` or ``"actor"``.

``None`` for an id the host does not map: goalpath then refers to it by identifier.
"""

ACHIEVEMENT_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-achievement"
"""HL7's code system of Goal.achievementStatus (a review's achievement)."""
PRIORITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-priority"
GOAL_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/goal-category"
OBSERVATION_CATEGORY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
DATA_ABSENT_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DATA_OPERATION_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
"""HL7's v3 DataOperation codes: a Provenance's activity (create, update, nullify...)."""
PARTICIPANT_TYPE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
LOINC_SYSTEM: Final = "http://loinc.org"
"""LOINC: the codes of standard instruments' totals (PHQ-9 44261-6, GAD-7 70274-6)."""
GOAL_AREA_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/goal-area"
"""goalpath's code system of goal areas (Goal.category): the four primary areas."""
INSTRUMENT_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/instrument"
"""goalpath's code system of a measure's instrument id, for an instrument without a LOINC code."""
ACTOR_ROLE_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/actor-role"
"""goalpath's code system of actor roles (client, therapist...) on a Provenance agent."""
EVENT_TYPE_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/goal-event"
FHIR_VERSION_TAG_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/fhir-version"
ID_SYSTEM_PREFIX: Final = "https://goalpath.dev/fhir/NamingSystem/"
PERTAINS_TO_GOAL_URL: Final = "http://hl7.org/fhir/StructureDefinition/resource-pertainsToGoal"
"""HL7's extension linking an Observation to the Goal it measures."""
TARGET_BASELINE_URL: Final = "https://goalpath.dev/fhir/StructureDefinition/goal-target-baseline"
"""goalpath's extension on Goal.target: the baseline the target is measured from."""
GOAL_VERSION_URL: Final = "https://goalpath.dev/fhir/StructureDefinition/goal-version"
"""Extension on a Provenance target: the version of the Goal that the event made."""
GOAL_VERSION_SYSTEM: Final = "https://goalpath.dev/fhir/NamingSystem/goal-version"
"""Identifier system of one version of a goal (``<goal id>/_history/<version>``)."""
UUID_IDENTIFIER_SYSTEM: Final = "urn:ietf:rfc:3986"
CHANGE_REASON_URL: Final = "https://goalpath.dev/fhir/StructureDefinition/change-reason"
"""Extension on a Provenance: why the change was made, as the clinician gave it.

Not ``Provenance.reason`` (R4B) or ``authorization`` (R5): those hold the
purpose of use (v3-PurposeOfUse), not the reason for a change.
"""
CHANGE_URL: Final = "https://goalpath.dev/fhir/StructureDefinition/change"
"""Extension on a Provenance: one field the event changed, with sub-extensions ``field``,
``before`` and ``after`` (JSON text), the change records of ``goal history`` and the audit log."""
UCUM_SYSTEM: Final = "http://unitsofmeasure.org"
UCUM_CODES: Final[dict[str, str]] = {
    "per week": "/wk",
    "per day": "/d",
    "days per week": "d/wk",
    "points": "{score}",
    "SUDS points": "{score}",
    "minutes": "min",
    "hours": "h",
    "kg": "kg",
}
"""UCUM codes of the units goalpath's instruments and templates use; other units stay text."""

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

ACTOR_RESOURCE: Final[dict[str, str]] = {
    "client": "Patient",
    "therapist": "Practitioner",
    "supervisor": "Practitioner",
    "system": "Device",
}

FHIR_ID: Final = re.compile(r"[A-Za-z0-9\-.]{1,64}")
FHIR_CODE: Final = re.compile(r"[^\s]+( [^\s]+)*")
# FHIR strings may not hold control characters other than tab, carriage return and newline.
CONTROL_CHARACTERS: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXACT_INTEGER_LIMIT: Final = 2**53


class FhirExportError(InvalidValueError):
    """A FHIR export was asked for with something it cannot use (version, id mapping)."""


class FhirValidationUnavailableError(GoalpathError):
    """Validation needs the optional ``fhir.resources`` package, which is not installed."""

    code: ClassVar[str] = "feature-unavailable"


def check_fhir_version(value: object) -> FhirVersion:
    """``value`` as a FHIR release goalpath exports, or :class:`FhirExportError`."""
    if value not in FHIR_VERSIONS:
        raise FhirExportError(
            f"FHIR version must be one of {', '.join(FHIR_VERSIONS)}; got {value!r}"
        )
    return cast("FhirVersion", value)


def check_bundle_type(value: object) -> BundleType:
    """``value`` as a bundle type goalpath exports, or :class:`FhirExportError`."""
    if value not in BUNDLE_TYPES:
        raise FhirExportError(
            f"bundle type must be one of {', '.join(BUNDLE_TYPES)}; got {value!r}"
        )
    return cast("BundleType", value)


def check_as_of(as_of: object) -> None:
    """Refuse a moment that is not a date and time with a time zone (``None`` passes)."""
    if as_of is not None and (not isinstance(as_of, datetime) or as_of.tzinfo is None):
        raise InvalidValueError(f"the time must be a date and time with a time zone; got {as_of!r}")


def bundle_version(bundle: dict[str, Any]) -> FhirVersion:
    """The FHIR release an exported bundle says it is (its ``meta.tag``)."""
    tags = bundle.get("meta", {}).get("tag", [])
    for tag in tags:
        if tag.get("system") == FHIR_VERSION_TAG_SYSTEM:
            return check_fhir_version(tag.get("code"))
    raise FhirExportError("the bundle does not say its FHIR version (meta.tag); export it again")


def fhir_text(value: str) -> str:
    """A goalpath text as a FHIR string (control characters become U+FFFD)."""
    return CONTROL_CHARACTERS.sub("\ufffd", value)


def fhir_number(value: float) -> int | float:
    """Whole numbers print without a trailing ``.0``; others stay as recorded."""
    if value.is_integer() and abs(value) < EXACT_INTEGER_LIMIT:
        return int(value)
    return value


def fhir_instant(moment: datetime) -> str:
    """A moment as a FHIR instant, in UTC."""
    return moment.astimezone(UTC).isoformat()


def fhir_day(moment: datetime, zone: tzinfo = UTC) -> str:
    """The day of a moment in a time zone (the clinic's; UTC by default), as a FHIR date."""
    return moment.astimezone(zone).date().isoformat()


def fhir_coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A FHIR Coding."""
    coding = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    return coding


def fhir_concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A FHIR CodeableConcept of one coding."""
    return {"coding": [fhir_coding(system, code, display)]}


def fhir_urn(resource_id: UUID) -> str:
    """The ``urn:uuid:`` full URL of a resource."""
    return f"urn:uuid:{resource_id}"


def fhir_uuid_identifier(resource_id: UUID) -> list[dict[str, str]]:
    """A resource's id as a FHIR Identifier list (RFC 3986 URN)."""
    return [{"system": UUID_IDENTIFIER_SYSTEM, "value": fhir_urn(resource_id)}]


def fhir_quantity(value: float, unit: str) -> dict[str, Any]:
    """A FHIR Quantity: the unit as written, and its UCUM code where goalpath knows it."""
    quantity: dict[str, Any] = {"value": fhir_number(value), "unit": fhir_text(unit)}
    code = UCUM_CODES.get(unit)
    if code is not None:
        quantity["system"] = UCUM_SYSTEM
        quantity["code"] = code
    return quantity


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
            concept["coding"] = [fhir_coding(LOINC_SYSTEM, registered.loinc, display)]
        elif FHIR_CODE.fullmatch(instrument):
            concept["coding"] = [fhir_coding(INSTRUMENT_SYSTEM, instrument)]
    concept["text"] = fhir_text(measure.name)
    return concept


ACTIVITY_DISPLAYS: Final[dict[str, str]] = {
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

RETIREMENT_ACTIVITY: Final[dict[str, str]] = {
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
            code = RETIREMENT_ACTIVITY[domain_event.reason_code]
            # Ending a goal that was never agreed is a cancellation, not an abort.
            return "CANCEL" if code == "ABORT" and status_before == "proposed" else code
    raise UnhandledEventError(domain_event)
