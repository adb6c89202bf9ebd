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

The search parameters of each route are those :data:`SERVED` lists, said
once: :func:`search_parameters` makes each route's one dependency from them,
so the OpenAPI document declares (and describes) exactly the parameters the
CapabilityStatement does; :func:`~goalpath.server.fhir_criteria.criteria_of`
reads their values from the query, modifiers and repeats included.

``_lastUpdated`` compares with when a resource last changed: a Goal's or a
CarePlan's ``meta.lastUpdated``, a Provenance's ``recorded``, and for an
Observation (which the export gives no ``meta``) the recorded time of the
goal event that last changed it (its measurement, correction, or the review
that scored it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

import attrs
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Match

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import NotFoundError
from goalpath.core.goal import Goal
from goalpath.exports.fhir import export_client, observation_id
from goalpath.exports.fhir_gas import gas_observation_id
from goalpath.server import fhir_observations, fhir_routes
from goalpath.server.auth import Resource
from goalpath.server.fhir_capability import SERVED, SearchParameter, ServedResource
from goalpath.server.fhir_criteria import Criteria, criteria_of
from goalpath.server.fhir_http import (
    FhirJSONResponse,
    FhirRoute,
    answered_version,
    fhir_response,
    operation_outcome,
    outcome_responses,
    server_bundle,
)
from goalpath.server.fhir_routes import FhirRead, FhirReadDep

__all__ = ["FhirSearch", "router", "search_entries", "search_parameters"]

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


@attrs.frozen
class FhirSearch:
    """One search of a resource type: the read it is, and whether it is lenient (``Prefer``)."""

    fhir: FhirRead
    served: ServedResource
    lenient: bool

    def answer(self) -> JSONResponse:
        """The searchset Bundle of the matches, decided and logged as a ``fhir-export`` read.

        Its criteria are checked first (a refused one is a 400 before anything
        is decided); the access record is written once the search has
        answered, so a search allowed but failing (an erased client) writes none.
        """
        fhir, served = self.fhir, self.served
        criteria = criteria_of(served, fhir.request.query_params, lenient=self.lenient)
        client_id = criteria.client_id
        resource: Resource = served.type  # type: ignore[assignment]  # SERVED's types are Resources
        purpose = fhir.purpose or f"FHIR search {served.type}"
        with (
            fhir.caller.acting(resource, "s") as principal,
            fhir.app.reading(principal, "fhir-export", client_id=client_id, purpose=purpose),
        ):
            try:
                bundle = export_client(
                    fhir.app, client_id, fhir_version=fhir.version, plugins=fhir.server.plugins
                )
            except NotFoundError:
                bundle = {"entry": []}  # no episode of care: nothing matches
            entries = search_entries(fhir.app, served, criteria, bundle)
        matches = len(entries)
        if criteria.ignored:
            warning = operation_outcome(
                "invalid-usage",
                "ignored search parameters goalpath does not serve: " + ", ".join(criteria.ignored),
                severity="warning",
            )
            entries.append({"resource": warning, "search": {"mode": "outcome"}})
        url = str(fhir.request.url)
        return fhir_response(
            server_bundle("searchset", entries, fhir.version, url, total=matches), fhir.version
        )


def _query_parameter(parameter: SearchParameter) -> inspect.Parameter:
    """A search parameter as a keyword parameter of a dependency: a query of its name, optional.

    A date is repeatable (a range is two bounds, ``ge`` and ``lt``); the
    others take one value (of comma-separated alternatives).
    """
    kind: Any = list[str] if parameter.type == "date" else str
    query = Query(alias=parameter.name, description=parameter.documentation)
    return inspect.Parameter(
        parameter.name.lstrip("_").replace("-", "_"),
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[kind | None, query],
    )


def search_parameters(served: ServedResource) -> Callable[..., FhirSearch]:
    """The dependency of the search of ``served``: its read, and its search parameters declared.

    Its signature declares each parameter :data:`SERVED` lists for the type,
    then ``Prefer`` (for the OpenAPI document and FastAPI's check of each
    value's form); the values themselves are read from the query by
    :meth:`FhirSearch.answer`.
    """

    def parameters(*, fhir: FhirReadDep, prefer: Prefer = None, **_criteria: object) -> FhirSearch:
        lenient = prefer is not None and "handling=lenient" in prefer.replace(" ", "").lower()
        return FhirSearch(fhir, served, lenient)

    own = inspect.signature(parameters, eval_str=True).parameters
    declared = [_query_parameter(parameter) for parameter in served.search]
    parameters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]  # read by FastAPI
        [own["fhir"], *declared, own["prefer"]], return_annotation=FhirSearch
    )
    return parameters


_SEARCH_RESPONSES: Final = outcome_responses(ok={200: "A searchset Bundle of the matches."})


@router.get(
    "/fhir/Goal",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Goals",
)
def search_goals(
    *, search: Annotated[FhirSearch, Depends(search_parameters(SERVED["Goal"]))]
) -> JSONResponse:
    """A client's Goals, by lifecycle status and when they last changed."""
    return search.answer()


@router.get(
    "/fhir/CarePlan",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of CarePlans",
)
def search_care_plans(
    *, search: Annotated[FhirSearch, Depends(search_parameters(SERVED["CarePlan"]))]
) -> JSONResponse:
    """A client's CarePlans (one per episode of care)."""
    return search.answer()


@router.get(
    "/fhir/Observation",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Observations",
)
def search_observations(
    *, search: Annotated[FhirSearch, Depends(search_parameters(SERVED["Observation"]))]
) -> JSONResponse:
    """A client's measurements and GAS scores, by code and when they last changed."""
    return search.answer()


@router.get(
    "/fhir/Provenance",
    response_model=None,
    responses=_SEARCH_RESPONSES,
    summary="FHIR search of Provenances",
)
def search_provenances(
    *, search: Annotated[FhirSearch, Depends(search_parameters(SERVED["Provenance"]))]
) -> JSONResponse:
    """A client's goal events: who, when, why, and what each changed."""
    return search.answer()


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
