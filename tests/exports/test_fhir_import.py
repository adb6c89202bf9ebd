"""FHIR import: other systems' Goals and Observations, typed refusals, all or nothing, the CLI."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.cli.demo import build_demo
from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError, NotAuthorizedError
from goalpath.core.values import Actor
from goalpath.exports.fhir import export_client
from goalpath.exports.fhir_import import FhirImportError, import_bundle, reverse_mapping

TODAY: Final = date(2026, 5, 1)
IMPORTER: Final = Actor("migration-job", "system")
PHQ9_LOINC: Final = "44261-6"


def foreign_bundle() -> dict[str, Any]:
    """An R4B collection another system made: one Goal (PHQ-9, by LOINC) and two Observations."""
    patient = {"reference": "Patient/p1"}
    practitioner = {"reference": "Practitioner/dr-a"}

    def observation(number: int, value: float, day: str) -> dict[str, Any]:
        return {
            "fullUrl": f"https://ehr.example/fhir/Observation/o{number}",
            "resource": {
                "resourceType": "Observation",
                "id": f"o{number}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": PHQ9_LOINC}]},
                "subject": patient,
                "focus": [{"reference": "Goal/g1"}],
                "effectiveDateTime": day,
                "performer": [practitioner],
                "valueQuantity": {"value": value},
            },
        }

    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "https://ehr.example/fhir/Goal/g1",
                "resource": {
                    "resourceType": "Goal",
                    "id": "g1",
                    "lifecycleStatus": "active",
                    "description": {
                        "text": "Bring my PHQ-9 score from 18 to 9 within 12 weeks by "
                        "keeping a weekly activity schedule"
                    },
                    "subject": patient,
                    "startDate": "2026-03-02",
                    "expressedBy": practitioner,
                    "target": [
                        {
                            "measure": {
                                "coding": [{"system": "http://loinc.org", "code": PHQ9_LOINC}]
                            },
                            "detailQuantity": {"value": 9, "comparator": "<="},
                            "dueDate": "2026-05-25",
                        }
                    ],
                },
            },
            observation(2, 14, "2026-03-16"),
            observation(1, 18, "2026-03-02T09:30:00+00:00"),
        ],
    }


MAPPING: Final = {"client": {"client-1": "Patient/p1"}, "actor": {"dr-a": "Practitioner/dr-a"}}


def test_another_systems_goal_and_observations_become_a_goal_and_measurements() -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        result = import_bundle(
            app, foreign_bundle(), actor=IMPORTER, local_id_for=reverse_mapping(MAPPING)
        )
        goal = app.get_goal(result.goal_ids[0])
        series = app.goal_measurements(result.goal_ids[0])
        episode = app.get_episode(result.episode_ids[0])
    assert goal.status == "active"
    assert goal.client_id == "client-1" == episode.client_id
    assert episode.therapist_ids == ["dr-a"]
    assert goal.created_by == Actor("dr-a", "therapist")
    measure = goal.definition.measure
    assert measure is not None
    assert (measure.instrument, measure.direction, measure.maximum) == ("phq-9", "decrease", 27)
    target = goal.definition.target
    assert target is not None
    assert (target.baseline, target.value, target.due_on) == (18, 9, date(2026, 5, 25))
    # In the order observed, whatever the bundle's order; a dateTime is its day.
    assert [(m.value, m.observed_on) for m in series] == [
        (18, date(2026, 3, 2)),
        (14, date(2026, 3, 16)),
    ]


def _refusal(bundle: dict[str, Any], **options: Any) -> FhirImportError:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        with pytest.raises(FhirImportError) as refused:
            import_bundle(app, bundle, actor=IMPORTER, **options)
        assert list(app.iter_events()) == [], "nothing may be stored after a refusal"
    return refused.value


def _goal(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    return resource


BAD_BUNDLES: Final[list[tuple[str, Callable[[dict[str, Any]], None], str, str]]] = [
    (
        "a target that is not a number",
        lambda b: _goal(b)["target"][0]["detailQuantity"].update(value="nine"),
        "https://ehr.example/fhir/Goal/g1",
        "Goal.target[0].detailQuantity.value",
    ),
    (
        "a measure that says neither direction",
        lambda b: _goal(b)["target"][0].update(
            measure={"text": "panic attacks"}, detailQuantity={"value": 1}
        ),
        "https://ehr.example/fhir/Goal/g1",
        "Goal.target[0].detailQuantity.comparator",
    ),
    (
        "an observation above the PHQ-9's range",
        lambda b: b["entry"][1]["resource"]["valueQuantity"].update(value=40),
        "https://ehr.example/fhir/Observation/o2",
        "Observation.valueQuantity.value",
    ),
    (
        "an observation dated in the future",
        lambda b: b["entry"][1]["resource"].update(effectiveDateTime="2027-01-01"),
        "https://ehr.example/fhir/Observation/o2",
        "Observation.effectiveDateTime",
    ),
    (
        "a goal without its start",
        lambda b: _goal(b).pop("startDate"),
        "https://ehr.example/fhir/Goal/g1",
        "Goal.startDate",
    ),
    (
        "a patient nobody mapped",
        lambda b: _goal(b).update(subject={"reference": "Patient/p2"}),
        "https://ehr.example/fhir/Goal/g1",
        "Goal.subject",
    ),
]


@pytest.mark.parametrize(
    ("change", "resource", "element"),
    [case[1:] for case in BAD_BUNDLES],
    ids=[case[0] for case in BAD_BUNDLES],
)
def test_a_bundle_that_cannot_be_mapped_is_refused_naming_resource_and_element(
    change: Callable[[dict[str, Any]], None], resource: str, element: str
) -> None:
    bundle = foreign_bundle()
    change(bundle)
    error = _refusal(bundle, local_id_for=reverse_mapping(MAPPING))
    assert (error.resource, error.element) == (resource, element)
    outcome = error.operation_outcome()
    assert outcome["resourceType"] == "OperationOutcome"
    (issue,) = outcome["issue"]
    assert issue["severity"] == "error"
    assert issue["expression"] == [element]
    assert resource in issue["diagnostics"]


def _demo_bundle(**options: Any) -> dict[str, Any]:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        build_demo(app, TODAY)
        return export_client(
            app,
            "client-0042",
            generated_at=datetime(2026, 5, 1, tzinfo=UTC),
            bundle_id=UUID(int=7),
            **options,
        )


def _provenances(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Provenance"]


def test_a_history_refused_by_the_domain_at_its_last_goal_stores_nothing() -> None:
    """The last Provenance's measurement is out of range: not even the first goals are stored."""
    bundle = _demo_bundle()
    last = next(
        p
        for p in reversed(_provenances(bundle))
        if p["activity"]["coding"][1]["code"] == "Measured"
    )
    for change in last["extension"]:
        parts = change.get("extension", [])
        if parts and parts[0]["valueString"].endswith(".value"):
            parts[-1]["valueString"] = "999.0"
    error = _refusal(bundle)
    assert error.resource == f"urn:uuid:{last['id']}"
    assert error.issue_code == "business-rule"
    assert "above the range" in error.problem


