"""FHIR REST: the CapabilityStatement, and Goal ``read``, ``vread`` and ``history``.

Each goalpath version of a goal is a FHIR version: ``meta.versionId`` is
the aggregate's version and ``meta.lastUpdated`` the recorded time of the
event that made it, so ``Goal/{id}/_history`` lists exactly one version per
event, straight from the goal's event stream. Every resource is the one
``goalpath export fhir`` gives (:func:`goalpath.exports.fhir.goal_resource`),
never a second mapping. Reads are decided by the role policy and written to
the access log as the goalpath API's are: ``read`` and ``vread`` as a
``goal`` read, ``history`` as a ``history`` read. What every FHIR read takes
from its request (the tenant's store, the caller, the release asked for, the
purpose) is one dependency, :data:`FhirReadDep`; the searches
(:mod:`goalpath.server.fhir_search`) take it too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any, Final
from uuid import UUID

import attrs
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import NotFoundError
from goalpath.core.goal import Goal
from goalpath.exports.fhir import FhirVersion, goal_resource
from goalpath.exports.fhir_vocabulary import fhir_urn
from goalpath.server.app import CallerDep, GoalpathServer, ServerDep, TenantDep
from goalpath.server.auth import Caller
from goalpath.server.fhir_capability import capability_statement
from goalpath.server.fhir_http import (
    MIME_VERSIONS,
    FhirJSONResponse,
    FhirRoute,
    FhirVersionDep,
    fhir_response,
    outcome_responses,
    server_bundle,
)
from goalpath.server.goal_routes import Purpose

__all__ = ["FhirRead", "FhirReadDep", "fhir_base", "router"]

router = APIRouter(tags=["FHIR"], route_class=FhirRoute, default_response_class=FhirJSONResponse)

VersionId = Annotated[int, Path(ge=1, le=10**9, description="The goal's version (FHIR vid).")]


def fhir_base(request: Request) -> str:
    """The FHIR base URL of this server as the request reached it (``.../fhir``)."""
    return str(request.base_url).rstrip("/") + "/fhir"


@router.get(
    "/fhir/metadata",
    response_model=None,
    responses=outcome_responses(ok={200: "The CapabilityStatement."}, authenticated=False),
    summary="FHIR CapabilityStatement",
    openapi_extra={"security": []},
)
def metadata(*, request: Request, version: FhirVersionDep) -> JSONResponse:
    """What the FHIR REST interface serves: resources, interactions, search parameters, releases.

    It holds no client's data, so it needs no token: a FHIR client reads it first.
    """
    statement = capability_statement(
        version,
        base_url=fhir_base(request),
        software_version=request.app.version,
        day=datetime.now(UTC).date(),
    )
    return fhir_response(statement, version)


@router.get(
    "/fhir/$versions",
    response_model=None,
    responses=outcome_responses(
        ok={200: "The FHIR releases served, and the default."}, authenticated=False
    ),
    summary="FHIR releases served ($versions)",
    openapi_extra={"security": []},
)
def versions(*, version: FhirVersionDep) -> JSONResponse:
    """The ``$versions`` operation: the ``fhirVersion`` values served, and the default."""
    parameters = [{"name": "version", "valueCode": mime} for mime in MIME_VERSIONS.values()]
    parameters.append({"name": "default", "valueCode": MIME_VERSIONS["R5"]})
    return fhir_response({"resourceType": "Parameters", "parameter": parameters}, version)


def _goal_headers(resource: dict[str, Any], base: str) -> dict[str, str]:
    """ETag (the FHIR weak version tag), Last-Modified and Content-Location of one version."""
    meta = resource["meta"]
    updated = datetime.fromisoformat(meta["lastUpdated"])
    return {
        "ETag": f'W/"{meta["versionId"]}"',
        "Last-Modified": format_datetime(updated.astimezone(UTC), usegmt=True),
        "Content-Location": f"{base}/Goal/{resource['id']}/_history/{meta['versionId']}",
    }


@attrs.frozen
class FhirRead:
    """What a FHIR read takes from its request: the store, the caller, the release, the purpose.

    Attributes:
        request: the request (its URL, its query).
        server: the server (its modality plugins, which name a measure's codes).
        app: the caller's tenant's application.
        caller: the verified caller, whose token's scopes narrow the read.
        version: the FHIR release to answer in.
        purpose: why the data is read (``Goalpath-Purpose``), kept in the access log.
    """

    request: Request
    server: GoalpathServer
    app: GoalpathApp
    caller: Caller
    version: FhirVersion
    purpose: str | None

    def resource_of(self, goal: Goal, events: list[Goal.Event]) -> dict[str, Any]:
        """The Goal resource of ``goal`` (one version of it), as ``export fhir`` gives it."""
        return goal_resource(goal, events, fhir_version=self.version, plugins=self.server.plugins)

    def goal_answer(self, goal: Goal) -> JSONResponse:
        """The answer of a read or vread: one version of the Goal, with its version headers."""
        resource = self.resource_of(goal, self.app.goal_events(goal.id))
        headers = _goal_headers(resource, fhir_base(self.request))
        return fhir_response(resource, self.version, headers=headers)


def _fhir_read(  # noqa: PLR0917  # FastAPI passes a dependency's parameters by name
    request: Request,
    server: ServerDep,
    tenant: TenantDep,
    caller: CallerDep,
    version: FhirVersionDep,
    purpose: Purpose = None,
) -> FhirRead:
    return FhirRead(request, server, tenant.app, caller, version, purpose)


FhirReadDep = Annotated[FhirRead, Depends(_fhir_read)]
"""A FHIR read route's parameter for what it takes from its request (:class:`FhirRead`)."""

_READ_RESPONSES: Final = outcome_responses(404, 410, ok={200: "The Goal."})


@router.get(
    "/fhir/Goal/{goal_id}",
    response_model=None,
    responses=_READ_RESPONSES,
    summary="FHIR read of a Goal",
)
def read_goal(*, goal_id: UUID, fhir: FhirReadDep) -> JSONResponse:
    """The Goal as it is now (its latest version)."""
    with fhir.caller.acting("Goal", "r") as principal:
        goal = fhir.app.get_goal(goal_id, principal=principal, purpose=fhir.purpose)
        return fhir.goal_answer(goal)


@router.get(
    "/fhir/Goal/{goal_id}/_history/{version_id}",
    response_model=None,
    responses=_READ_RESPONSES,
    summary="FHIR vread of a Goal version",
)
def vread_goal(*, goal_id: UUID, version_id: VersionId, fhir: FhirReadDep) -> JSONResponse:
    """The Goal as it stood at one version: after the event that made that version."""
    with (
        fhir.caller.acting("Goal", "r") as principal,
        # Decided before anything is looked up, so a caller refused the goal learns
        # nothing of it (not even how many versions it has); logged only if it answers.
        fhir.app.reading(principal, "goal", goal_id=goal_id, purpose=fhir.purpose),
    ):
        if version_id > fhir.app.get_goal(goal_id).version:
            raise NotFoundError("goal version", f"{goal_id}/_history/{version_id}")
        return fhir.goal_answer(fhir.app.get_goal(goal_id, version=version_id))


@router.get(
    "/fhir/Goal/{goal_id}/_history",
    response_model=None,
    responses=outcome_responses(404, 410, ok={200: "A history Bundle, the newest version first."}),
    summary="FHIR history of a Goal",
)
def goal_history(*, goal_id: UUID, fhir: FhirReadDep) -> JSONResponse:
    """Every version of the Goal, one per event of its stream, newest first (a history Bundle)."""
    with fhir.caller.acting("Goal", "r") as principal:
        events = fhir.app.goal_events(goal_id, principal=principal, purpose=fhir.purpose)
        entries = []
        for number in range(len(events), 0, -1):
            resource = fhir.resource_of(fhir.app.get_goal(goal_id, version=number), events)
            entries.append(_history_entry(goal_id, resource))
        bundle = server_bundle("history", entries, fhir.version, str(fhir.request.url))
        return fhir_response(bundle, fhir.version)


def _history_entry(goal_id: UUID, resource: dict[str, Any]) -> dict[str, Any]:
    """One version in a history Bundle: the resource, the interaction that made it, its outcome."""
    number = int(resource["meta"]["versionId"])
    first = number == 1
    return {
        "fullUrl": fhir_urn(goal_id),
        "resource": resource,
        "request": {
            "method": "POST" if first else "PUT",
            "url": "Goal" if first else f"Goal/{goal_id}",
        },
        "response": {
            "status": "201 Created" if first else "200 OK",
            "etag": f'W/"{number}"',
            "lastModified": resource["meta"]["lastUpdated"],
        },
    }
