"""``goalpath serve`` end to end: an episode by HTTP only, every response as the OpenAPI says.

The installed command runs as a subprocess on a free port of 127.0.0.1,
with a key set made for the test; a therapist, a client and an auditor,
each with their own token, go through an episode (open, goals,
measurements, review, retire) over HTTP (httpx), and every response is
checked against the committed docs/openapi.json
(:class:`tests.server.served.OpenApiCheck`). On SQLite with two workers,
and on PostgreSQL (a tenant schema of its own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.server.served import OpenApiCheck, Served, serving
from tests.server.support import Issuer


class Session:
    """Calls the server as one person and checks each response against the OpenAPI."""

    def __init__(self, served: Served, token: str, check: OpenApiCheck) -> None:
        self.client = httpx.Client(
            base_url=served.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )
        self.check = check

    def call(
        self,
        method: str,
        template: str,
        status: int,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        **path: str,
    ) -> httpx.Response:
        """``method`` on ``template`` filled with ``path``; the status must be ``status``."""
        response = self.client.request(
            method, template.format(**path), json=body, headers=headers, params=params
        )
        self.check.check(method, template, response)
        assert response.status_code == status, response.text
        return response

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


LIFECYCLE = {
    ("POST", "/episodes"),
    ("POST", "/episodes/{episode_id}/goals"),
    ("PUT", "/goals/{goal_id}"),
    ("POST", "/goals/{goal_id}/activate"),
    ("POST", "/goals/{goal_id}/measurements"),
    ("POST", "/goals/{goal_id}/reviews"),
    ("POST", "/goals/{goal_id}/retire"),
    ("POST", "/episodes/{episode_id}/close"),
    ("GET", "/goals/{goal_id}/history"),
    ("GET", "/audit/verify"),
}
"""Operations the episode goes through (among others)."""


def _episode(served: Served, issuer: Issuer) -> list[tuple[str, str, int]]:
    """Go through one episode as a therapist, a client and an auditor; return what was checked."""
    check = OpenApiCheck()
    today = datetime.now(UTC).astimezone().date()  # the server's: no observation in the future
    start = today - timedelta(days=21)
    therapist = Session(served, issuer.token("therapist-1", "therapist"), check)
    client = Session(
        served,
        issuer.token("client-1", "client", patient="client-1", scope="patient/*.cruds"),
        check,
    )
    auditor = Session(served, issuer.token("auditor-1", "auditor", scope="user/*.rs"), check)
    try:
        _go_through(therapist, client, auditor, start, today)
    finally:
        for person in (therapist, client, auditor):
            person.close()
    return check.checked


def _definition(statement: str, start: date) -> dict[str, Any]:
    return {
        "statement": statement,
        "start_on": start.isoformat(),
        "measure": {
            "name": "walks alone",
            "unit": "per week",
            "direction": "increase",
            "minimum": 0,
        },
        "target": {"baseline": 0, "value": 3, "due_on": (start + timedelta(weeks=10)).isoformat()},
        "area": "behavioural-change",
    }


def _go_through(
    therapist: Session, client: Session, auditor: Session, start: date, today: date
) -> None:
    opened = therapist.call(
        "POST",
        "/episodes",
        201,
        body={
            "client_id": "client-1",
            "therapist_ids": ["therapist-1"],
            "concerns": ["panic attacks"],
            "opened_on": start.isoformat(),
        },
    ).json()
    episode = opened["id"]
    therapist.call(
        "POST",
        "/episodes/{episode_id}/sessions",
        201,
        body={"held_on": start.isoformat()},
        episode_id=episode,
    )
    # The therapist states a SMART goal; the client agrees to it by activating it.
    statement = "Walk to the corner shop alone three times a week by practising graded exposure"
    goal = therapist.call(
        "POST",
        "/episodes/{episode_id}/goals",
        201,
        body={"definition": _definition(statement, start)},
        episode_id=episode,
    )
    goal_id = goal.json()["id"]
    assert goal.json()["status"] == "proposed"
    activated = client.call(
        "POST",
        "/goals/{goal_id}/activate",
        200,
        headers={"If-Match": goal.headers["ETag"]},
        goal_id=goal_id,
    )
    assert activated.json()["status"] == "active"
    # The client proposes a goal in their own words, under a caller-supplied id.
    own_words = client.call(
        "PUT",
        "/goals/{goal_id}",
        201,
        body={
            "episode_id": episode,
            "definition": {"statement": "I want to be less anxious", "start_on": start.isoformat()},
        },
        goal_id="6f1d2c1e-0000-4000-8000-000000000042",
    ).json()
    assert own_words["smart"]["passed"] is False

    # Measurements by both; the client cannot write to another client's record.
    client.call(
        "POST",
        "/goals/{goal_id}/measurements",
        201,
        body={"value": 1, "observed_on": (today - timedelta(days=7)).isoformat()},
        goal_id=goal_id,
    )
    recorded = therapist.call(
        "POST",
        "/goals/{goal_id}/measurements",
        201,
        body={"value": 2, "observed_on": today.isoformat(), "note": "walked twice"},
        goal_id=goal_id,
    )
    assert recorded.json()["sequence"] == 2
    progress = client.call("GET", "/goals/{goal_id}/progress", 200, goal_id=goal_id).json()
    assert [point["value"] for point in progress["series"]] == [1, 2]
    client.call("GET", "/clients/{client_id}/plans", 200, client_id="client-1")
    client.call("GET", "/clients/{client_id}/plans", 403, client_id="client-2")
    auditor.call("POST", "/goals/{goal_id}/measurements", 403, body={"value": 3}, goal_id=goal_id)

    # Review, then retire: achieved.
    reviewed = therapist.call(
        "POST",
        "/goals/{goal_id}/reviews",
        200,
        body={"achievement": "improving", "decision": "continue", "attainment": 0},
        goal_id=goal_id,
    )
    stale = therapist.call(
        "POST",
        "/goals/{goal_id}/retire",
        412,
        body={"reason_code": "achieved", "reason": "walks alone now"},
        headers={"If-Match": activated.headers["ETag"]},
        goal_id=goal_id,
    )
    assert stale.json()["code"] == "version-conflict"
    retired = therapist.call(
        "POST",
        "/goals/{goal_id}/retire",
        200,
        body={"reason_code": "achieved", "reason": "walks alone now"},
        headers={"If-Match": reviewed.headers["ETag"]},
        goal_id=goal_id,
    ).json()
    assert retired["status"] == "completed"
    therapist.call("GET", "/episodes/{episode_id}/goals", 200, episode_id=episode)
    therapist.call("GET", "/episodes/{episode_id}/plan", 200, episode_id=episode)
    therapist.call("GET", "/reviews/due", 200)

    # The auditor reads the history, the audit log, the access log and the verification.
    history = auditor.call("GET", "/goals/{goal_id}/history", 200, goal_id=goal_id).json()
    assert [entry["event_type"] for entry in history["events"]][:2] == ["Created", "Activated"]
    auditor.call("GET", "/audit/log", 200, params={"goal_id": goal_id})
    access = auditor.call("GET", "/audit/access", 200, params={"client_id": "client-1"}).json()
    assert {"client-1", "therapist-1"} <= {read["actor_id"] for read in access["reads"]}
    assert auditor.call("GET", "/audit/verify", 200).json()["problems"] == []
    auditor.call("GET", "/outcomes", 200)
    auditor.call(
        "POST",
        "/episodes/{episode_id}/close",
        403,
        body={"reason": "discharged"},
        episode_id=episode,
    )
    closed = therapist.call(
        "POST",
        "/episodes/{episode_id}/close",
        200,
        body={"reason": "discharged"},
        episode_id=episode,
    )
    assert closed.json()["close_reason"] == "discharged"


def test_an_episode_by_http_only_on_sqlite_with_two_workers(issuer: Issuer, tmp_path: Path) -> None:
    with serving(
        issuer, tmp_path, db=str(tmp_path / "served.db"), options=("--workers", "2")
    ) as served:
        checked = _episode(served, issuer)
    assert served.stopped_cleanly(), served.log()
    assert served.log().count("Application shutdown complete") == 2  # both workers
    assert {(method, template) for method, template, _status in checked} >= LIFECYCLE
    assert {status for _method, _template, status in checked} == {200, 201, 403, 412}


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_an_episode_by_http_only_on_postgresql(
    issuer: Issuer, tmp_path: Path, tenant: PostgresTenant
) -> None:
    with serving(
        issuer,
        tmp_path,
        db=tenant.url,
        options=("--json",),
        environment={"GOALPATH_TENANT": tenant.tenant, "GOALPATH_KEY": tenant.master_key.to_text()},
    ) as served:
        checked = _episode(served, issuer)
    assert served.stopped_cleanly(), served.log()
    assert {(method, template) for method, template, _status in checked} >= LIFECYCLE
    serving_document = json.loads(served.stdout.read_text(encoding="utf-8"))
    assert serving_document["tenant"] == tenant.tenant
    assert serving_document["store"].startswith("PostgreSQL ")
