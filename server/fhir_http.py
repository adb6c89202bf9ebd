"""FHIR over HTTP: the media type, the FHIR release of a request, and errors as OperationOutcomes.

Every route under ``/fhir`` answers ``application/fhir+json`` with the
``fhirVersion`` MIME parameter FHIR R5 defines (``http.html#version-parameter``):
``5.0`` (R5) unless the request asks for ``4.3`` (R4B), in its ``Accept``
header (``application/fhir+json; fhirVersion=4.3``) or in ``_format``
(``_format=json``, or the whole media type with its parameter). A request
for a release or a format goalpath does not serve is refused with 406.

Every error under ``/fhir`` is a FHIR ``OperationOutcome``, never a problem
document nor a stack trace. :class:`FhirRoute` (each FHIR router's route
class) runs the route, and when it raises, asks the application's own
problem handlers (:mod:`goalpath.server.problems`) for the status and the
headers, so a refusal has the same status and ``WWW-Authenticate``
challenge under ``/fhir`` as elsewhere, and gives the problem's content as
one OperationOutcome issue instead.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Final, Literal

from fastapi import Depends, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from starlette.responses import JSONResponse, Response

from goalpath.core.errors import ERROR_CODES
from goalpath.exports.fhir import FhirVersion
from goalpath.exports.fhir_elements import FhirImportError
from goalpath.exports.fhir_vocabulary import FHIR_VERSION_TAG_SYSTEM, fhir_coding, fhir_instant
from goalpath.server.problems import InvalidRequestError

__all__ = [
    "ERROR_CODE_SYSTEM",
    "FHIR_MEDIA_TYPE",
    "ISSUE_OF_CODE",
    "MIME_VERSIONS",
    "FhirJSONResponse",
    "FhirNotAcceptableError",
    "FhirResourceDocument",
    "FhirRoute",
    "FhirVersionDep",
    "OperationOutcomeDocument",
    "answered_version",
    "fhir_response",
    "operation_outcome",
    "outcome_responses",
    "requested_version",
    "server_bundle",
]

FHIR_MEDIA_TYPE: Final = "application/fhir+json"

MIME_VERSIONS: Final[dict[str, str]] = {"R5": "5.0", "R4B": "4.3"}
"""Each FHIR release served -> its ``fhirVersion`` MIME parameter (major.minor)."""

_RELEASE_OF: Final = {
    **{mime: release for release, mime in MIME_VERSIONS.items()},
    "5.0.0": "R5",
    "4.3.0": "R4B",
}

_JSON_TYPES: Final = frozenset(
    {FHIR_MEDIA_TYPE, "application/json", "application/*", "*/*", "json"}
)
"""Media ranges (and ``_format`` tokens) that a FHIR JSON answer satisfies."""

ERROR_CODE_SYSTEM: Final = "https://goalpath.dev/fhir/CodeSystem/error-code"
"""The code system of goalpath's error codes in an OperationOutcome issue's ``details``."""

ISSUE_OF_CODE: Final[dict[str, str]] = {
    "invalid-value": "value",
    "limit-exceeded": "too-costly",
    "invalid-command": "business-rule",
    "not-smart": "business-rule",
    "not-found": "not-found",
    "duplicate-id": "duplicate",
    "version-conflict": "conflict",
    "not-authorized": "forbidden",
    "not-authenticated": "login",
    "client-erased": "deleted",
    "tampered": "exception",
    "store-unavailable": "transient",
    "outcome-unknown": "transient",
    "projection-unavailable": "transient",
    "plugin-failed": "exception",
    "unhandled-event": "exception",
    "feature-unavailable": "not-supported",
    "invalid-usage": "invalid",
    "aborted": "transient",
    "internal-error": "exception",
    "refused": "processing",
}
"""goalpath's error code -> the FHIR ``issue-type`` of the OperationOutcome issue."""

logger = logging.getLogger("goalpath.server")


class FhirNotAcceptableError(InvalidRequestError):
    """The request asks for a FHIR release or a format that goalpath does not serve (406)."""

    http_status: ClassVar[int] = 406