def test_a_missing_version_of_a_goal_is_refused() -> None:
    bundle = _demo_bundle()
    dropped = _provenances(bundle)[3]
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"] is not dropped]
    error = _refusal(bundle)
    assert error.element == "Goal.meta.versionId"
    assert "version 4" in error.problem


def test_importing_the_same_bundle_twice_is_refused_as_a_duplicate() -> None:
    bundle = _demo_bundle(bundle_type="transaction")
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        import_bundle(app, bundle, actor=IMPORTER)
        stored = len(list(app.iter_events()))
        with pytest.raises(FhirImportError) as refused:
            import_bundle(app, copy.deepcopy(bundle), actor=IMPORTER)
        assert refused.value.issue_code == "duplicate"
        assert len(list(app.iter_events())) == stored


def test_the_importer_is_decided_by_the_policy() -> None:
    """A client may not import a plan (the policy's rule for opening episodes)."""
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        with pytest.raises(NotAuthorizedError):
            import_bundle(app, _demo_bundle(), actor=Actor("client-0042", "client"))
        assert list(app.iter_events()) == []


def test_not_a_bundle_is_refused() -> None:
    error = _refusal({"resourceType": "Goal"})
    assert (error.resource, error.element) == ("Bundle", "Bundle")
    error = _refusal({"resourceType": "Bundle", "type": "subscription-notification", "entry": []})
    assert error.element == "Bundle.type"
    error = _refusal({"resourceType": "Bundle", "type": "collection", "entry": []})
    assert (error.element, error.issue_code) == ("Bundle.entry", "required")


# -- the command line ---------------------------------------------------------------------


def test_goalpath_import_fhir_round_trips_through_files(tmp_path: Path) -> None:
    runner = CliRunner()
    source, target = str(tmp_path / "source.db"), str(tmp_path / "target.db")
    assert runner.invoke(cli, ["demo", "--db", source]).exit_code == 0
    bundle = tmp_path / "bundle.json"
    exported = runner.invoke(
        cli, ["--db", source, "export", "fhir", "client-0042", "-o", str(bundle)]
    )
    assert exported.exit_code == 0, exported.output
    words = [
        "--db",
        target,
        "import",
        "fhir",
        str(bundle),
        "--actor",
        "migration",
        "--role",
        "system",
    ]
    imported = runner.invoke(cli, [*words, "--json"])
    assert imported.exit_code == 0, imported.output
    document = json.loads(imported.stdout)
    assert (len(document["goal_ids"]), document["measurements"]) == (3, 15)
    again = runner.invoke(cli, [*words, "--json"])
    assert again.exit_code == 1
    outcome = json.loads(again.stdout)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "duplicate"
    assert "refused" in again.stderr


