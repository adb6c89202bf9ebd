"""FHIR REST ``create`` of an Observation: a measurement recorded against the goal it names.

``POST /fhir/Observation`` takes an Observation whose ``focus`` (or
``resource-pertainsToGoal`` extension, as goalpath exports it) names a goal
(``Goal/<id>``, ``urn:uuid:<id>`` or an absolute URL ending ``Goal/<id>``),
with a ``valueQuantity`` in the goal's unit and an ``effectiveDateTime``
(the observation date; today when absent). It runs the application's
normal :meth:`~goalpath.core.application.GoalpathApp.record_measurement`,
so the role policy, the measure's range and the goal's window decide as
they do for ``POST /goals/{id}/measurements``, and answers 201 with the
Observation as ``export fhir`` gives it and its ``Location``. It runs in a
unit of work, so an Observation refused after the command (a ``subject``
that is not the goal's client, another unit) writes nothing. An
``Idempotency-Key`` header is the command's idempotency key
(:mod:`goalpath.server.idempotency_keys`): a retry is answered with the same
Observation and writes nothing.

The Observation is read as the FHIR import reads one
(:class:`~goalpath.exports.fhir_elements.Element`), so an element that
cannot be taken is refused with an OperationOutcome naming it (FHIRPath).
The code of the measurement is the goal's measure, whatever ``code`` the
posted Observation carries.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from goalpath.core.goal import Goal
from goalpath.exports.fhir import PERTAINS_TO_GOAL_URL, observation_resource
from goalpath.exports.fhir_elements import Element, FhirImportError
from goalpath.exports.fhir_import_goals import MEASURED_STATUSES
from goalpath.exports.fhir_vocabulary import ID_SYSTEM_PREFIX, fhir_quantity
from goalpath.server.app import CallerDep, ServerDep, TenantDep
from goalpath.server.fhir_http import (
    FHIR_MEDIA_TYPE,
    FhirJSONResponse,
    FhirRoute,
    FhirVersionDep,
    fhir_response,
    outcome_responses,
)
from goalpath.server.fhir_routes import fhir_base
from goalpath.server.idempotency_keys import IdempotencyKeyDep, keyed

__all__ = ["router"]

router = APIRouter(tags=["FHIR"], route_class=FhirRoute, default_response_class=FhirJSONResponse)

_GOAL_REFERENCE: Final = re.compile(
    r"^(?:urn:uuid:|(?:.*/)?Goal/)([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
_CLIENT_ID_SYSTEM: Final = f"{ID_SYSTEM_PREFIX}client-id"

ObservationBody = Annotated[
    dict[str, Any],
    Body(
        media_type=FHIR_MEDIA_TYPE,
        description="An Observation (R5 or R4B) whose focus names the goal it measures.",
    ),
]


def _goal_named(observation: Element) -> UUID:
    """The goal the Observation is against: its ``focus``, or its pertainsToGoal extension."""
    links = [e.need("valueReference") for e in observation.extensions(PERTAINS_TO_GOAL_URL)]
    links += observation.items("focus")
    found: set[UUID] = set()
    for link in links:
        reference = link.need("reference")
        match = _GOAL_REFERENCE.match(reference.string())
        if match is None:
            raise reference.fail(
                "must name a goal as Goal/<id> or urn:uuid:<id> (the goal's UUID)", "value"
            )
        found.add(UUID(match.group(1)))
    if not found:
        raise FhirImportError(
            "Observation",
            "Observation.focus",
            "must name the goal the measurement is against (Goal/<id>)",
            "required",
        )
    if len(found) > 1:
        raise FhirImportError(
            "Observation", "Observation.focus", "names more than one goal; name one", "value"
        )
    return found.pop()


def _check_subject(observation: Element, goal: Goal) -> None:
    """A ``subject``, when given, must be the goal's client (by identifier or Patient/<id>)."""
    subject = observation.child("subject")
    if subject is None:
        return
    identifier = subject.child("identifier")
    reference = subject.child("reference")
    if identifier is not None:
        named = identifier.need("value")
        system = identifier.child("system")
        if system is not None and system.string() != _CLIENT_ID_SYSTEM:
            raise system.fail(f"must be {_CLIENT_ID_SYSTEM} (goalpath's client ids)", "value")
    elif reference is not None:
        named = reference
    else:
        raise subject.fail("must have a reference or an identifier", "required")
    client = named.string().removeprefix("Patient/")
    if client != goal.client_id:
        raise named.fail(f"names {client!r}; goal {goal.id} is another client's", "business-rule")


def _check_unit(quantity: Element, goal: Goal) -> None:
    """A unit, when given, must be the goal's measure's (as written, or its UCUM code)."""
    measure = goal.definition.measure
    if measure is None:
        return  # the command refuses a goal without a measure, saying so
    expected = fhir_quantity(0.0, measure.unit)
    unit, code = quantity.child("unit"), quantity.child("code")
    if unit is not None and unit.string() == expected["unit"]:
        return
    if code is not None and code.string() == expected.get("code"):
        return
    if unit is None and code is None:
        return
    at_fault = unit if unit is not None else code
    assert at_fault is not None  # noqa: S101  # one of the two is given here
    raise at_fault.fail(f"must be the goal's unit, {measure.unit!r}", "value")


@router.post(
    "/fhir/Observation",
    status_code=201,
    response_model=None,
    responses=outcome_responses(
        404, 409, 410, 422, ok={201: "The Observation recorded, as goalpath exports it."}
    ),
    summary="FHIR create of an Observation (records a measurement)",
)
def create_observation(
    *,
    body: ObservationBody,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """Record a measurement against the goal the Observation's focus names; 201 with Location."""
    observation = Element(body, "Observation", "Observation")
    kind = observation.need("resourceType")
    if kind.string() != "Observation":
        raise kind.fail("must be Observation: only Observations are created here", "invalid")
    goal_id = _goal_named(observation)
    status = observation.need("status")
    if status.string() not in MEASURED_STATUSES:
        raise status.fail(
            f"an Observation {status.string()!r} is not a measurement; expected one of "
            + ", ".join(MEASURED_STATUSES),
            "not-supported",
        )
    quantity = observation.need("valueQuantity")
    value = quantity.need("value").number()
    effective = observation.child("effectiveDateTime")
    observed_on = None if effective is None else effective.day()
    notes = [note.need("text").string() for note in observation.items("note")]
    with caller.acting("Observation", "c") as principal, keyed(idempotency_key) as command:
        with tenant.app.unit_of_work() as work:
            # Checked after the command has decided, inside its unit: a refusal writes
            # nothing, and says nothing about the goal to a caller the policy refuses.
            sequence = work.record_measurement(
                goal_id,
                value,
                actor=principal,
                observed_on=observed_on,
                note="; ".join(notes) or None,
                idempotency_key=idempotency_key,
            )
            recorded = work.get_goal(goal_id)
            _check_subject(observation, recorded)
            _check_unit(quantity, recorded)
        left = command.version_of(goal_id)
        if left is not None:  # a keyed request: the goal as its command left it
            recorded = tenant.app.get_goal(goal_id, version=left)
    # A backdated measurement can fall outside the goal's recent ones: then from its events.
    events = () if recorded.recent_measurement(sequence) else tenant.app.goal_events(goal_id)
    resource = observation_resource(
        recorded, sequence, fhir_version=version, plugins=server.plugins, events=events
    )
    location = f"{fhir_base(request)}/Observation/{resource['id']}"
    return fhir_response(resource, version, 201, {"Location": location})