def _media_ranges(value: str) -> list[tuple[str, dict[str, str]]]:
    """``type/subtype; name=value, ...`` as (lower-case type, parameters) pairs."""
    ranges = []
    for item in value.split(","):
        kind, *parameters = (part.strip() for part in item.split(";"))
        named = {}
        for parameter in parameters:
            name, _equals, given = parameter.partition("=")
            named[name.strip().lower()] = given.strip().strip('"')
        if kind:
            ranges.append((kind.lower(), named))
    return ranges


def _release(ranges: list[tuple[str, dict[str, str]]], given: str, where: str) -> FhirVersion:
    """The release the first acceptable range asks for (R5 when it names none)."""
    for kind, parameters in ranges:
        if kind not in _JSON_TYPES or parameters.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        asked = parameters.get("fhirversion")
        if asked is None:
            return "R5"
        if asked in _RELEASE_OF:
            release: FhirVersion = _RELEASE_OF[asked]  # type: ignore[assignment]
            return release
    raise FhirNotAcceptableError(
        f"{where} asks for {given!r}; goalpath serves {FHIR_MEDIA_TYPE} with fhirVersion "
        + " or ".join(MIME_VERSIONS.values())
        + " (R5 by default, R4B as 4.3)",
        field=where,
        accepted=tuple(f"{FHIR_MEDIA_TYPE}; fhirVersion={v}" for v in MIME_VERSIONS.values()),
    )


def requested_version(request: Request) -> FhirVersion:
    """The FHIR release a request asks for: ``_format`` first, then ``Accept``; R5 by default."""
    chosen = request.query_params.get("_format")
    if chosen is not None:
        # An unencoded "+" in a query string reads as a space: "application/fhir json".
        given = chosen.replace(" json", "+json")
        return _release(_media_ranges(given), chosen, "_format")
    accept = request.headers.get("accept")
    if accept is None or not accept.strip():
        return "R5"
    return _release(_media_ranges(accept), accept, "Accept")


FhirVersionDep = Annotated[FhirVersion, Depends(requested_version)]
"""A route's parameter for the FHIR release to answer in."""


def fhir_response(
    resource: dict[str, Any],
    version: FhirVersion,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A FHIR resource as ``application/fhir+json`` with its release's ``fhirVersion``."""
    return JSONResponse(
        resource,
        status_code=status,
        headers=headers,
        media_type=f"{FHIR_MEDIA_TYPE}; fhirVersion={MIME_VERSIONS[version]}",
    )


def server_bundle(
    kind: str,
    entries: list[dict[str, Any]],
    version: FhirVersion,
    self_url: str,
    *,
    total: int | None = None,
) -> dict[str, Any]:
    """A ``searchset`` or ``history`` Bundle of ``entries``, tagged with its release as exports are.

    ``total`` (default: the number of entries) counts the matches: goalpath
    answers every match in one page.
    """
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"tag": [fhir_coding(FHIR_VERSION_TAG_SYSTEM, version)]},
        "type": kind,
        "timestamp": fhir_instant(datetime.now(UTC)),
        "total": len(entries) if total is None else total,
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def operation_outcome(
    code: str, message: str, *, severity: str = "error", field: str | None = None
) -> dict[str, Any]:
    """An OperationOutcome of one issue: goalpath's error ``code`` and its message.

    The issue's ``code`` is the FHIR issue type (:data:`ISSUE_OF_CODE`);
    ``details`` carries goalpath's own code, which a host branches on, as
    it does on a problem document's ``code``.
    """
    diagnostics = message if field is None else f"{message} (at: {field})"
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": ISSUE_OF_CODE.get(code, "processing"),
                "details": {
                    "coding": [
                        {
                            "system": ERROR_CODE_SYSTEM,
                            "code": code,
                            "display": ERROR_CODES.get(code, code),
                        }
                    ],
                    "text": message,
                },
                "diagnostics": diagnostics,
            }
        ],
    }


