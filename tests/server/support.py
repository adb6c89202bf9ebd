"""What the server tests share: a token issuer with its own keys, and an in-process server."""

from __future__ import annotations

import base64
import json
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Final

import attrs
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

with warnings.catch_warnings():
    # Starlette's test client on httpx (its other transport is not a dependency of goalpath).
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from goalpath.core.application import GoalpathApp
from goalpath.core.storage.keys import MasterKey
from goalpath.server import ServerSettings, create_app

ISSUER: Final = "https://login.example-clinic.test"
AUDIENCE: Final = "goalpath"
TODAY: Final = date(2026, 6, 1)
EVERYTHING: Final = "user/*.cruds"


@attrs.define
class Issuer:
    """A token issuer for tests: an RSA, an EC and an Ed25519 key, and its public JWKS."""

    rsa: RSAKey = attrs.field(
        factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    )
    ec: ECKey = attrs.field(factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "ec-1"}))
    ed: OKPKey = attrs.field(
        factory=lambda: OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})
    )

    def public_jwks(self) -> dict[str, Any]:
        """The key set document the server is given (public parts only)."""
        document: dict[str, Any] = dict(KeySet([self.rsa, self.ec, self.ed]).as_dict(private=False))
        return document

    def write_jwks(self, path: Path) -> Path:
        """Write the public key set to ``path``."""
        path.write_text(json.dumps(self.public_jwks()), encoding="utf-8")
        return path

    def claims(
        self,
        sub: str,
        role: str,
        *,
        patient: str | None = None,
        scope: str = EVERYTHING,
        **extra: Any,
    ) -> dict[str, Any]:
        """The claims of a valid token for ``sub`` in ``role``."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "role": role,
            "scope": scope,
            "iat": now,
            "exp": now + 600,
        }
        if patient is not None:
            claims["patient"] = patient
        claims.update(extra)
        return claims

    def sign(self, claims: dict[str, Any], alg: str = "RS256") -> str:
        """A token of ``claims`` signed with the issuer's key for ``alg``."""
        keys: dict[str, RSAKey | ECKey | OKPKey] = {
            "RS256": self.rsa,
            "ES256": self.ec,
            "Ed25519": self.ed,
            "EdDSA": self.ed,
        }
        key = keys[alg]
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])

    def token(self, sub: str, role: str, **options: Any) -> str:
        """A valid RS256 token."""
        return self.sign(self.claims(sub, role, **options))

    def bearer(self, sub: str, role: str, **options: Any) -> dict[str, str]:
        """The ``Authorization`` header of a valid token."""
        return {"Authorization": f"Bearer {self.token(sub, role, **options)}"}


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def settings_for(jwks: Path, db: str) -> ServerSettings:
    """Settings of a server verifying tokens of the test issuer."""
    return ServerSettings(db=db, keys=str(jwks), issuer=ISSUER, audience=AUDIENCE)


@contextmanager
def in_process_server(
    issuer: Issuer, folder: Path, **settings: Any
) -> Iterator[tuple[TestClient, FastAPI, GoalpathApp]]:
    """A server on a fresh SQLite store in ``folder``, called in process."""
    store = str(folder / "served.db")
    app = GoalpathApp(store, master_key=MasterKey.generate(), today=lambda: TODAY)
    jwks = issuer.write_jwks(folder / "jwks.json")
    api = create_app(attrs.evolve(settings_for(jwks, store), **settings), app=app)
    try:
        with TestClient(api, raise_server_exceptions=False) as client:
            yield client, api, app
    finally:
        app.close()


def open_episode(client: TestClient, headers: dict[str, str], client_id: str = "client-1") -> str:
    """Open an episode with therapist-1 assigned; return its id."""
    response = client.post(
        "/episodes",
        json={"client_id": client_id, "therapist_ids": ["therapist-1"], "opened_on": "2026-05-01"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    episode_id: str = response.json()["id"]
    return episode_id


SMART_DEFINITION: Final = {
    "statement": "Walk to the corner shop alone three times a week by practising graded exposure",
    "start_on": "2026-05-04",
    "measure": {"name": "walks alone", "unit": "per week", "direction": "increase", "minimum": 0},
    "target": {"baseline": 0, "value": 3, "due_on": "2026-07-13"},
    "area": "behavioural-change",
}
