"""The ASGI application: :func:`create_app`, its routers and what every route shares.

``create_app(settings)`` returns a FastAPI application that a host runs on
its own (``goalpath serve``) or mounts inside its own ASGI application
(``host.mount("/goalpath", create_app(settings))``). It opens one
:class:`~goalpath.core.application.GoalpathApp` and one
:class:`~goalpath.projections.Projections` per process and tenant, shared by
every request thread (docs/embedding.md, "Threads and processes"), and
closes them with :meth:`GoalpathServer.close` (on shutdown when it runs
alone). A route reaches the caller's tenant's store through :data:`TenantDep`
(:mod:`goalpath.server.tenants`), the one way to it.

The routes live in route modules (:data:`ROUTE_MODULES`), each with a
``router``; a further interface (FHIR REST) is another module in that list.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Final

import attrs
from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRouter
from joserfc.jwk import KeySet
from pydantic import BaseModel

from goalpath.core.application import GoalpathApp, resolve_db_path
from goalpath.core.authorization import Policy
from goalpath.core.errors import InvalidValueError
from goalpath.modalities import Plugins, load_plugins
from goalpath.projections import Projections
from goalpath.server.auth import Caller, ScopedPolicy, TokenVerifier
from goalpath.server.idempotency_keys import document_idempotency_key
from goalpath.server.models import RESPONSE_DOCUMENTS, DocumentSchema, ProblemDocument
from goalpath.server.placement import load_placement
from goalpath.server.problems import (
    INSECURE_DEV_HEADER,
    PROBLEM_MEDIA_TYPE,
    InsecureDevMiddleware,
    ProblemMiddleware,
    install_problem_handlers,
)
from goalpath.server.settings import SETTINGS_VARIABLE, ServerSettings, load_key_set
from goalpath.server.tenants import Tenant, Tenants, open_placed_app

__all__ = [
    "ALWAYS_POSSIBLE",
    "ROUTE_MODULES",
    "CallerDep",
    "GoalpathServer",
    "ServerDep",
    "TenantDep",
    "app_from_environment",
    "build_api",
    "create_app",
    "problem_responses",
]

ROUTE_MODULES: Final[tuple[str, ...]] = (
    "goalpath.server.episode_routes",
    "goalpath.server.goal_routes",
    "goalpath.server.read_routes",
    "goalpath.server.change_feed",
    "goalpath.server.fhir_routes",
    "goalpath.server.fhir_observations",
    "goalpath.server.fhir_search",
)
"""Each module has a ``router`` (a FastAPI ``APIRouter``) that :func:`create_app` includes.

``fhir_search`` comes after the other FHIR modules: its last route answers
every other path under ``/fhir`` with an OperationOutcome.
"""

logger = logging.getLogger("goalpath.server")


@attrs.define
class GoalpathServer:
    """What every request of one server process shares.

    Attributes:
        settings: how the server was configured.
        tenants: the store of each tenant served (one, without a placement file).
        verifier: checks each request's bearer token.
        plugins: the loaded modality plugins (for templates).
    """

    settings: ServerSettings
    tenants: Tenants
    verifier: TokenVerifier
    plugins: Plugins

    def for_caller(self, caller: Caller) -> Tenant:
        """The store of the caller's tenant (403 when this server does not serve it)."""
        return self.tenants.of(caller.principal, caller.tenant)

    def close(self) -> None:
        """Close every tenant's read models, and each application the server opened."""
        self.tenants.close()


def _server(request: Request) -> GoalpathServer:
    server: GoalpathServer = request.app.state.goalpath
    return server


ServerDep = Annotated[GoalpathServer, Depends(_server)]
"""A route's parameter for the process's :class:`GoalpathServer`."""


def _caller(request: Request, server: ServerDep) -> Caller:
    return server.verifier.verify(request.headers.get("authorization"))


