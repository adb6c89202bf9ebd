"""FHIR round trip: export -> import into a fresh store -> export gives the same resources.

For the demo and for generated histories, R5 and R4B, collection and
transaction bundles. The comparison is resource by resource, every element,
except the CarePlan's ``meta`` (its versionId and lastUpdated count the
episode's sessions, which the export does not carry; docs/fhir.md says so).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.cli.demo import build_demo
from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor
from goalpath.exports.fhir import export_client, export_episode
from goalpath.exports.fhir_import import import_bundle, reverse_mapping
from tests.strategies import (
    THERAPIST,
    TODAY,
    EpisodeHistory,
    episode_histories,
    record_episode_history,
)

IMPORTER: Final = Actor("migration-job", "system")
FIXED: Final[dict[str, Any]] = {
    "generated_at": datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
    "bundle_id": UUID("e1d2c3b4-a5f6-4e7d-8c9b-0a1b2c3d4e5f"),
}
VERSIONS: Final = ("R5", "R4B")
BUNDLE_TYPES: Final = ("collection", "transaction")


def comparable(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The bundle's entries, each CarePlan without its meta (sessions are not exported)."""
    entries = json.loads(json.dumps(bundle["entry"]))
    for entry in entries:
        if entry["resource"]["resourceType"] == "CarePlan":
            del entry["resource"]["meta"]
    return list(entries)


def assert_same_resources(first: dict[str, Any], second: dict[str, Any]) -> None:
    """Equal resource by resource, naming the first that differs."""
    before, after = comparable(first), comparable(second)
    assert [e["fullUrl"] for e in before] == [e["fullUrl"] for e in after]
    for old, new in zip(before, after, strict=True):
        assert old == new, f"{old['fullUrl']} ({old['resource']['resourceType']}) differs"


@pytest.mark.parametrize("bundle_type", BUNDLE_TYPES)
@pytest.mark.parametrize("version", VERSIONS)
def test_the_demo_comes_back_resource_by_resource(version: str, bundle_type: str) -> None:
    today = date(2026, 5, 1)
    options = {"fhir_version": version, "bundle_type": bundle_type, **FIXED}
    with GoalpathApp(":memory:", today=lambda: today) as app:
        build_demo(app, today)
        exported = export_client(app, "client-0042", **options)
    with GoalpathApp(":memory:", today=lambda: today) as fresh:
        result = import_bundle(fresh, json.loads(json.dumps(exported)), actor=IMPORTER)
        assert len(result.goal_ids) == 3
        assert result.measurements == 15
        again = export_client(fresh, "client-0042", **options)
    assert_same_resources(exported, again)
    provenances = [e for e in exported["entry"] if e["resource"]["resourceType"] == "Provenance"]
    # Every goal event, then the episode's own: opened, and a goal added per goal.
    assert result.events == len(provenances) + 1 + len(result.goal_ids)


def test_host_references_are_read_back_through_the_reverse_mapping() -> None:
    """The export's --map file, reversed: Patient/123 and Practitioner/9 become the ids again."""
    today = date(2026, 5, 1)
    mapping = {"client": {"client-0042": "Patient/123"}, "actor": {"therapist-7": "Practitioner/9"}}

    def reference_for(kind: str, local_id: str) -> str | None:
        return mapping.get(kind, {}).get(local_id)

    options = {"reference_for": reference_for, "bundle_type": "transaction", **FIXED}
    with GoalpathApp(":memory:", today=lambda: today) as app:
        build_demo(app, today)
        exported = export_client(app, "client-0042", **options)
    subjects = {json.dumps(e["resource"].get("subject")) for e in exported["entry"]}
    assert subjects == {'{"reference": "Patient/123"}', "null"}  # Provenance has none
    with GoalpathApp(":memory:", today=lambda: today) as fresh:
        import_bundle(fresh, exported, actor=IMPORTER, local_id_for=reverse_mapping(mapping))
        again = export_client(fresh, "client-0042", **options)
        goal = fresh.get_goal(UUID(exported["entry"][1]["resource"]["id"]))
        assert goal.created_by == THERAPIST
    assert_same_resources(exported, again)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=episode_histories(max_steps=12), bundle_type=st.sampled_from(BUNDLE_TYPES))
def test_any_history_comes_back_resource_by_resource(
    history: EpisodeHistory, bundle_type: str
) -> None:
    """The law: whatever valid history goalpath accepted, export -> import -> export is equal.

    Both releases, resource by resource (the CarePlan modulo its meta).
    """
    with GoalpathApp(today=lambda: TODAY) as app:
        episode = record_episode_history(app, history)
        exported = {
            version: export_episode(
                app, episode, fhir_version=version, bundle_type=bundle_type, **FIXED
            )
            for version in VERSIONS
        }
    for version in VERSIONS:
        with GoalpathApp(today=lambda: TODAY) as fresh:
            import_bundle(fresh, json.loads(json.dumps(exported[version])), actor=IMPORTER)
            again = export_episode(
                fresh, episode, fhir_version=version, bundle_type=bundle_type, **FIXED
            )
        assert_same_resources(exported[version], again)
