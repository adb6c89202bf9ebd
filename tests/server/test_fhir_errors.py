"""FHIR REST refusals: every error an OperationOutcome; scopes, releases, CapabilityStatement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fhir.resources import get_fhir_model_class
from fhir.resources.R4B import get_fhir_model_class as get_r4b_model_class

from goalpath.core.authorization import Principal
from tests.server.fhir_support import CLIENT, R4B, Served, outcome, served_episode
from tests.server.support import Issuer


@pytest.fixture
def served(issuer: Issuer, tmp_path: Path) -> Iterator[Served]:
    """A served episode with two goals (see :func:`served_episode`)."""
    with served_episode(issuer, tmp_path) as served:
        yield served


def test_the_capability_statement_validates_and_lists_exactly_what_is_served(
    served: Served,
) -> None:
    response = served.client.get("/fhir/metadata")  # no token: a FHIR client reads it first
    assert response.status_code == 200, response.text
    statement = response.json()
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    assert statement["fhirVersion"] == "5.0.0"
    r4b = served.client.get("/fhir/metadata", headers=R4B)
    assert r4b.headers["content-type"] == "application/fhir+json; fhirVersion=4.3"
    get_r4b_model_class("CapabilityStatement").model_validate(r4b.json())
    assert r4b.json()["fhirVersion"] == "4.3.0"
    interaction_paths = {
        "read": ("GET", "/fhir/{type}/{goal_id}"),
        "vread": ("GET", "/fhir/{type}/{goal_id}/_history/{version_id}"),
        "history-instance": ("GET", "/fhir/{type}/{goal_id}/_history"),
        "search-type": ("GET", "/fhir/{type}"),
        "create": ("POST", "/fhir/{type}"),
    }
    described = {
        (method, path.replace("{type}", resource["type"]))
        for resource in statement["rest"][0]["resource"]
        for method, path in (interaction_paths[i["code"]] for i in resource["interaction"])
    }
    routes = {
        (method.upper(), path)
        for path, operations in served.api.openapi()["paths"].items()
        if path.startswith("/fhir/") and path not in ("/fhir/metadata", "/fhir/$versions")
        for method in operations
    }
    assert described == routes


def test_each_search_declares_the_parameters_the_capability_statement_lists(
    served: Served,
) -> None:
    statement = served.client.get("/fhir/metadata").json()
    paths = served.api.openapi()["paths"]
    for resource in statement["rest"][0]["resource"]:
        listed = [(p["name"], p["documentation"]) for p in resource.get("searchParam", [])]
        declared = [
            (parameter["name"], parameter["description"])
            for parameter in paths[f"/fhir/{resource['type']}"]["get"]["parameters"]
            if parameter["in"] == "query"
        ]
        assert declared == listed, resource["type"]
        assert listed, resource["type"]  # every served type is searched


def test_the_release_is_asked_for_by_accept_or_format_and_others_are_406(served: Served) -> None:
    url = f"/fhir/Goal/{served.walks_id}"
    for headers, query, expected in (
        ({}, "", "5.0"),
        ({"Accept": "application/fhir+json"}, "", "5.0"),
        ({"Accept": "application/fhir+json; fhirVersion=5.0"}, "", "5.0"),
        (R4B, "", "4.3"),
        ({}, "?_format=json", "5.0"),
        ({}, "?_format=application/fhir%2Bjson;fhirVersion=4.3", "4.3"),
        ({}, "?_format=application/fhir+json;fhirVersion=4.3", "4.3"),
    ):
        response = served.client.get(url + query, headers={**served.therapist, **headers})
        assert response.status_code == 200, (headers, query, response.text)
        assert response.headers["content-type"] == f"application/fhir+json; fhirVersion={expected}"
    for headers, query in (
        ({"Accept": "application/fhir+json; fhirVersion=4.0"}, ""),
        ({"Accept": "application/fhir+xml"}, ""),
        ({}, "?_format=xml"),
    ):
        response = served.client.get(url + query, headers={**served.therapist, **headers})
        document = outcome(response, 406, "invalid")
        assert "fhirVersion" in document["issue"][0]["diagnostics"]


def test_goalpath_errors_are_operation_outcomes_with_their_statuses(
    served: Served, issuer: Issuer
) -> None:
    client, therapist = served.client, served.therapist
    unauthenticated = client.get(f"/fhir/Goal/{served.walks_id}")
    outcome(unauthenticated, 401, "login")
    assert unauthenticated.headers["www-authenticate"].startswith("Bearer")
    outcome(client.get(f"/fhir/Goal/{uuid4()}", headers=therapist), 404, "not-found")
    outcome(client.get(f"/fhir/Goal/{served.walks_id}/_history/9", headers=therapist), 404)
    outcome(client.get("/fhir/Goal/not-a-uuid", headers=therapist), 400, "invalid")
    outcome(client.get("/fhir/Patient/1", headers=therapist), 404, "not-found")
    outcome(client.delete(f"/fhir/Goal/{served.walks_id}", headers=therapist), 405)
    other = issuer.bearer("therapist-2", "therapist")
    outcome(client.get(f"/fhir/Goal/{served.walks_id}", headers=other), 403, "forbidden")
    outcome(client.get(f"/fhir/Goal?patient={CLIENT}", headers=other), 403, "forbidden")
    supervisor = Principal("supervisor-1", "supervisor")
    served.app.erase_client(CLIENT, reason="erasure request 12", actor=supervisor)
    outcome(client.get(f"/fhir/Goal/{served.walks_id}", headers=therapist), 410, "deleted")
    outcome(client.get(f"/fhir/Goal/{served.walks_id}/_history", headers=therapist), 410)


def test_unknown_search_parameters_are_refused_unless_lenient(served: Served) -> None:
    client, therapist = served.client, served.therapist
    refused = outcome(
        client.get(f"/fhir/Goal?patient={CLIENT}&category=x", headers=therapist), 400, "invalid"
    )
    assert "category" in refused["issue"][0]["diagnostics"]
    outcome(client.get(f"/fhir/Goal?patient={CLIENT}&code=x", headers=therapist), 400)
    for query in (
        "lifecycle-status=active",
        f"patient={CLIENT}&lifecycle-status=x",
        f"patient={CLIENT}&_lastUpdated=ne2026",
        f"patient={CLIENT}&_lastUpdated=ge2026-13",
        f"patient={CLIENT}&_lastUpdated=2026-05-01T10",
        "patient=Group/7",
        "patient=client-1,client-2",
        f"patient={CLIENT}&subject=client-2",
        "patient:identifier=https://example.org|client-1",
    ):
        outcome(client.get(f"/fhir/Goal?{query}", headers=therapist), 400, "invalid")
    lenient = client.get(
        f"/fhir/Goal?patient={CLIENT}&category=x",
        headers={**therapist, "Prefer": "handling=lenient"},
    )
    assert lenient.status_code == 200, lenient.text
    bundle = lenient.json()
    assert bundle["total"] == 2
    [warning] = [e for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert warning["resource"]["issue"][0]["severity"] == "warning"


def test_scopes_refuse_the_interactions_they_do_not_cover(served: Served, issuer: Issuer) -> None:
    client = served.client
    reader = issuer.bearer("therapist-1", "therapist", scope="user/Goal.r")
    assert client.get(f"/fhir/Goal/{served.walks_id}", headers=reader).status_code == 200
    assert client.get(f"/fhir/Goal/{served.walks_id}/_history", headers=reader).status_code == 200
    refused = client.get(f"/fhir/Goal?patient={CLIENT}", headers=reader)
    outcome(refused, 403, "forbidden")
    assert 'scope="user/Goal.s"' in refused.headers["www-authenticate"]
    outcome(client.get(f"/fhir/Observation?patient={CLIENT}", headers=reader), 403)
    searcher = issuer.bearer("therapist-1", "therapist", scope="user/Observation.rs")
    body = _observation(served.walks_id)
    outcome(client.post("/fhir/Observation", json=body, headers=searcher), 403, "forbidden")
    assert len(served.app.goal_measurements(UUID(served.walks_id))) == 2
    own = issuer.bearer(CLIENT, "client", patient=CLIENT, scope="patient/Goal.rs")
    assert client.get(f"/fhir/Goal?patient={CLIENT}", headers=own).status_code == 200
    outcome(client.get("/fhir/Goal?patient=client-2", headers=own), 403, "forbidden")


def _stored(served: Served) -> int:
    """How many events the store holds (access records included)."""
    return sum(1 for _ in served.app.iter_events())


def test_a_vread_of_a_version_that_does_not_exist_writes_nothing(served: Served) -> None:
    before = _stored(served)
    url = f"/fhir/Goal/{served.walks_id}/_history/6"
    outcome(served.client.get(url, headers=served.therapist), 404, "not-found")
    assert _stored(served) == before
    earlier = f"/fhir/Goal/{served.walks_id}/_history/5"
    assert served.client.get(earlier, headers=served.therapist).status_code == 200
    assert _stored(served) == before + 1  # the read, logged


def test_a_caller_refused_the_goal_learns_nothing_of_its_versions(
    served: Served, issuer: Issuer
) -> None:
    """A vread past the last version and one of a version that exists are refused alike."""
    stranger = issuer.bearer("therapist-9", "therapist", scope="user/Goal.r")
    before = _stored(served)
    for version in (5, 6, 60):
        url = f"/fhir/Goal/{served.walks_id}/_history/{version}"
        outcome(served.client.get(url, headers=stranger), 403, "forbidden")
    assert _stored(served) == before


def _observation(goal_id: str, **changes: Any) -> dict[str, Any]:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "walks alone"},
        "focus": [{"reference": f"Goal/{goal_id}"}],
        "subject": {"reference": f"Patient/{CLIENT}"},
        "effectiveDateTime": "2026-05-28",
        "valueQuantity": {"value": 3, "unit": "per week"},
    }
    observation.update(changes)
    return {key: value for key, value in observation.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "status", "element"),
    [
        ({"focus": None}, 422, "Observation.focus"),
        ({"focus": [{"reference": "Patient/1"}]}, 422, "Observation.focus[0].reference"),
        ({"status": "registered"}, 422, "Observation.status"),
        ({"valueQuantity": None}, 422, "Observation.valueQuantity"),
        ({"valueQuantity": {"value": 3, "unit": "km"}}, 422, "Observation.valueQuantity.unit"),
        ({"subject": {"reference": "Patient/client-2"}}, 422, "Observation.subject.reference"),
        ({"resourceType": "Goal"}, 422, "Observation.resourceType"),
        ({"valueQuantity": {"value": -1}}, 422, None),
        ({"effectiveDateTime": "2026-07-01"}, 422, None),
        ({"focus": [{"reference": f"Goal/{UUID(int=7)}"}]}, 404, None),
    ],
)
def test_a_create_goalpath_refuses_is_an_operation_outcome_and_records_nothing(
    served: Served, changes: dict[str, Any], status: int, element: str | None
) -> None:
    before = _stored(served)
    response = served.client.post(
        "/fhir/Observation", json=_observation(served.walks_id, **changes), headers=served.therapist
    )
    document = outcome(response, status)
    if element is not None:
        assert document["issue"][0]["expression"] == [element]
    assert _stored(served) == before  # not even an access record