CallerDep = Annotated[Caller, Depends(_caller)]
"""A route's parameter for the authenticated caller (a 401 problem without a valid token)."""


def _tenant(server: ServerDep, caller: CallerDep) -> Tenant:
    return server.for_caller(caller)


TenantDep = Annotated[Tenant, Depends(_tenant)]
"""A route's parameter for the caller's tenant: its ``app`` and ``projections``.

The token is verified once per request (FastAPI caches ``CallerDep``);
a tenant the server does not serve is a 403 problem.
"""


_PROBLEM_SCHEMA: Final = {"$ref": "#/components/schemas/ProblemDocument"}

ALWAYS_POSSIBLE: Final = (400, 401, 403, 422, 500, 503)
"""The problems any route may answer: a malformed request, no valid token, a refusal, a value
goalpath's rules refuse (a query parameter too), an unexpected failure, a store out of reach."""


def problem_responses(
    *statuses: int, ok: dict[int, tuple[DocumentSchema | type[BaseModel], str]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """A route's OpenAPI ``responses``: its answers and the problems it may give.

    ``ok`` maps a status to the document (a published
    :class:`~goalpath.server.models.DocumentSchema`, or a pydantic model of a
    document of the server's own) and a description; the problems are
    :data:`ALWAYS_POSSIBLE` always, plus ``statuses``.
    """
    described = {
        400: "The request is malformed (invalid-usage).",
        401: "No valid bearer token (not-authenticated).",
        403: "The role policy or the token's scopes refuse it (not-authorized).",
        404: "No such goal, episode or template (not-found).",
        409: "A conflict: a duplicate id, another writer, a command not allowed now.",
        410: "The client's data was erased (client-erased).",
        412: "If-Match names a version that is no longer the current one (version-conflict).",
        422: "A value is refused by goalpath's rules (invalid-value, not-smart).",
        500: "An unexpected failure, logged on the server (internal-error); no stack trace.",
        503: "The store or a read model cannot be reached now (store-unavailable, "
        "projection-unavailable, outcome-unknown); try again.",
    }
    answers: dict[int | str, dict[str, Any]] = {
        status: _answer(document, description)
        for status, (document, description) in (ok or {}).items()
    }
    return answers | {
        status: {
            "model": ProblemDocument,
            "description": described[status],
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDocument"}}
            },
        }
        for status in sorted({*ALWAYS_POSSIBLE, *statuses})
    }


def _answer(document: DocumentSchema | type[BaseModel], description: str) -> dict[str, Any]:
    """A route's answer: a published document's component, or a model of the server's own."""
    if isinstance(document, DocumentSchema):
        schema = document.reference
        return {"description": description, "content": {"application/json": {"schema": schema}}}
    return {"model": document, "description": description}


def create_app(
    settings: ServerSettings,
    *,
    app: GoalpathApp | None = None,
    policy: Policy | None = None,
    keys: KeySet | None = None,
) -> FastAPI:
    """The goalpath HTTP API as an ASGI application.

    ``settings`` say where the store is and how tokens are verified (a key
    set is required unless ``insecure_dev``). A host may pass its own
    ``app`` (goalpath then wraps its policy in a
    :class:`~goalpath.server.auth.ScopedPolicy`, which changes nothing
    outside requests, and never closes it), its own ``policy`` for the apps
    the server opens, or ``keys`` already loaded instead of the key file.
    With ``settings.placement`` the server serves every tenant the placement
    file places, each opened on its first request (:mod:`goalpath.server.tenants`).
    """
    settings.check(keys_loaded=keys is not None)
    if keys is None and settings.keys is not None:
        keys = load_key_set(settings.keys)
    server = GoalpathServer(
        settings=settings,
        tenants=_tenants(settings, app, policy),
        verifier=TokenVerifier(settings, keys),
        plugins=load_plugins(),
    )

    @asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        yield
        server.close()

    api = build_api(lifespan)
    api.state.goalpath = server
    if settings.insecure_dev:
        api.add_middleware(InsecureDevMiddleware)
        logger.warning(
            "goalpath serve: INSECURE DEV MODE: bearer tokens are NOT verified; every response "
            "carries %s: true. Never run this with real clients' data.",
            INSECURE_DEV_HEADER,
        )
    return api


def _tenants(settings: ServerSettings, app: GoalpathApp | None, policy: Policy | None) -> Tenants:
    if settings.placement is not None:
        if app is not None:
            raise InvalidValueError(
                "a server with a placement file opens each tenant's store itself; "
                "give create_app an app or a placement, not both",
                field="placement",
            )
        placement = load_placement(settings.placement)

        def open_app(name: str) -> GoalpathApp:
            opened = open_placed_app(placement, name, policy)
            opened.policy = ScopedPolicy(opened.policy)
            return opened

        return Tenants(placement=placement, open_app=open_app)
    owns_app = app is None
    if app is None:
        app = GoalpathApp(resolve_db_path(settings.db), tenant=settings.tenant, policy=policy)
    if not isinstance(app.policy, ScopedPolicy):
        app.policy = ScopedPolicy(app.policy)
    return Tenants(single=Tenant(app.store.tenant, app, Projections(app)), owns_single=owns_app)


_TAGS: Final = ("episodes", "goals", "plans and progress", "audit", "templates", "FHIR")


def build_api(lifespan: Any = None) -> FastAPI:
    """The FastAPI application with every route and problem handler, not yet bound to a store.

    :func:`create_app` binds it; the OpenAPI document is generated from it
    (:mod:`goalpath.server.openapi_document`) without opening any store.
    """
    api = FastAPI(
        title="goalpath",
        version=_version(),
        summary="Therapy goals, event-sourced: episodes, goals, plans, progress, audit.",
        description=(
            "The goalpath API: every command of the Python API as a route, every read "
            "authorized and logged. Bearer tokens (JWT) verified against the server's key "
            "set; SMART-on-FHIR-style scopes narrow the role policy. Errors are RFC 9457 "
            "problem documents. See docs/serving.md."
        ),
        lifespan=lifespan,
        openapi_tags=[{"name": name} for name in _TAGS],
    )
    install_problem_handlers(api)
    for module_name in ROUTE_MODULES:
        router: APIRouter = importlib.import_module(module_name).router
        api.include_router(router)
    api.add_middleware(ProblemMiddleware)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = _documented(
                get_openapi(
                    title=api.title,
                    version=api.version,
                    summary=api.summary,
                    description=api.description,
                    routes=api.routes,
                    tags=api.openapi_tags,
                )
            )
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
    return api


def _documented(document: dict[str, Any]) -> dict[str, Any]:
    """The generated document: bearer security, problems as problem+json only, one header.

    The ``Idempotency-Key`` header is one reusable parameter each command refers to.
    """
    document_idempotency_key(document)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(
        {response.name: response.schema for response in RESPONSE_DOCUMENTS}
    )
    components["schemas"] = dict(sorted(components["schemas"].items()))
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if not path.startswith("/openapi"):
                # A route that needs no token says so (``openapi_extra={"security": []}``).
                operation.setdefault("security", [{"bearer": []}])
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if int(status) >= 400 and PROBLEM_MEDIA_TYPE in content:
                    content.pop("application/json", None)
    return document


def _version() -> str:
    try:
        return version("goalpath")
    except PackageNotFoundError:
        return "0"


def app_from_environment() -> FastAPI:
    """The application of one ``goalpath serve`` worker, from :data:`SETTINGS_VARIABLE`.

    uvicorn calls this in each worker process (``factory=True``), so each
    opens its own store after it starts.
    """
    text = os.environ.get(SETTINGS_VARIABLE)
    settings = ServerSettings() if text is None else ServerSettings.from_json(text)
    return create_app(settings)
