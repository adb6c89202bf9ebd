"""What the FHIR REST tests share: a served episode whose goals have a history worth reading."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import attrs
from fastapi import FastAPI

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from goalpath.core.application import GoalpathApp
from tests.server.support import SMART_DEFINITION, Issuer, in_process_server, open_episode

CLIENT: Final = "client-1"
R4B: Final = {"Accept": "application/fhir+json; fhirVersion=4.3"}

PHQ9_DEFINITION: Final = {
    "statement": "Lower my PHQ-9 score from 16 to 9 within 8 weeks by scheduling pleasant "
    "activities every day",
    "start_on": "2026-05-04",
    "measure": {
        "name": "PHQ-9 total score",
        "unit": "score",
        "direction": "decrease",
        "instrument": "phq-9",
        "minimum": 0,
        "maximum": 27,
    },
    "target": {"baseline": 16, "value": 9, "due_on": "2026-06-29"},
    "area": "symptom-relief",
}


@attrs.frozen
class Served:
    """A server with one episode of ``client-1`` and two goals with a few events each."""

    client: TestClient
    api: FastAPI
    app: GoalpathApp
    therapist: dict[str, str]
    episode_id: str
    walks_id: str
    phq9_id: str


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    document: dict[str, Any] = response.json()
    return document


@contextmanager
def served_episode(issuer: Issuer, folder: Path) -> Iterator[Served]:
    """The walks goal: stated, measured twice, refined, reviewed with GAS; PHQ-9: one score."""
    with in_process_server(issuer, folder) as (client, api, app):
        therapist = issuer.bearer("therapist-1", "therapist")
        episode_id = open_episode(client, therapist, CLIENT)
        walks = _ok(
            client.post(
                f"/episodes/{episode_id}/goals",
                json={"definition": SMART_DEFINITION, "activate": True},
                headers=therapist,
            ),
            201,
        )["id"]
        for value, day in ((1, "2026-05-10"), (2, "2026-05-17")):
            _ok(
                client.post(
                    f"/goals/{walks}/measurements",
                    json={"value": value, "observed_on": day},
                    headers=therapist,
                ),
                201,
            )
        refine = {
            "reason": "walking got easier",
            "target": {"baseline": 0, "value": 4, "due_on": "2026-07-13"},
        }
        _ok(client.post(f"/goals/{walks}/refine", json=refine, headers=therapist))
        review = {
            "achievement": "improving",
            "decision": "continue",
            "reviewed_on": "2026-05-25",
            "attainment": 1,
        }
        _ok(client.post(f"/goals/{walks}/reviews", json=review, headers=therapist))
        phq9 = _ok(
            client.post(
                f"/episodes/{episode_id}/goals",
                json={"definition": PHQ9_DEFINITION, "activate": True},
                headers=therapist,
            ),
            201,
        )["id"]
        _ok(
            client.post(
                f"/goals/{phq9}/measurements",
                json={"value": 16, "observed_on": "2026-05-20"},
                headers=therapist,
            ),
            201,
        )
        yield Served(client, api, app, therapist, episode_id, walks, phq9)


def outcome(response: Any, status: int, issue_code: str | None = None) -> dict[str, Any]:
    """The OperationOutcome of an error response, checked to be one (never a problem document)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json"), response.headers
    document: dict[str, Any] = response.json()
    assert document["resourceType"] == "OperationOutcome", document
    assert "Traceback" not in response.text
    if issue_code is not None:
        assert document["issue"][0]["code"] == issue_code, document
    return document
