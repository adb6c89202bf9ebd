"""Bearer tokens: who is calling, and what their token lets them do.

A request carries a JWT (``Authorization: Bearer ...``), verified with
joserfc against the configured public key set: an asymmetric signature
(:data:`~goalpath.server.settings.ALGORITHMS`, never ``none`` or an HMAC),
the configured issuer and audience, and an expiry that has not passed. Its
claims name the :class:`~goalpath.core.authorization.Principal`; a client
acts under their own client id, so the role policy's "a client acts on
their own record" holds for every token.

Scopes in the style of SMART on FHIR (``user/Goal.rs``,
``patient/Observation.c``, ``system/*.*``) narrow what a token may do on
top of the role policy: each route names the resource type and the
interaction it needs (:data:`RESOURCES`), and a token without a scope
covering it is refused. A ``patient/`` scope covers only the client the
token names in its client claim: :class:`ScopedPolicy` refuses every
decision about another client, or about the whole store, while such a
scope is the one in use.
"""

from __future__ import annotations

import base64
import contextvars
import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar, Final, Literal, get_args

import attrs
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from goalpath.core.authorization import Action, Decision, Policy, Principal, Subject
from goalpath.core.errors import GoalpathError, NotAuthorizedError
from goalpath.core.values import ROLES
from goalpath.server.settings import ALGORITHMS, ServerSettings

__all__ = [
    "INTERACTIONS",
    "RESOURCES",
    "Caller",
    "Grant",
    "InsufficientScopeError",
    "Interaction",
    "NotAuthenticatedError",
    "Resource",
    "ScopedPolicy",
    "TokenVerifier",
    "parse_scopes",
]

Resource = Literal[
    "EpisodeOfCare", "Goal", "Observation", "CarePlan", "Provenance", "AuditEvent", "MeasureReport"
]
"""The FHIR resource type a route's data is: what a scope names."""

RESOURCES: Final[dict[str, str]] = {
    "EpisodeOfCare": "episodes: open, sessions, therapists, close, read",
    "Goal": "goals: state, refine, activate, review, retire, read; the review queue",
    "Observation": "measurements: record, correct; progress against the target",
    "CarePlan": "an episode's or client's plan",
    "Provenance": "a goal's history, the audit log and the change feed",
    "AuditEvent": "the access log and the store's verification",
    "MeasureReport": "caseload outcomes",
}
"""Which goalpath data each resource type of a scope covers (docs/serving.md shows it)."""

Interaction = Literal["c", "r", "u", "d", "s"]
"""SMART v2 interactions: create, read, update, delete, search."""

INTERACTIONS: Final[tuple[str, ...]] = get_args(Interaction)

_V1_INTERACTIONS: Final = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE: Final = re.compile(r"^(patient|user|system)/([A-Za-z]+|\*)\.([a-z]+|\*)$")

INSECURE_DEV_ASSERTER: Final = "insecure-dev"
"""``asserted_by`` of a principal taken from an unverified token under ``--insecure-dev``."""


class NotAuthenticatedError(GoalpathError):
    """No valid bearer token: missing, malformed, expired, forged, or for someone else.

    The server answers 401 with a ``WWW-Authenticate: Bearer`` challenge.
    """

    code: ClassVar[str] = "not-authenticated"


class InsufficientScopeError(NotAuthorizedError):
    """The token is valid, but none of its scopes covers the request (403).

    ``needed`` is a scope that would, for example ``user/Goal.u``.
    """

    def __init__(self, principal: Principal, needed: str, granted: tuple[str, ...]) -> None:
        self.needed = needed
        shown = " ".join(granted) or "none"
        super().__init__(
            principal.id,
            principal.role,
            "use this route",
            "scope-covers-request",
            f"the token's scopes ({shown}) do not cover it; it needs {needed} or a wider scope",
        )
        self.field = "scope"
        self.accepted = needed


@attrs.frozen
class Grant:
    """One scope: a context (``patient``, ``user``, ``system``), a resource type, interactions."""

    context: Literal["patient", "user", "system"]
    resource: str
    interactions: frozenset[str]

    def covers(self, resource: Resource, interaction: Interaction) -> bool:
        """Whether this grant allows ``interaction`` on ``resource``."""
        return self.resource in ("*", resource) and interaction in self.interactions


def parse_scopes(value: object) -> tuple[tuple[Grant, ...], tuple[str, ...]]:
    """The grants of a scope claim (a space-separated string or a list), and the scopes as given.

    Scopes that are not resource scopes (``openid``, ``launch/patient``...)
    are kept in the second part but grant nothing.
    """
    if isinstance(value, str):
        given = tuple(value.split())
    elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        given = tuple(value)
    else:
        given = ()
    grants: list[Grant] = []
    for scope in given:
        match = _SCOPE.match(scope)
        if match is None:
            continue
        context, resource, letters = match.groups()
        letters = _V1_INTERACTIONS.get(letters, letters)
        if not set(letters) <= set(INTERACTIONS):
            continue
        grants.append(Grant(context, resource, frozenset(letters)))  # type: ignore[arg-type]
    return tuple(grants), given


_patient_only: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "goalpath_patient_scope", default=None
)
"""The client a ``patient/`` scope limits the current request to (``None``: no such limit)."""