class FhirResourceDocument(BaseModel):
    """A FHIR resource (R5 or R4B): its ``resourceType``, ``id`` and the elements of its type."""

    model_config = ConfigDict(extra="allow")

    resourceType: str  # noqa: N815  # FHIR's element name
    id: str | None = None


class OperationOutcomeDocument(BaseModel):
    """A FHIR OperationOutcome: each issue's severity, FHIR issue type, details and diagnostics."""

    model_config = ConfigDict(extra="allow")

    resourceType: Literal["OperationOutcome"]  # noqa: N815  # FHIR's element name
    issue: list[dict[str, Any]]


class FhirJSONResponse(JSONResponse):
    """The FHIR routes' response class (``application/fhir+json``), for the OpenAPI document."""

    media_type = FHIR_MEDIA_TYPE


_DESCRIBED: Final = {
    400: "The request is malformed, or names a search parameter goalpath does not serve.",
    401: "No valid bearer token.",
    403: "The role policy or the token's scopes refuse it.",
    404: "No such resource, version or interaction.",
    406: "A FHIR release or format that goalpath does not serve.",
    409: "A command not allowed now, or another writer.",
    410: "The client's data was erased.",
    422: "A value is refused by goalpath's rules.",
}


def outcome_responses(
    *statuses: int, ok: dict[int, str] | None = None, authenticated: bool = True
) -> dict[int | str, dict[str, Any]]:
    """A FHIR route's OpenAPI ``responses``: FHIR resources, and OperationOutcomes for errors.

    ``ok`` maps a success status to its description; errors are 400, 406
    and 422 always, 401 and 403 when the route needs a token, and ``statuses``.
    """
    errors = {400, 406, 422, *statuses} | ({401, 403} if authenticated else set())
    answers: dict[int | str, dict[str, Any]] = {
        status: {"model": FhirResourceDocument, "description": description}
        for status, description in (ok or {}).items()
    }
    return answers | {
        status: {"model": OperationOutcomeDocument, "description": _DESCRIBED[status]}
        for status in sorted(errors)
    }


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class FhirRoute(APIRoute):
    """A route under ``/fhir`` whose every error is an OperationOutcome, never a stack trace."""

    def get_route_handler(self) -> Handler:
        """The route's handler, its refusals answered as OperationOutcomes."""
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # every failure becomes an outcome
                return await outcome_of(request, error)

        return handle


async def outcome_of(request: Request, error: Exception) -> Response:
    """The OperationOutcome answer to ``error``, with the status the problem handlers give it."""
    handler = _problem_handler(request, error)
    if handler is None:
        logger.exception("unexpected failure serving %s %s", request.method, request.url.path)
        outcome = operation_outcome(
            "internal-error",
            "the server met an unexpected failure; it is logged on the server, and nothing of "
            "this request was written unless its response said so",
            severity="fatal",
        )
        return fhir_response(outcome, answered_version(request), 500)
    problem = await handler(request, error)
    document = json.loads(bytes(problem.body))
    status = getattr(error, "http_status", problem.status_code)
    if isinstance(error, FhirImportError):
        outcome = error.operation_outcome()
    else:
        outcome = operation_outcome(document["code"], document["detail"], field=document["field"])
    headers = {name: value for name, value in problem.headers.items() if name == "www-authenticate"}
    return fhir_response(outcome, answered_version(request), status, headers)


def answered_version(request: Request) -> FhirVersion:
    """The release an error is labelled with: the one the request asks for, else R5."""
    try:
        return requested_version(request)
    except FhirNotAcceptableError:
        return "R5"


def _problem_handler(
    request: Request, error: Exception
) -> Callable[[Request, Exception], Coroutine[Any, Any, Response]] | None:
    """The application's problem handler for ``error``'s class (nearest in its MRO)."""
    handlers = request.app.exception_handlers
    for kind in type(error).__mro__:
        if kind in handlers:
            found: Callable[[Request, Exception], Coroutine[Any, Any, Response]] = handlers[kind]
            return found
    return None
