"""How ``goalpath serve`` is configured: the store, the key set, the claims, the dev flag.

One :class:`ServerSettings` value holds everything the server needs to
start; ``goalpath serve`` builds it from its options, a host builds it in
Python and passes it to :func:`goalpath.server.create_app`. It travels to
the server's worker processes as JSON (:meth:`ServerSettings.to_json`), so
every worker opens its own store after it starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import attrs
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

from goalpath.core.errors import InvalidValueError

__all__ = [
    "ALGORITHMS",
    "SETTINGS_VARIABLE",
    "ClaimNames",
    "ServerSettings",
    "load_key_set",
]

ALGORITHMS: Final[tuple[str, ...]] = ("RS256", "ES256", "Ed25519", "EdDSA")
"""The signature algorithms a token may use: asymmetric only, never ``none`` or an HMAC.

``Ed25519`` is RFC 9864's name for what older issuers call ``EdDSA``; both are accepted.
"""

SETTINGS_VARIABLE: Final = "GOALPATH_SERVE_SETTINGS"
"""The environment variable that carries the settings (as JSON) to each worker process."""

_ASYMMETRIC_KEY_TYPES: Final = ("RSA", "EC", "OKP")


@attrs.frozen
class ClaimNames:
    """Which claims of a token name the principal.

    Attributes:
        principal: the claim holding the person's or integration's id (``sub``).
        role: the claim holding their goalpath role (``client``, ``therapist``,
            ``supervisor``, ``auditor`` or ``system``).
        client: the claim holding a client's own id, which is the id a client
            principal acts under (SMART on FHIR's launch context calls it ``patient``).
        scope: the claim holding the granted scopes (a space-separated string or a list).
        tenant: the claim naming the tenant (organisation) whose store the token is for:
            consulted by a server with a placement file (docs/serving.md, "Tenants").
    """

    principal: str = "sub"
    role: str = "role"
    client: str = "patient"
    scope: str = "scope"
    tenant: str = "tenant"


@attrs.frozen
class ServerSettings:
    """Everything ``goalpath serve`` needs: where the store is and how tokens are verified.

    Attributes:
        db: the store (a SQLite file, ``:memory:`` or a ``postgresql://`` URL);
            ``None`` means the command line's default (``GOALPATH_DATABASE_URL``,
            ``GOALPATH_DB``, ``./goalpath.db``).
        tenant: the organisation whose store to serve.
        placement: the placement file (TOML or JSON) mapping each tenant to its
            database (:mod:`goalpath.server.placement`); instead of ``db`` and
            ``tenant``, for a server of many tenants.
        keys: the public key set file (a JWKS document, one JWK, or a PEM public key).
        issuer: the ``iss`` every token must carry.
        audience: the ``aud`` every token must carry (or include).
        claims: which claims name the principal, role, client and scopes.
        insecure_dev: serve without a key set, taking tokens unverified. For a
            developer's machine only; announced on every response and in the log.
        leeway_seconds: how far a token's ``exp`` and ``nbf`` may be off the server's clock.
    """

    db: str | None = None
    tenant: str | None = None
    placement: str | None = None
    keys: str | None = None
    issuer: str | None = None
    audience: str | None = None
    claims: ClaimNames = ClaimNames()
    insecure_dev: bool = False
    leeway_seconds: int = 30

    def check(self, *, keys_loaded: bool = False) -> None:
        """Refuse settings the server must not start with, saying what to give instead.

        ``keys_loaded``: the host passes a key set itself, so no key file is needed.
        """
        if self.placement is not None and (self.db is not None or self.tenant is not None):
            raise InvalidValueError(
                "a placement file says where each tenant's store is; give --placement or "
                "--db/--tenant, not both",
                field="placement",
            )
        if self.insecure_dev and (self.keys is not None or keys_loaded):
            raise InvalidValueError(
                "--insecure-dev is for serving without a key set; give --keys or "
                "--insecure-dev, not both",
                field="insecure_dev",
            )
        if self.insecure_dev:
            return
        if self.keys is None and not keys_loaded:
            raise InvalidValueError(
                "goalpath serve needs the public key set that verifies bearer tokens: give "
                "--keys FILE (a JWKS document), or --insecure-dev on a developer's machine",
                field="keys",
                accepted="a JWKS document, a JWK or a PEM public key file",
            )
        for name, value in (("issuer", self.issuer), ("audience", self.audience)):
            if not value:
                raise InvalidValueError(
                    f"give --{name}: every token is checked against the {name} it must carry",
                    field=name,
                )

    def to_json(self) -> str:
        """The settings as JSON, for :data:`SETTINGS_VARIABLE`."""
        return json.dumps(attrs.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerSettings:
        """The settings :meth:`to_json` wrote."""
        data: dict[str, Any] = json.loads(text)
        claims = ClaimNames(**data.pop("claims"))
        return cls(claims=claims, **data)


def load_key_set(path: str) -> KeySet:
    """Read the public keys that verify tokens from a JWKS, JWK or PEM file.

    Only asymmetric keys (RSA, EC, OKP) are taken: a symmetric (``oct``) key
    would let a token be signed with what is meant to be public, so a file
    holding one is refused, as is a file that holds no key.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise InvalidValueError(
            f"cannot read the key set file {path}: {error.strerror}", field="keys"
        ) from None
    try:
        if raw.lstrip().startswith(b"{"):
            document = json.loads(raw)
            entries = document.get("keys", [document])
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
            kinds = {entry.get("kty") for entry in entries}
            if not entries or not kinds <= set(_ASYMMETRIC_KEY_TYPES):
                raise InvalidValueError(
                    f"the key set {path} must hold public RSA, EC or OKP keys only; "
                    f"found key types {sorted(str(kind) for kind in kinds)}",
                    field="keys",
                    accepted=_ASYMMETRIC_KEY_TYPES,
                )
            public = [{k: v for k, v in entry.items() if k not in _PRIVATE} for entry in entries]
            return KeySet.import_key_set({"keys": public})
        return KeySet([_pem_key(raw)])
    except InvalidValueError:
        raise
    except (JoseError, ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidValueError(
            f"the key set file {path} is not a JWKS document, a JWK or a PEM public key "
            f"({type(error).__name__})",
            field="keys",
        ) from None


_PRIVATE: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
"""A JWK's private members: left out, so the server never holds a private key it was given."""


def _pem_key(raw: bytes) -> RSAKey | ECKey | OKPKey:
    for kind in (RSAKey, ECKey, OKPKey):
        try:
            key = kind.import_key(raw)
        except (JoseError, ValueError, TypeError):
            continue
        return kind.import_key(key.as_pem(private=False))
    raise ValueError("not a PEM public key")
