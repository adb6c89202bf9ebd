"""FHIR REST ``search`` of Goal, CarePlan, Observation and Provenance, as ``searchset`` Bundles.

A search reads one client's record (``patient`` or ``subject``, required):
the resources are those of ``export fhir`` for that client (the same
exporter, :func:`goalpath.exports.fhir.export_client`), filtered by the
parameters :data:`~goalpath.server.fhir_capability.SERVED` lists, and the
read is decided and written to the access log as a ``fhir-export`` of that
client, as the command line's export is.

A parameter that is not listed is refused (400, an OperationOutcome naming
it), because a filter silently dropped would answer more of a client's
record than was asked for; ``Prefer: handling=lenient`` ignores such
parameters instead and says so in an OperationOutcome entry of the Bundle
(``search.mode`` ``outcome``), as FHIR's lenient handling does.

``_lastUpdated`` compares with when a resource last changed: a Goal's or a
CarePlan's ``meta.lastUpdated``, a Provenance's ``recorded``, and for an
Observation (which the export gives no ``meta``) the recorded time of the
goal event that last changed it (its measurement, correction, or the review
that scored it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Match

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import NotFoundError
from goalpath.core.goal import Goal
from goalpath.exports.fhir import export_client, observation_id
from goalpath.exports.fhir_gas import gas_observation_id
from goalpath.server import fhir_observations, fhir_routes
from goalpath.server.app import CallerDep, ServerDep, TenantDep
from goalpath.server.auth import Resource
from goalpath.server.fhir_capability import SERVED, ServedResource
from goalpath.server.fhir_criteria import Criteria, criteria_of
from goalpath.server.fhir_http import (
    FhirJSONResponse,
    FhirRoute,
    FhirVersionDep,
    answered_version,
    fhir_response,
    operation_outcome,
    outcome_responses,
    server_bundle,
)
from goalpath.server.goal_routes import Purpose

__all__ = ["router", "search_entries"]

router = APIRouter(tags=["FHIR"], route_class=FhirRoute, default_response_class=FhirJSONResponse)

Prefer = Annotated[
    str | None,
    Header(description="handling=lenient ignores search parameters goalpath does not serve."),
]


def _changed_at(app: GoalpathApp, goal_ids: Iterable[str]) -> dict[str, datetime]:
    """When each measurement and GAS score Observation of these goals last changed."""
    changed: dict[str, datetime] = {}
    for goal_id in goal_ids:
        reviews = 0
        for domain_event in app.goal_events(UUID(goal_id)):
            if isinstance(domain_event, Goal.Measured | Goal.MeasurementCorrected):
                changed[str(observation_id(UUID(goal_id), domain_event.sequence))] = (
                    domain_event.timestamp
                )
            elif isinstance(domain_event, Goal.Reviewed):
                reviews += 1
                if domain_event.attainment is not None:
                    gas_id = gas_observation_id(UUID(goal_id), reviews)
                    changed[str(gas_id)] = domain_event.timestamp
    return changed


def _last_updated(resource: Mapping[str, Any], changed: Mapping[str, datetime]) -> datetime | None:
    """When a resource last changed (see the module's docstring)."""
    if "meta" in resource and "lastUpdated" in resource["meta"]:
        return datetime.fromisoformat(resource["meta"]["lastUpdated"])
    if resource["resourceType"] == "Provenance":
        return datetime.fromisoformat(resource["recorded"])
    return changed.get(resource["id"])


def search_entries(
    app: GoalpathApp, served: ServedResource, criteria: Criteria, bundle: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """The ``match`` entries of an exported bundle that ``criteria`` select, in export order."""
    resources = [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if entry["resource"]["resourceType"] == served.type
    ]
    changed: dict[str, datetime] = {}
    if criteria.updated and served.type == "Observation":
        goals = (
            e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"
        )
        changed = _changed_at(app, goals)
    return [
        {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource, "search": {"mode": "match"}}
        for resource in resources
        if criteria.selects(resource, _last_updated(resource, changed))
    ]


def _search(  # noqa: PLR0917  # the route's own parameters, passed on
    served: ServedResource,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    prefer: str | None,
    purpose: str | None,
) -> JSONResponse:
    lenient = prefer is not None and "handling=lenient" in prefer.replace(" ", "").lower()
    criteria = criteria_of(served, request.query_params, lenient=lenient)
    resource: Resource = served.type  # type: ignore[assignment]  # SERVED's types are Resources
    with (
        caller.acting(resource, "s") as principal,
        tenant.app.reading(
            principal,
            "fhir-export",
            client_id=criteria.client_id,
            purpose=purpose or f"FHIR search {served.type}",
        ),
    ):
        try:
            bundle = export_client(
                tenant.app, criteria.client_id, fhir_version=version, plugins=server.plugins
            )
        except NotFoundError:
            bundle = {"entry": []}  # no episode of care: nothing matches
        entries = search_entries(tenant.app, served, criteria, bundle)
    matches = len(entries)
    if criteria.ignored:
        warning = operation_outcome(
            "invalid-usage",
            "ignored search parameters goalpath does not serve: " + ", ".join(criteria.ignored),
            severity="warning",
        )
        entries.append({"resource": warning, "search": {"mode": "outcome"}})
    answer = server_bundle("searchset", entries, version, str(request.url), total=matches)
    return fhir_response(answer, version)


_SEARCH_RESPONSES: Final = outcome_responses(ok={200: "A searchset Bundle of the matches."})

PatientQuery = Annotated[
    str | None, Query(description="The client: goalpath's client id or Patient/<client id>.")
]
SubjectQuery = Annotated[str | None, Query(description="The same as patient.")]
UpdatedQuery = Annotated[
    list[str] | None,
    Query(
        alias="_lastUpdated",
        description="When it last changed: eq (default), ge, gt, le or lt, then a date or time.",
    ),
]


@router.get(
    "/fhir/Goal",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Goals",
)
def search_goals(
    *,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    patient: PatientQuery = None,
    subject: SubjectQuery = None,
    lifecycle_status: Annotated[
        str | None,
        Query(alias="lifecycle-status", description="proposed, active, on-hold ... (any of)."),
    ] = None,
    last_updated: UpdatedQuery = None,
    prefer: Prefer = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """A client's Goals, by lifecycle status and when they last changed."""
    del patient, subject, lifecycle_status, last_updated  # read from the query by criteria_of
    return _search(SERVED["Goal"], request, server, tenant, caller, version, prefer, purpose)


@router.get(
    "/fhir/CarePlan",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of CarePlans",
)
def search_care_plans(
    *,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    patient: PatientQuery = None,
    subject: SubjectQuery = None,
    last_updated: UpdatedQuery = None,
    prefer: Prefer = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """A client's CarePlans (one per episode of care)."""
    del patient, subject, last_updated
    return _search(SERVED["CarePlan"], request, server, tenant, caller, version, prefer, purpose)


@router.get(
    "/fhir/Observation",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Observations",
)
def search_observations(
    *,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    patient: PatientQuery = None,
    subject: SubjectQuery = None,
    code: Annotated[
        str | None, Query(description="system|code, code or |code (any of, comma-separated).")
    ] = None,
    last_updated: UpdatedQuery = None,
    prefer: Prefer = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """A client's measurements and GAS scores, by code and when they last changed."""
    del patient, subject, code, last_updated
    return _search(SERVED["Observation"], request, server, tenant, caller, version, prefer, purpose)


@router.get(
    "/fhir/Provenance",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Provenances",
)
def search_provenances(
    *,
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    patient: PatientQuery = None,
    last_updated: UpdatedQuery = None,
    prefer: Prefer = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """A client's goal events: who, when, why, and what each changed."""
    del patient, last_updated
    return _search(SERVED["Provenance"], request, server, tenant, caller, version, prefer, purpose)


@router.api_route(
    "/fhir/{rest:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
def not_served(*, rest: str, request: Request) -> JSONResponse:
    """Anything else under ``/fhir``: an OperationOutcome (404, or 405 for a known path).

    This route is the last FHIR route: the route modules before it hold every served one.
    """
    answered = answered_version(request)
    served_routes = [*fhir_routes.router.routes, *fhir_observations.router.routes, *router.routes]
    known = any(
        isinstance(route, APIRoute)
        and route.endpoint is not not_served
        and route.matches(request.scope)[0] == Match.PARTIAL
        for route in served_routes
    )
    if known:
        message = f"{request.method} is not served on /fhir/{rest}; see /fhir/metadata"
        return fhir_response(operation_outcome("invalid-usage", message), answered, 405)
    message = f"/fhir/{rest} is not served; the CapabilityStatement at /fhir/metadata lists what is"
    return fhir_response(operation_outcome("not-found", message), answered, 404)