def test_goalpath_import_fhir_reads_the_export_map_backwards(tmp_path: Path) -> None:
    bundle, mapping = tmp_path / "bundle.json", tmp_path / "map.json"
    bundle.write_text(json.dumps(foreign_bundle()), encoding="utf-8")
    mapping.write_text(json.dumps(MAPPING), encoding="utf-8")
    db = str(tmp_path / "store.db")
    words = ["--db", db, "import", "fhir", str(bundle), "--actor", "job", "--role", "system"]
    refused = CliRunner().invoke(cli, [*words, "--json"])
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["issue"][0]["expression"] == ["Goal.subject"]
    result = CliRunner().invoke(cli, [*words, "--map", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "imported 1 episodes, 1 goals and 2 measurements" in result.stdout


def _versions_bundle() -> dict[str, Any]:
    """A ``history`` bundle (newest first) of one Goal in three versions, and its Observations."""
    bundle = foreign_bundle()
    goal_entry, *observations = bundle["entry"]
    first = copy.deepcopy(goal_entry)
    first["resource"].update(
        meta={"versionId": "1"},
        lifecycleStatus="proposed",
        description={"text": "Feel less low"},
    )
    first["resource"].pop("target")
    second = copy.deepcopy(goal_entry)
    second["resource"]["meta"] = {"versionId": "2"}
    third = copy.deepcopy(goal_entry)
    third["resource"].update(
        meta={"versionId": "3"},
        lifecycleStatus="completed",
        statusDate="2026-04-20",
        statusReason="PHQ-9 below 10 for four weeks",
    )
    bundle["type"] = "history"
    bundle["entry"] = [third, second, first, *observations]
    return bundle


def test_each_version_of_a_goal_in_a_history_bundle_becomes_its_history() -> None:
    """Version 1 proposed and vague, 2 refined and active, 3 completed: four events and more."""
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        result = import_bundle(
            app, _versions_bundle(), actor=IMPORTER, local_id_for=reverse_mapping(MAPPING)
        )
        goal_id = result.goal_ids[0]
        events = [type(event).__name__ for event in app.goal_events(goal_id)]
        goal = app.get_goal(goal_id)
    assert events == ["Created", "Refined", "Activated", "Measured", "Measured", "Retired"]
    assert goal.status == "completed"
    assert goal.retirement_reason == "achieved"
    assert goal.ended_on == date(2026, 4, 20)
    assert goal.definition.statement.startswith("Bring my PHQ-9 score")


def test_a_goal_version_that_ends_it_before_its_last_is_refused() -> None:
    bundle = _versions_bundle()
    bundle["entry"][1]["resource"].update(lifecycleStatus="cancelled", statusDate="2026-04-01")
    error = _refusal(bundle, local_id_for=reverse_mapping(MAPPING))
    assert (error.element, error.issue_code) == ("Goal.lifecycleStatus", "business-rule")


_DELETE: Final = object()
_JSON_VALUES: Final = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document."""
    found = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


DEMO_BUNDLE: Final = _demo_bundle(bundle_type="transaction")
DEMO_PATHS: Final = _paths(DEMO_BUNDLE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    where=st.sampled_from(DEMO_PATHS),
    replacement=st.one_of(st.just(_DELETE), _JSON_VALUES),
)
def test_any_damaged_bundle_is_imported_or_refused_with_a_typed_error(
    where: tuple[Any, ...], replacement: Any
) -> None:
    """The law: one element of a bundle removed or replaced by any JSON value, the import
    stores the bundle or refuses it with a goalpath error, all or nothing; never another
    exception."""
    bundle = copy.deepcopy(DEMO_BUNDLE)
    parent = bundle
    for step in where[:-1]:
        parent = parent[step]
    if replacement is _DELETE:
        del parent[where[-1]]
    else:
        parent[where[-1]] = replacement
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        try:
            import_bundle(app, bundle, actor=IMPORTER)
        except GoalpathError:
            assert list(app.iter_events()) == []


def test_an_import_inside_a_unit_of_work_is_written_with_it_or_not_at_all() -> None:
    """The import keeps its aggregates in the host's unit: a later refusal there drops them."""
    bundle = _demo_bundle()
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:

        def refused_unit() -> None:
            with app.unit_of_work() as work:
                import_bundle(work, bundle, actor=IMPORTER)
                client = Actor("client-9", "client")
                work.open_episode(client_id="client-9", therapist_ids=["t-1"], actor=client)

        with pytest.raises(NotAuthorizedError):
            refused_unit()
        assert list(app.iter_events()) == []
        with app.unit_of_work() as work:
            result = import_bundle(work, bundle, actor=IMPORTER)
        assert app.get_goal(result.goal_ids[0]).version > 1
