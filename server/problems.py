"""Every error the server gives is an RFC 9457 problem document, and no stack trace escapes.

A problem document (``application/problem+json``) carries the standard
members (``type``, ``title``, ``status``, ``detail``, ``instance``) and
goalpath's own, the same as :func:`goalpath.exports.documents.error_document`:
``code`` (stable, :data:`goalpath.core.errors.ERROR_CODES`), ``field``,
``accepted`` and ``error_type``. A host branches on ``code``.

Three layers make sure nothing else reaches a caller: handlers for
goalpath's errors and for malformed requests, and :class:`ProblemMiddleware`,
which turns any other exception into a bare 500 problem (``internal-error``)
after logging it on the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, ClassVar, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from goalpath.core.errors import ERROR_CODES, GoalpathError
from goalpath.exports.documents import error_document, refusal_document
from goalpath.server.auth import InsufficientScopeError, NotAuthenticatedError

__all__ = [
    "INSECURE_DEV_HEADER",
    "PROBLEM_MEDIA_TYPE",
    "STATUS_OF_CODE",
    "InsecureDevMiddleware",
    "InvalidRequestError",
    "ProblemMiddleware",
    "install_problem_handlers",
    "problem_document",
    "problem_response",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"

INSECURE_DEV_HEADER: Final = "Goalpath-Insecure-Dev"
"""The header every response of a server started with ``--insecure-dev`` carries."""

STATUS_OF_CODE: Final[dict[str, int]] = {
    "invalid-value": 422,
    "limit-exceeded": 422,
    "invalid-command": 409,
    "not-smart": 422,
    "not-found": 404,
    "duplicate-id": 409,
    "idempotency-key-reused": 422,
    "version-conflict": 409,
    "not-authorized": 403,
    "not-authenticated": 401,
    "client-erased": 410,
    "tampered": 500,
    "store-unavailable": 503,
    "outcome-unknown": 503,
    "projection-unavailable": 503,
    "plugin-failed": 500,
    "unhandled-event": 500,
    "feature-unavailable": 501,
    "invalid-usage": 400,
    "aborted": 503,
    "internal-error": 500,
    "refused": 400,
}
"""The HTTP status of each error code (412 replaces 409 for a conflict given ``If-Match``)."""

PROBLEM_TYPE_BASE: Final = "urn:goalpath:problem:"
"""A problem's ``type`` is this followed by its code: ``urn:goalpath:problem:not-found``."""

logger = logging.getLogger("goalpath.server")


class InvalidRequestError(GoalpathError):
    """A request goalpath cannot take as given: a malformed header, parameters that clash (400)."""

    code: ClassVar[str] = "invalid-usage"


def problem_document(
    error: dict[str, Any], status: int, instance: str | None = None
) -> dict[str, Any]:
    """A problem document from an error document's ``error`` member and an HTTP status."""
    code = error["code"]
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": ERROR_CODES[code],
        "status": status,
        "detail": error["message"],
        "instance": instance,
        "code": code,
        "field": error["field"],
        "accepted": error["accepted"],
        "error_type": error["type"],
    }


def problem_response(
    error: dict[str, Any],
    status: int,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The problem document as an ``application/problem+json`` response."""
    return JSONResponse(
        problem_document(error, status, instance),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _challenge(error: GoalpathError) -> dict[str, str] | None:
    if isinstance(error, NotAuthenticatedError):
        detail = str(error).replace('"', "'")
        return {
            "WWW-Authenticate": f'Bearer realm="goalpath", error="invalid_token", '
            f'error_description="{detail}"'
        }
    if isinstance(error, InsufficientScopeError):
        return {
            "WWW-Authenticate": f'Bearer realm="goalpath", error="insufficient_scope", '
            f'scope="{error.needed}"'
        }
    return None


def goalpath_error_response(request: Request, error: GoalpathError) -> JSONResponse:
    """The response to a refusal: its status by code, 412 for a conflict with ``If-Match``."""
    status = STATUS_OF_CODE.get(error.code, 400)
    if error.code == "version-conflict" and request.headers.get("if-match"):
        status = 412
    return problem_response(
        error_document(error)["error"], status, request.url.path, _challenge(error)
    )


def _validation_response(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = list(error.errors())
    first: dict[str, Any] = problems[0] if problems else {}
    location = ".".join(str(part) for part in first.get("loc", ()))
    context = first.get("ctx") or {}
    expected = context.get("expected")
    message = "; ".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
        for problem in problems[:5]
    )
    document = refusal_document(
        "RequestValidationError",
        "invalid-usage",
        f"the request is malformed: {message}",
        field=location or None,
        accepted=str(expected) if expected is not None else None,
    )
    return problem_response(document["error"], 400, request.url.path)


def _http_response(request: Request, error: HTTPException) -> JSONResponse:
    code = {401: "not-authenticated", 403: "not-authorized", 404: "not-found"}.get(
        error.status_code, "invalid-usage"
    )
    if error.status_code >= 500:
        code = "internal-error"
    message = {
        404: f"no route {request.url.path}; the routes are listed at /openapi.json",
        405: f"{request.method} is not allowed on {request.url.path}",
    }.get(error.status_code, str(error.detail))
    document = refusal_document("HTTPException", code, message)
    return problem_response(document["error"], error.status_code, request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every refusal and every malformed request a problem document."""

    async def on_goalpath_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, GoalpathError)  # noqa: S101  # registered for this class
        return goalpath_error_response(request, error)

    async def on_validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)  # noqa: S101
        return _validation_response(request, error)

    async def on_http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)  # noqa: S101
        return _http_response(request, error)

    app.add_exception_handler(GoalpathError, on_goalpath_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(HTTPException, on_http_error)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


_INTERNAL: Final = refusal_document(
    "InternalError",
    "internal-error",
    "the server met an unexpected failure; it is logged on the server, and nothing of this "
    "request was written unless its response said so",
)["error"]


class ProblemMiddleware:
    """The catch-all: any exception that escapes a route becomes a bare 500 problem.

    The exception and its traceback go to the server's log (logger
    ``goalpath.server``); the response says only that something failed, so
    no stack trace, path or SQL ever reaches a caller.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; answer 500 if it raises before it has started its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception:
            logger.exception("unexpected failure serving %s %s", scope["method"], scope["path"])
            if started:
                return
            body = json.dumps(problem_document(_INTERNAL, 500, scope["path"])).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})


class InsecureDevMiddleware:
    """Adds ``Goalpath-Insecure-Dev: true`` to every response of an ``--insecure-dev`` server."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, marking each response start with the header."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    (INSECURE_DEV_HEADER.lower().encode(), b"true"),
                ]
            await send(message)

        await self.app(scope, receive, marked_send)
