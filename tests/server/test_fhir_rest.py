"""FHIR REST over HTTP: Goal history from the event stream, vread as the export, search, create.

The resources served must be the ones ``goalpath export fhir`` gives
(:func:`goalpath.exports.fhir.export_episode`, which the command runs), and
every Bundle must validate with fhir.resources in R5 and in R4B.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalpath.core.authorization import Principal
from goalpath.exports.fhir import export_client, export_episode, validate_bundle
from goalpath.exports.fhir_vocabulary import fhir_instant
from tests.server.fhir_support import CLIENT, R4B, Served, served_episode
from tests.server.support import Issuer

VERSIONS = {"R5": {}, "R4B": R4B}


@pytest.fixture
def served(issuer: Issuer, tmp_path: Path) -> Iterator[Served]:
    """A served episode with two goals (see :func:`served_episode`)."""
    with served_episode(issuer, tmp_path) as served:
        yield served


def _get(served: Served, url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = served.client.get(url, headers={**served.therapist, **(headers or {})})
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


@pytest.mark.parametrize("release", ["R5", "R4B"])
def test_goal_history_lists_exactly_one_version_per_event(served: Served, release: str) -> None:
    events = served.app.goal_events(UUID(served.walks_id))
    assert len(events) == 5  # stated, measured twice, refined, reviewed
    bundle = _get(served, f"/fhir/Goal/{served.walks_id}/_history", VERSIONS[release])
    assert bundle["type"] == "history"
    assert bundle["total"] == len(events) == len(bundle["entry"])
    versions = [entry["resource"]["meta"] for entry in bundle["entry"]]
    assert [meta["versionId"] for meta in versions] == [str(n) for n in range(5, 0, -1)]
    assert [meta["lastUpdated"] for meta in reversed(versions)] == [
        fhir_instant(event.timestamp) for event in events
    ]
    assert [entry["request"]["method"] for entry in bundle["entry"]][-2:] == ["PUT", "POST"]
    validate_bundle(bundle)


@pytest.mark.parametrize("release", ["R5", "R4B"])
def test_vread_of_each_version_equals_the_export_as_of_its_recorded_time(
    served: Served, release: str
) -> None:
    events = served.app.goal_events(UUID(served.walks_id))
    for event in events:
        number = event.originator_version
        served_goal = _get(
            served, f"/fhir/Goal/{served.walks_id}/_history/{number}", VERSIONS[release]
        )
        exported = export_episode(
            served.app,
            UUID(served.episode_id),
            fhir_version=release,
            as_of=event.timestamp,
            time_zone=UTC,
        )
        [goal] = [
            entry["resource"]
            for entry in exported["entry"]
            if entry["resource"]["id"] == served.walks_id
        ]
        assert served_goal == goal, f"version {number}"
        assert served_goal["meta"]["versionId"] == str(number)


def test_read_is_the_latest_version_with_its_etag_and_is_logged(served: Served) -> None:
    response = served.client.get(f"/fhir/Goal/{served.walks_id}", headers=served.therapist)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json; fhirVersion=5.0"
    assert response.headers["etag"] == 'W/"5"'
    latest = _get(served, f"/fhir/Goal/{served.walks_id}/_history/5")
    assert response.json() == latest
    reads = served.app.access_log(principal=Principal("auditor-1", "auditor"), client_id=CLIENT)
    assert any(r.read == "goal" and r.goal_id == UUID(served.walks_id) for r in reads)


@pytest.mark.parametrize("release", ["R5", "R4B"])
@pytest.mark.parametrize("kind", ["Goal", "CarePlan", "Observation", "Provenance"])
def test_a_search_is_a_searchset_of_the_exported_resources_and_validates(
    served: Served, kind: str, release: str
) -> None:
    bundle = _get(served, f"/fhir/{kind}?patient={CLIENT}", VERSIONS[release])
    assert bundle["type"] == "searchset"
    validate_bundle(bundle)
    exported = export_client(served.app, CLIENT, fhir_version=release)
    expected = [e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == kind]
    assert [entry["resource"] for entry in bundle["entry"]] == expected
    assert bundle["total"] == len(expected) > 0
    assert {entry["search"]["mode"] for entry in bundle["entry"]} == {"match"}


def test_search_by_lifecycle_status_code_and_last_updated(served: Served) -> None:
    def ids(url: str) -> list[str]:
        return [entry["resource"]["id"] for entry in _get(served, url)["entry"]]

    both = [served.walks_id, served.phq9_id]
    assert ids(f"/fhir/Goal?subject=Patient/{CLIENT}&lifecycle-status=active") == both
    assert ids(f"/fhir/Goal?patient={CLIENT}&lifecycle-status=on-hold,completed") == []
    phq9 = ids(f"/fhir/Observation?patient={CLIENT}&code=http://loinc.org|44261-6")
    assert len(phq9) == 1
    assert ids(f"/fhir/Observation?patient={CLIENT}&code=44261-6") == phq9
    assert ids(f"/fhir/Observation?patient={CLIENT}&code=http://loinc.org|70274-6") == []
    # The walks goal's second measurement was recorded after its first: split by its time.
    [first, second] = [
        event
        for event in served.app.goal_events(UUID(served.walks_id))
        if event.originator_version in (2, 3)
    ]
    moment = fhir_instant(second.timestamp).replace("+00:00", "Z")
    later = ids(f"/fhir/Observation?patient={CLIENT}&_lastUpdated=ge{moment}")
    earlier = ids(f"/fhir/Observation?patient={CLIENT}&_lastUpdated=lt{moment}")
    assert len(earlier) == 1
    assert set(later).isdisjoint(earlier)
    assert len(later) + len(earlier) == len(ids(f"/fhir/Observation?patient={CLIENT}"))
    assert first.timestamp < second.timestamp
    day = second.timestamp.date().isoformat()
    assert ids(f"/fhir/Goal?patient={CLIENT}&_lastUpdated={day}") == both
    assert ids(f"/fhir/Goal?patient={CLIENT}&_lastUpdated=gt{day}") == []
    assert ids(f"/fhir/Provenance?patient:identifier={CLIENT}&_lastUpdated=le{day}") == ids(
        f"/fhir/Provenance?patient={CLIENT}"
    )


def test_a_search_of_a_client_without_episodes_is_empty(served: Served, issuer: Issuer) -> None:
    supervisor = issuer.bearer("supervisor-1", "supervisor")
    response = served.client.get("/fhir/Goal?patient=nobody", headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 0


def _observation(goal_id: str, value: float, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "walks alone"},
        "focus": [{"reference": f"Goal/{goal_id}"}],
        "effectiveDateTime": "2026-05-28",
        "valueQuantity": {"value": value, "unit": "per week"},
        **extra,
    }


def test_create_observation_records_a_measurement_seen_in_read_search_and_progress(
    served: Served,
) -> None:
    response = served.client.post(
        "/fhir/Observation",
        json=_observation(served.walks_id, 3, note=[{"text": "walked in the rain"}]),
        headers={**served.therapist, "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"].endswith(f"/fhir/Observation/{created['id']}")
    assert created["valueQuantity"]["value"] == 3
    assert created["effectiveDateTime"] == "2026-05-28"
    series = served.app.goal_measurements(UUID(served.walks_id))
    assert [m.value for m in series] == [1, 2, 3]
    assert series[-1].note == "walked in the rain"
    assert _get(served, f"/fhir/Goal/{served.walks_id}")["meta"]["versionId"] == "6"
    found = _get(served, f"/fhir/Observation?patient={CLIENT}")
    assert created in [entry["resource"] for entry in found["entry"]]
    progress = _get(served, f"/goals/{served.walks_id}/progress")
    assert [point["value"] for point in progress["series"]] == [1, 2, 3]