@attrs.frozen
class Caller:
    """The authenticated caller of one request: their principal, their token's grants and tenant.

    ``tenant`` is what the token's tenant claim names (``None``: no such claim).
    """

    principal: Principal
    client_id: str | None
    grants: tuple[Grant, ...]
    scopes: tuple[str, ...]
    tenant: str | None = None

    @contextmanager
    def acting(self, resource: Resource, interaction: Interaction) -> Iterator[Principal]:
        """Check the token's scopes cover the request, and yield the principal to act as.

        A ``user/`` or ``system/`` scope covers every subject the role policy
        allows; a ``patient/`` scope alone covers only the token's own
        client, which :class:`ScopedPolicy` enforces for the commands and
        reads run inside this block (on this thread).
        """
        covering = [grant for grant in self.grants if grant.covers(resource, interaction)]
        if not covering:
            raise InsufficientScopeError(
                self.principal, f"user/{resource}.{interaction}", self.scopes
            )
        wide = any(grant.context != "patient" for grant in covering)
        limit = None if wide else (self.client_id or "")
        token = _patient_only.set(limit)
        try:
            yield self.principal
        finally:
            _patient_only.reset(token)


class ScopedPolicy:
    """A policy that narrows another by the current request's ``patient/`` scope.

    Outside a request (or under a ``user/`` or ``system/`` scope) it is the
    wrapped policy. Under a ``patient/`` scope it refuses what concerns any
    client but the token's own, and the store as a whole, before asking the
    wrapped policy.
    """

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def decide(self, principal: Principal, action: Action, subject: Subject) -> Decision:
        """Refuse outside the token's patient scope, else decide by the wrapped policy."""
        patient = _patient_only.get()
        if patient is not None and (subject.client_id is None or subject.client_id != patient):
            return Decision(
                allowed=False,
                rule="patient-scope-covers-own-client",
                explanation="the token's patient/ scope covers its own client only; a user/ "
                "scope is needed for other clients or the whole store",
            )
        return self.policy.decide(principal, action, subject)


class TokenVerifier:
    """Verifies bearer tokens and turns their claims into a :class:`Caller`.

    With a key set, a token must be signed by one of its keys with one of
    :data:`~goalpath.server.settings.ALGORITHMS`, carry the configured
    issuer and audience, and not be expired. Under ``insecure_dev`` (no key
    set) a token's claims are taken unverified: for a developer's machine only.
    """

    def __init__(self, settings: ServerSettings, keys: KeySet | None) -> None:
        self.settings = settings
        self.keys = keys
        self.claims = settings.claims

    def _registry(self) -> jwt.JWTClaimsRegistry:
        options: dict[str, Any] = {"exp": {"essential": True}}
        if self.settings.issuer:
            options["iss"] = {"essential": True, "value": self.settings.issuer}
        if self.settings.audience:
            options["aud"] = {"essential": True, "value": self.settings.audience}
        return jwt.JWTClaimsRegistry(
            now=lambda: int(time.time()), leeway=self.settings.leeway_seconds, **options
        )

    def verify(self, authorization: str | None) -> Caller:
        """The caller of a request with this ``Authorization`` header; 401 unless it is valid."""
        if not authorization:
            raise NotAuthenticatedError(
                "this request needs a bearer token: send 'Authorization: Bearer <JWT>'",
                field="Authorization",
            )
        kind, _space, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise NotAuthenticatedError(
                "the Authorization header must be 'Bearer <JWT>'",
                field="Authorization",
                accepted="Bearer <JWT>",
            )
        claims = self._claims(token.strip())
        return self._caller(claims)

    def _claims(self, token: str) -> Mapping[str, Any]:
        try:
            if self.keys is None:
                claims: Mapping[str, Any] = _unverified_claims(token)
            else:
                claims = jwt.decode(token, self.keys, algorithms=list(ALGORITHMS)).claims
            self._registry().validate(dict(claims))
        except JoseError as error:
            raise NotAuthenticatedError(
                f"the bearer token was refused: {error.description or error.error}",
                field="Authorization",
            ) from None
        except (ValueError, TypeError, KeyError, AttributeError):
            raise NotAuthenticatedError(
                "the bearer token is not a well-formed JWT", field="Authorization"
            ) from None
        return claims

    def _caller(self, claims: Mapping[str, Any]) -> Caller:
        role = claims.get(self.claims.role)
        if role not in ROLES:
            raise NotAuthenticatedError(
                f"the token's {self.claims.role!r} claim must name a goalpath role; got {role!r}",
                field=self.claims.role,
                accepted=ROLES,
            )
        client_claim = claims.get(self.claims.client)
        client_id = client_claim if isinstance(client_claim, str) and client_claim else None
        subject = claims.get(self.claims.principal)
        principal_id = client_id if role == "client" else subject
        if not isinstance(principal_id, str) or not principal_id:
            needed = self.claims.client if role == "client" else self.claims.principal
            raise NotAuthenticatedError(
                f"the token has no {needed!r} claim naming the "
                + ("client" if role == "client" else "principal"),
                field=needed,
            )
        asserted_by = (
            INSECURE_DEV_ASSERTER if self.keys is None else str(self.settings.issuer)[:200]
        )
        try:
            principal = Principal(principal_id, role, asserted_by)
        except GoalpathError as error:
            raise NotAuthenticatedError(
                f"the token names no valid principal: {error}", field=self.claims.principal
            ) from None
        grants, scopes = parse_scopes(claims.get(self.claims.scope))
        tenant_claim = claims.get(self.claims.tenant)
        tenant = tenant_claim if isinstance(tenant_claim, str) and tenant_claim else None
        return Caller(principal, client_id, grants, scopes, tenant)


def _unverified_claims(token: str) -> Mapping[str, Any]:
    """The claims of a token, its signature unchecked (``--insecure-dev`` only)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if not isinstance(claims, dict):
        raise ValueError("the token's payload is not a JSON object")
    return claims
