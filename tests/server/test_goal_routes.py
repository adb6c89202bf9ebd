"""Goal routes over HTTP: idempotent creation, ETag/If-Match, and problem documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import ERROR_CODES
from goalpath.server.problems import STATUS_OF_CODE
from tests.server.support import SMART_DEFINITION, Issuer, in_process_server, open_episode

Served = tuple[TestClient, FastAPI, GoalpathApp, dict[str, str], str]


@pytest.fixture
def served(issuer: Issuer, tmp_path: Path) -> Iterator[Served]:
    """A server with one episode; yields client, api, app, a therapist's headers, the episode."""
    with in_process_server(issuer, tmp_path) as (client, api, app):
        therapist = issuer.bearer("therapist-1", "therapist")
        yield client, api, app, therapist, open_episode(client, therapist)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    document: dict[str, Any] = response.json()
    assert (document["status"], document["code"]) == (status, code)
    return document


def test_a_retried_put_returns_the_same_goal_and_a_different_body_is_409(
    served: Served,
) -> None:
    client, _api, app, therapist, episode_id = served
    goal_id = str(uuid.uuid4())
    body = {"episode_id": episode_id, "definition": SMART_DEFINITION, "activate": True}
    first = client.put(f"/goals/{goal_id}", json=body, headers=therapist)
    assert first.status_code == 201, first.text
    retried = client.put(f"/goals/{goal_id}", json=body, headers=therapist)
    assert retried.status_code == 200
    assert retried.json() == first.json()
    assert [str(goal.id) for goal in app.list_goals(uuid.UUID(episode_id))] == [goal_id]
    different = {**body, "definition": {**SMART_DEFINITION, "statement": "Sleep by eleven"}}
    problem = _problem(
        client.put(f"/goals/{goal_id}", json=different, headers=therapist), 409, "duplicate-id"
    )
    assert goal_id in problem["detail"]
    assert len(app.list_goals(uuid.UUID(episode_id))) == 1


def test_if_match_is_the_expected_version_and_a_stale_one_is_412(served: Served) -> None:
    client, _api, _app, therapist, episode_id = served
    created = client.post(
        f"/episodes/{episode_id}/goals",
        json={"definition": SMART_DEFINITION, "activate": True},
        headers=therapist,
    )
    goal_id, shown = created.json()["id"], created.headers["ETag"]
    assert shown == f'"{created.json()["version"]}"'
    measured = client.post(
        f"/goals/{goal_id}/measurements",
        json={"value": 1, "observed_on": "2026-05-20"},
        headers={**therapist, "If-Match": shown},
    )
    assert measured.status_code == 201, measured.text
    assert measured.json()["sequence"] == 1
    refine = {"reason": "more walks", "target": {"baseline": 0, "value": 4, "due_on": "2026-07-13"}}
    stale = client.post(
        f"/goals/{goal_id}/refine", json=refine, headers={**therapist, "If-Match": shown}
    )
    problem = _problem(stale, 412, "version-conflict")
    assert problem["error_type"] == "ConflictError"
    current = measured.headers["ETag"]
    fresh = client.post(
        f"/goals/{goal_id}/refine", json=refine, headers={**therapist, "If-Match": current}
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["definition"]["target"]["value"] == 4
    _problem(
        client.post(f"/goals/{goal_id}/activate", headers={**therapist, "If-Match": "yesterday"}),
        400,
        "invalid-usage",
    )


def test_domain_refusals_keep_their_code_field_and_accepted(served: Served) -> None:
    client, _api, _app, therapist, episode_id = served
    vague = {"definition": {"statement": "I want to be less anxious", "start_on": "2026-05-04"}}
    refused = client.post(
        f"/episodes/{episode_id}/goals", json={**vague, "activate": True}, headers=therapist
    )
    problem = _problem(refused, 422, "not-smart")
    assert problem["title"]
    measure = {"name": "walks alone", "unit": "per week", "direction": "up"}
    bad_direction = {"definition": {**SMART_DEFINITION, "measure": measure}}
    malformed = client.post(f"/episodes/{episode_id}/goals", json=bad_direction, headers=therapist)
    problem = _problem(malformed, 400, "invalid-usage")
    assert problem["field"] == "body.definition.measure.direction"
    unknown = client.get(f"/goals/{uuid.uuid4()}", headers=therapist)
    _problem(unknown, 404, "not-found")
    _problem(client.get("/no-such-route", headers=therapist), 404, "not-found")
    _problem(client.delete(f"/episodes/{episode_id}", headers=therapist), 405, "invalid-usage")


def test_an_unexpected_failure_is_a_bare_500_problem_without_a_stack_trace(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    client, api, _app, _therapist, _episode = served

    def broken() -> None:
        raise RuntimeError("secret-detail in /srv/goalpath/store.db")

    api.router.add_api_route("/broken", broken)
    response = client.get("/broken")
    problem = _problem(response, 500, "internal-error")
    assert "secret-detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert problem["error_type"] == "InternalError"
    assert "secret-detail" in caplog.text  # kept in the server's log


def test_every_error_code_has_an_http_status() -> None:
    assert set(STATUS_OF_CODE) == set(ERROR_CODES)
