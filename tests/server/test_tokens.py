"""Bearer tokens: every refusal of issue 13's list is a 401 or 403 problem; valid ones pass."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from starlette.testclient import TestClient

from goalpath.core.errors import InvalidValueError
from goalpath.server import ServerSettings, create_app
from goalpath.server.auth import parse_scopes
from tests.server.support import (
    SMART_DEFINITION,
    Issuer,
    b64url,
    in_process_server,
    open_episode,
)


@pytest.fixture
def served(issuer: Issuer, tmp_path: Path) -> Iterator[tuple[TestClient, str, str]]:
    """A server with one episode of client-1 and one goal; yields the client, episode, goal."""
    with in_process_server(issuer, tmp_path) as (client, _api, _app):
        therapist = issuer.bearer("therapist-1", "therapist")
        episode_id = open_episode(client, therapist)
        created = client.post(
            f"/episodes/{episode_id}/goals",
            json={"definition": SMART_DEFINITION, "activate": True},
            headers=therapist,
        )
        assert created.status_code == 201, created.text
        yield client, episode_id, created.json()["id"]


def _refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"urn:goalpath:problem:{code}"
    return problem


def _get_goal(client: TestClient, goal_id: str, token: str) -> Any:
    return client.get(f"/goals/{goal_id}", headers={"Authorization": f"Bearer {token}"})


def test_a_valid_token_of_each_algorithm_is_accepted(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    for alg in ("RS256", "ES256", "Ed25519"):
        token = issuer.sign(issuer.claims("therapist-1", "therapist"), alg)
        response = _get_goal(client, goal_id, token)
        assert response.status_code == 200, (alg, response.text)
        assert response.headers["ETag"] == f'"{response.json()["version"]}"'


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_an_eddsa_token_is_accepted(served: tuple[TestClient, str, str], issuer: Issuer) -> None:
    client, _episode, goal_id = served
    token = issuer.sign(issuer.claims("therapist-1", "therapist"), "EdDSA")
    assert _get_goal(client, goal_id, token).status_code == 200


def test_no_token_is_401_with_a_bearer_challenge(served: tuple[TestClient, str, str]) -> None:
    client, _episode, goal_id = served
    problem = _refused(client.get(f"/goals/{goal_id}"), 401, "not-authenticated")
    assert problem["field"] == "Authorization"
    response = client.get(f"/goals/{goal_id}", headers={"Authorization": "Basic dXNlcjpwdw=="})
    _refused(response, 401, "not-authenticated")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="goalpath"')


def test_an_expired_token_is_refused(served: tuple[TestClient, str, str], issuer: Issuer) -> None:
    client, _episode, goal_id = served
    past = int(time.time()) - 3600
    token = issuer.sign(issuer.claims("therapist-1", "therapist", exp=past, iat=past - 600))
    problem = _refused(_get_goal(client, goal_id, token), 401, "not-authenticated")
    assert "expired" in problem["detail"]


def test_a_token_without_expiry_is_refused(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    claims = issuer.claims("therapist-1", "therapist")
    del claims["exp"]
    _refused(_get_goal(client, goal_id, issuer.sign(claims)), 401, "not-authenticated")


@pytest.mark.parametrize(
    "claim", [{"iss": "https://login.elsewhere.test"}, {"aud": "another-api"}, {"aud": []}]
)
def test_a_wrong_issuer_or_audience_is_refused(
    served: tuple[TestClient, str, str], issuer: Issuer, claim: dict[str, Any]
) -> None:
    client, _episode, goal_id = served
    token = issuer.sign(issuer.claims("therapist-1", "therapist", **claim))
    _refused(_get_goal(client, goal_id, token), 401, "not-authenticated")


def test_alg_none_is_refused(served: tuple[TestClient, str, str], issuer: Issuer) -> None:
    client, _episode, goal_id = served
    claims = issuer.claims("therapist-1", "therapist")
    for header in ({"alg": "none"}, {"alg": "none", "kid": "rsa-1"}, {"alg": "None"}):
        token = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}."
        _refused(_get_goal(client, goal_id, token), 401, "not-authenticated")


def test_an_hs256_token_signed_with_the_public_key_is_refused(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    claims = issuer.claims("therapist-1", "therapist")
    public_pem = issuer.rsa.as_pem(private=False)
    public_jwk = json.dumps(issuer.public_jwks()["keys"][0]).encode()
    for secret in (public_pem, public_jwk):
        signing_input = (
            f"{b64url(json.dumps({'alg': 'HS256', 'kid': 'rsa-1'}).encode())}."
            f"{b64url(json.dumps(claims).encode())}"
        )
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{b64url(signature)}"
        _refused(_get_goal(client, goal_id, token), 401, "not-authenticated")


def test_a_bad_signature_is_refused(served: tuple[TestClient, str, str], issuer: Issuer) -> None:
    client, _episode, goal_id = served
    impostor = Issuer(rsa=RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}))
    forged = impostor.sign(issuer.claims("therapist-1", "therapist"))
    _refused(_get_goal(client, goal_id, forged), 401, "not-authenticated")
    genuine = issuer.token("therapist-1", "therapist")
    head, _payload, signature = genuine.split(".")
    altered = issuer.claims("supervisor-9", "supervisor")
    tampered = f"{head}.{b64url(json.dumps(altered).encode())}.{signature}"
    _refused(_get_goal(client, goal_id, tampered), 401, "not-authenticated")
    _refused(_get_goal(client, goal_id, "not.a.jwt"), 401, "not-authenticated")


def test_a_token_without_a_goalpath_role_is_refused(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    problem = _refused(
        _get_goal(client, goal_id, issuer.token("therapist-1", "physician")),
        401,
        "not-authenticated",
    )
    assert problem["field"] == "role"
    assert "therapist" in problem["accepted"]


def test_a_scope_that_does_not_cover_the_request_is_403(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    reading_only = issuer.bearer("therapist-1", "therapist", scope="openid user/Goal.rs")
    assert client.get(f"/goals/{goal_id}", headers=reading_only).status_code == 200
    response = client.post(
        f"/goals/{goal_id}/measurements", json={"value": 1}, headers=reading_only
    )
    problem = _refused(response, 403, "not-authorized")
    assert problem["field"] == "scope"
    assert problem["accepted"] == "user/Observation.c"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    no_scope = issuer.bearer("therapist-1", "therapist", scope="")
    _refused(client.get(f"/goals/{goal_id}", headers=no_scope), 403, "not-authorized")
    after = client.get(f"/goals/{goal_id}", headers=reading_only).json()
    assert after["measurement_count"] == 0  # the refused measurement wrote nothing


def test_a_client_reads_only_their_own_client(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, episode_id, goal_id = served
    own = issuer.bearer("user-17", "client", patient="client-1", scope="patient/*.rs")
    assert client.get(f"/goals/{goal_id}", headers=own).status_code == 200
    assert client.get(f"/episodes/{episode_id}/plan", headers=own).status_code == 200
    other = issuer.bearer("user-18", "client", patient="client-2", scope="patient/*.rs")
    for path in (f"/goals/{goal_id}", f"/episodes/{episode_id}/plan", "/clients/client-1/plans"):
        problem = _refused(client.get(path, headers=other), 403, "not-authorized")
        assert "own" in problem["detail"]
    unnamed = issuer.bearer("user-19", "client", scope="patient/*.rs")
    problem = _refused(client.get(f"/goals/{goal_id}", headers=unnamed), 401, "not-authenticated")
    assert problem["field"] == "patient"


def test_a_patient_scope_covers_only_the_tokens_own_client(
    served: tuple[TestClient, str, str], issuer: Issuer
) -> None:
    client, _episode, goal_id = served
    elsewhere = issuer.bearer("therapist-1", "therapist", patient="client-2", scope="patient/*.*")
    problem = _refused(client.get(f"/goals/{goal_id}", headers=elsewhere), 403, "not-authorized")
    assert "patient/ scope" in problem["detail"]
    here = issuer.bearer("therapist-1", "therapist", patient="client-1", scope="patient/*.*")
    assert client.get(f"/goals/{goal_id}", headers=here).status_code == 200


def test_scopes_parse_smart_v1_and_v2_forms() -> None:
    grants, given = parse_scopes("openid user/Goal.rs patient/Observation.c system/*.read bad/x.y")
    assert len(given) == 5
    covered = {
        (grant.context, grant.resource, "".join(sorted(grant.interactions))) for grant in grants
    }
    assert covered == {
        ("user", "Goal", "rs"),
        ("patient", "Observation", "c"),
        ("system", "*", "rs"),
    }
    assert parse_scopes(["user/Goal.cruds"])[0][0].covers("Goal", "d")
    assert parse_scopes(None) == ((), ())


def test_the_server_refuses_to_start_without_keys(tmp_path: Path, issuer: Issuer) -> None:
    with pytest.raises(InvalidValueError) as refused:
        create_app(ServerSettings(db=str(tmp_path / "a.db")))
    assert refused.value.field == "keys"
    jwks = issuer.write_jwks(tmp_path / "jwks.json")
    with pytest.raises(InvalidValueError) as refused:
        create_app(ServerSettings(db=str(tmp_path / "a.db"), keys=str(jwks)))
    assert refused.value.field == "issuer"
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), encoding="utf-8")
    with pytest.raises(InvalidValueError, match="RSA, EC or OKP"):
        create_app(ServerSettings(db=":memory:", keys=str(secret), issuer="i", audience="a"))


def test_insecure_dev_is_announced_on_every_response(
    tmp_path: Path, issuer: Issuer, caplog: pytest.LogCaptureFixture
) -> None:
    api = create_app(ServerSettings(db=str(tmp_path / "dev.db"), insecure_dev=True))
    assert "INSECURE DEV MODE" in caplog.text
    with TestClient(api, raise_server_exceptions=False) as client:
        claims = json.dumps(issuer.claims("s", "system")).encode()
        header = b64url(b'{"alg": "none"}')
        unsigned = f"{header}.{b64url(claims)}."
        responses = [
            client.get("/templates", headers={"Authorization": f"Bearer {unsigned}"}),
            client.get("/templates"),
            client.get("/no-such-route"),
        ]
    assert [response.status_code for response in responses] == [200, 401, 404]
    assert all(response.headers["Goalpath-Insecure-Dev"] == "true" for response in responses)
