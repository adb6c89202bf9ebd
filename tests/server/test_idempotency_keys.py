"""The ``Idempotency-Key`` header over real HTTP: a retried POST is written once.

A real ``goalpath serve`` subprocess on a free port of 127.0.0.1 (SQLite
with two workers, and PostgreSQL in a tenant schema of its own), called by a
therapist through httpx; every response is checked against the committed
docs/openapi.json. One key, one write: a retry answers the first response
(status, body, ``ETag``) even after later writes, the key given to another
request is refused (422 ``idempotency-key-reused``), two requests racing one
key from two threads store it once, a malformed header is refused (400), a
refused request binds no key, and the FHIR create of an Observation takes the
key too. The header's parsing is checked on its own first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from goalpath.server.idempotency_keys import MAX_KEY_LENGTH, parse_idempotency_key
from goalpath.server.problems import InvalidRequestError
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.server.served import OpenApiCheck, Served, serving
from tests.server.support import Issuer

MEASUREMENTS = "/goals/{goal_id}/measurements"


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ([], None),
        (['"8e03978e-40d5-43e8-bc93-6894a57f9324"'], "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (["retry-7"], "retry-7"),
        ([r'"a \"quoted\" key \\ here"'], r'a "quoted" key \ here'),
        (['"' + "k" * MAX_KEY_LENGTH + '"'], "k" * MAX_KEY_LENGTH),
    ],
)
def test_a_key_is_a_structured_string_or_an_unquoted_token(
    values: list[str], key: str | None
) -> None:
    assert parse_idempotency_key(values) == key


@pytest.mark.parametrize(
    "values",
    [
        ['"one"', '"two"'],
        ['"unterminated'],
        ["two words"],
        ['""'],
        ['"   "'],
        ['"caf\u00e9"'],
        ['"tab\there"'],
        ['"' + "k" * (MAX_KEY_LENGTH + 1) + '"'],
        ['"a" extra'],
    ],
)
def test_a_malformed_header_is_refused_naming_it(values: list[str]) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        parse_idempotency_key(values)
    assert refused.value.field == "Idempotency-Key"
    assert refused.value.code == "invalid-usage"


class Therapist:
    """The therapist's calls, each response checked against the OpenAPI."""

    def __init__(self, served: Served, issuer: Issuer) -> None:
        self.url = served.url
        self.headers = issuer.bearer("therapist-1", "therapist")
        self.check = OpenApiCheck()

    def call(
        self,
        method: str,
        template: str,
        *,
        body: dict[str, Any],
        key: str | bytes | None = None,
        **path: str,
    ) -> httpx.Response:
        """``method`` on ``template`` with ``body`` and, if given, the ``Idempotency-Key``."""
        headers = [(name.encode(), value.encode()) for name, value in self.headers.items()]
        if key is not None:
            headers.append((b"Idempotency-Key", key if isinstance(key, bytes) else key.encode()))
        # A client per call: each request on a connection of its own, as racing hosts would.
        with httpx.Client(base_url=self.url, timeout=60) as client:
            response = client.request(method, template.format(**path), json=body, headers=headers)
        self.check.check(method, template, response)
        return response

    def measurement_count(self, goal_id: str) -> int:
        """How many measurements the goal holds now."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            response = client.get(f"/goals/{goal_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        count: int = response.json()["measurement_count"]
        return count


def _goal(therapist: Therapist) -> tuple[str, str]:
    """An episode and an active goal of client-1, started a week ago; their ids."""
    today = datetime.now(UTC).astimezone().date()  # the server's: no observation in the future
    start = today - timedelta(days=7)
    opened = therapist.call(
        "POST",
        "/episodes",
        body={
            "client_id": "client-1",
            "therapist_ids": ["therapist-1"],
            "concerns": ["panic"],
            "opened_on": start.isoformat(),
        },
        key='"open-episode-1"',
    )
    assert opened.status_code == 201, opened.text
    episode = opened.json()["id"]
    definition = {
        "statement": "Walk to the corner shop alone three times a week by practising exposure",
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
    created = therapist.call(
        "POST",
        "/episodes/{episode_id}/goals",
        body={"definition": definition, "activate": True},
        key="create-goal-1",
        episode_id=episode,
    )
    assert created.status_code == 201, created.text
    return episode, created.json()["id"]


def _same(first: httpx.Response, second: httpx.Response) -> None:
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second.headers["ETag"] == first.headers["ETag"]


def _retried(therapist: Therapist, goal_id: str) -> None:
    """A measurement retried with its key is stored once, and answered as the first time."""
    today = datetime.now(UTC).astimezone().date().isoformat()
    body = {"value": 2, "observed_on": today}
    first = therapist.call("POST", MEASUREMENTS, body=body, key='"walks-1"', goal_id=goal_id)
    assert first.status_code == 201, first.text
    again = therapist.call("POST", MEASUREMENTS, body=body, key='"walks-1"', goal_id=goal_id)
    _same(first, again)
    assert therapist.measurement_count(goal_id) == 1
    # Another write, then the retry: still the first answer (the goal as that command left it).
    other = therapist.call("POST", MEASUREMENTS, body={"value": 1}, goal_id=goal_id)
    assert other.status_code == 201, other.text
    late = therapist.call("POST", MEASUREMENTS, body=body, key='"walks-1"', goal_id=goal_id)
    _same(first, late)
    assert therapist.measurement_count(goal_id) == 2
    # The key with another request: refused as the draft says, nothing stored.
    reused = therapist.call(
        "POST", MEASUREMENTS, body={**body, "value": 3}, key='"walks-1"', goal_id=goal_id
    )
    assert reused.status_code == 422, reused.text
    assert reused.json()["code"] == "idempotency-key-reused"
    elsewhere = therapist.call(
        "POST",
        "/goals/{goal_id}/reviews",
        body={"achievement": "improving", "decision": "continue"},
        key='"walks-1"',
        goal_id=goal_id,
    )
    assert elsewhere.status_code == 422, elsewhere.text
    assert elsewhere.json()["code"] == "idempotency-key-reused"
    # A malformed key: refused, naming the header, nothing stored.
    for malformed in (b'"unterminated', b'"caf\xc3\xa9"', b'"' + b"k" * 201 + b'"'):
        refused = therapist.call("POST", MEASUREMENTS, body=body, key=malformed, goal_id=goal_id)
        assert refused.status_code == 400, refused.text
        assert refused.json()["field"] == "Idempotency-Key"
    assert therapist.measurement_count(goal_id) == 2
    # A refused request binds no key: corrected, the request is taken under the same key.
    out_of_range = therapist.call(
        "POST", MEASUREMENTS, body={**body, "value": -1}, key='"walks-2"', goal_id=goal_id
    )
    assert out_of_range.status_code == 422, out_of_range.text
    assert out_of_range.json()["code"] == "invalid-value"
    corrected = therapist.call("POST", MEASUREMENTS, body=body, key='"walks-2"', goal_id=goal_id)
    assert corrected.status_code == 201, corrected.text
    assert therapist.measurement_count(goal_id) == 3


def _raced(therapist: Therapist, goal_id: str) -> None:
    """Two requests racing one key from two threads: stored once, one answer to both."""
    before = therapist.measurement_count(goal_id)
    start = threading.Barrier(2)
    answers: list[httpx.Response] = []

    def post() -> None:
        start.wait()
        answers.append(
            therapist.call(
                "POST", MEASUREMENTS, body={"value": 3}, key='"raced-1"', goal_id=goal_id
            )
        )

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(answers) == 2
    first, second = answers
    assert first.status_code == 201, first.text
    _same(first, second)
    assert therapist.measurement_count(goal_id) == before + 1


def _fhir_created(therapist: Therapist, goal_id: str) -> None:
    """The FHIR create of an Observation, retried with its key: one measurement, one resource."""
    before = therapist.measurement_count(goal_id)
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "walks alone"},
        "focus": [{"reference": f"Goal/{goal_id}"}],
        "valueQuantity": {"value": 2, "unit": "per week"},
    }
    first = therapist.call("POST", "/fhir/Observation", body=observation, key='"fhir-1"')
    again = therapist.call("POST", "/fhir/Observation", body=observation, key='"fhir-1"')
    assert first.status_code == 201, first.text
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Location"] == first.headers["Location"]
    assert therapist.measurement_count(goal_id) == before + 1


def _keyed_requests(served: Served, issuer: Issuer) -> None:
    therapist = Therapist(served, issuer)
    episode, goal_id = _goal(therapist)
    _retried(therapist, goal_id)
    _raced(therapist, goal_id)
    _fhir_created(therapist, goal_id)
    # A keyed create, retried: the same goal, not a second one.
    today = datetime.now(UTC).astimezone().date().isoformat()
    own_words = {"definition": {"statement": "I want to be less anxious", "start_on": today}}
    stated, retried = (
        therapist.call(
            "POST",
            "/episodes/{episode_id}/goals",
            body=own_words,
            key="create-goal-2",
            episode_id=episode,
        )
        for _ in range(2)
    )
    assert stated.status_code == 201, stated.text
    _same(stated, retried)


def test_keyed_requests_are_written_once_on_sqlite_with_two_workers(
    issuer: Issuer, tmp_path: Path
) -> None:
    with serving(
        issuer, tmp_path, db=str(tmp_path / "keyed.db"), options=("--workers", "2")
    ) as served:
        _keyed_requests(served, issuer)
    assert served.stopped_cleanly(), served.log()


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_keyed_requests_are_written_once_on_postgresql(
    issuer: Issuer, tmp_path: Path, tenant: PostgresTenant
) -> None:
    with serving(
        issuer,
        tmp_path,
        db=tenant.url,
        options=("--workers", "2"),
        environment={"GOALPATH_TENANT": tenant.tenant, "GOALPATH_KEY": tenant.master_key.to_text()},
    ) as served:
        _keyed_requests(served, issuer)
    assert served.stopped_cleanly(), served.log()
