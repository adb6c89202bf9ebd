"""Goal Attainment Scaling in FHIR as the HL7 PCO IG describes it: export, import, refusals.

The expected codes are written here from the PCO IG STU 1 (GASProfiles.fsh,
GASTerminology.fsh, GASExamples.fsh), not taken from goalpath's own tables.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any, Final

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import InvalidValueError
from goalpath.core.history import history_of
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.exports.fhir import export_episode
from goalpath.exports.fhir_import import FhirImportError, import_bundle, reverse_mapping
from goalpath.projections import Projections
from tests.projections.test_fhir import (
    PCO_GAS_ANSWERS,
    PCO_GAS_SCALING_URL,
    check_conformance,
    resources,
    validate_with_fhir_resources,
)

TODAY: Final = date(2026, 5, 1)
THERAPIST: Final = Actor("therapist-7", "therapist")
SUPERVISOR: Final = Actor("supervisor-2", "supervisor")
IMPORTER: Final = Actor("migration-job", "system")
LEVELS: Final = (
    "no evening walks at all",
    "a walk one evening a week",
    "a walk three evenings a week",
    "a walk five evenings a week",
    "a walk every evening",
)


def _scaled_goal(app: GoalpathApp) -> tuple[Any, Any]:
    """An episode with a GAS-scaled goal scored by its therapist (+1) and a supervisor (0)."""
    episode = app.open_episode(
        client_id="client-0042",
        actor=THERAPIST,
        therapist_ids=["therapist-7"],
        opened_on=date(2026, 3, 1),
    )
    definition = GoalDefinition(
        statement="Walk in the evening at least three times a week within 8 weeks",
        start_on=date(2026, 3, 2),
        measure=Measure(name="evening walks", unit="per week", direction="increase"),
        target=Target(baseline=0, value=3, due_on=date(2026, 4, 27)),
        gas_levels=LEVELS,
        gas_importance=3,
        gas_difficulty=2,
    )
    goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)
    app.review_goal(
        goal,
        achievement="improving",
        decision="continue",
        attainment=1,
        reviewed_on=date(2026, 3, 30),
        actor=THERAPIST,
    )
    app.review_goal(
        goal,
        achievement="improving",
        decision="continue",
        attainment=0,
        reviewed_on=date(2026, 4, 13),
        actor=SUPERVISOR,
    )
    app.review_goal(
        goal,
        achievement="improving",
        decision="continue",
        reviewed_on=date(2026, 4, 20),
        actor=THERAPIST,
    )
    return episode, goal


def _export(version: str = "R5", **options: Any) -> dict[str, Any]:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        episode, _goal = _scaled_goal(app)
        return export_episode(app, episode, fhir_version=version, **options)


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_the_gas_scale_is_five_pco_scaling_extensions_on_the_goal(version: str) -> None:
    bundle = _export(version)
    [goal] = resources(bundle, "Goal")
    scaling = [e for e in goal["extension"] if e["url"] == PCO_GAS_SCALING_URL]
    levels = []
    for extension in scaling:
        parts = {part["url"]: part for part in extension["extension"]}
        coding = parts["level"]["valueCoding"]
        assert coding["system"] == "http://loinc.org"
        display, level = PCO_GAS_ANSWERS[coding["code"]]
        assert coding["display"] == display
        levels.append((level, parts["progressText"]["valueString"]))
    # +2 first, as the IG's example lists them; each level's own description.
    assert levels == [(2 - i, LEVELS[4 - i]) for i in range(5)]
    validate_with_fhir_resources(bundle, version)
    check_conformance(bundle)


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_each_scored_review_is_a_gas_score_observation_of_the_goal(version: str) -> None:
    bundle = _export(version, bundle_type="transaction")
    [goal] = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]
    scores = [
        r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["code"][:3] == "107"
    ]
    # Two reviews scored GAS (the third did not), each a practitioner's follow-up score.
    assert [
        (
            s["code"]["coding"][0]["code"],
            s["effectiveDateTime"],
            PCO_GAS_ANSWERS[s["valueCodeableConcept"]["coding"][0]["code"]][1],
        )
        for s in scores
    ] == [("107333-7", "2026-03-30", 1), ("107333-7", "2026-04-13", 0)]
    for score in scores:
        assert score["focus"] == [{"reference": goal["fullUrl"]}]
        assert "valueQuantity" not in score
    validate_with_fhir_resources(bundle, version)
    check_conformance(bundle)


def test_the_gas_scale_and_scores_come_back_through_the_import() -> None:
    bundle = _export()
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        result = import_bundle(app, bundle, actor=IMPORTER)
        goal = app.get_goal(result.goal_ids[0])
    assert goal.definition.gas_levels == LEVELS
    assert goal.definition.gas_weight == 6
    assert [r.attainment for r in goal.reviews] == [1, 0, None]
    assert goal.measurement_count == 0  # GAS scores are not measurements


def _foreign_bundle() -> dict[str, Any]:
    """A PCO-style bundle from another system: a GAS goal (no measure) and two GAS scores."""
    patient = {"reference": "Patient/p1"}
    practitioner = {"reference": "Practitioner/dr-a"}
    answers = {level: code for code, (_display, level) in PCO_GAS_ANSWERS.items()}

    def score(
        number: int, code: str, level: int, day: str, performer: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "fullUrl": f"https://ehr.example/fhir/Observation/gas{number}",
            "resource": {
                "resourceType": "Observation",
                "id": f"gas{number}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "subject": patient,
                "focus": [{"reference": "Goal/g1"}],
                "effectiveDateTime": day,
                "performer": [performer],
                "valueCodeableConcept": {
                    "coding": [{"system": "http://loinc.org", "code": answers[level]}]
                },
            },
        }

    scaling = [
        {
            "url": PCO_GAS_SCALING_URL,
            "extension": [
                {"url": "level", "valueCoding": {"system": "http://loinc.org", "code": code}},
                {"url": "progressText", "valueString": f"level {level:+d}"},
            ],
        }
        for code, (_display, level) in PCO_GAS_ANSWERS.items()
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "https://ehr.example/fhir/Goal/g1",
                "resource": {
                    "resourceType": "Goal",
                    "id": "g1",
                    "extension": scaling,
                    "lifecycleStatus": "active",
                    "description": {
                        "text": "Phone or visit family or friends at least 3 times a month, "
                        "up from once a month, by 31 July 2026"
                    },
                    "subject": patient,
                    "startDate": "2026-02-15",
                    "expressedBy": practitioner,
                },
            },
            # Out of date order: the import reviews in the order the scores were taken.
            score(2, "107333-7", 0, "2026-04-17", practitioner),
            score(1, "107334-5", -1, "2026-03-10", patient),
        ],
    }


MAPPING: Final = {
    "client": {"client-1": "Patient/p1"},
    "actor": {"dr-a": "Practitioner/dr-a", "client-1": "Patient/p1"},
}


def _import(bundle: dict[str, Any]) -> Any:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        result = import_bundle(app, bundle, actor=IMPORTER, local_id_for=reverse_mapping(MAPPING))
        goal = app.get_goal(result.goal_ids[0])
        plan = Projections(app).plan_for_episode(result.episode_ids[0])
        exported = export_episode(app, result.episode_ids[0])
    return goal, plan, exported


def test_another_systems_gas_goal_and_scores_become_its_scale_and_scored_reviews() -> None:
    goal, plan, exported = _import(_foreign_bundle())
    assert goal.definition.gas_levels == tuple(f"level {level:+d}" for level in range(-2, 3))
    assert [(r.reviewed_on, r.attainment, r.decision, r.reviewed_by) for r in goal.reviews] == [
        (date(2026, 3, 10), -1, "continue", Actor("client-1", "client")),
        (date(2026, 4, 17), 0, "continue", Actor("dr-a", "therapist")),
    ]
    # Exported again, the client's score is the patient's follow-up score.
    scores = [o for o in resources(exported, "Observation") if "valueCodeableConcept" in o]
    assert [o["code"]["coding"][0]["code"] for o in scores] == ["107334-5", "107333-7"]
    assert goal.measurement_count == 0
    # The plan's GAS reads the latest score by review date: 0, T = 50.
    assert plan.gas is not None
    assert plan.gas.t_score == pytest.approx(50.0)


def _scaling(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    extensions: list[dict[str, Any]] = bundle["entry"][0]["resource"]["extension"]
    return extensions


@pytest.mark.parametrize(
    ("damage", "element", "words"),
    [
        (lambda b: _scaling(b).pop(), "Goal", "all 5 levels"),
        (
            lambda b: _scaling(b)[1]["extension"][0]["valueCoding"].update(code="LA34484-8"),
            "extension('" + PCO_GAS_SCALING_URL + "')",
            "different one of the LOINC answers",
        ),
        (lambda b: _scaling(b)[0]["extension"].pop(), "extension(", "progressText"),
        (
            lambda b: b["entry"][1]["resource"]["valueCodeableConcept"]["coding"][0].update(
                code="LA6111-4"
            ),
            "valueCodeableConcept",
            "LOINC answers",
        ),
    ],
    ids=["four levels", "a level twice", "no description", "a score that is no level"],
)
def test_a_gas_scale_or_score_that_cannot_be_read_is_refused_and_nothing_stored(
    damage: Any, element: str, words: str
) -> None:
    bundle = copy.deepcopy(_foreign_bundle())
    damage(bundle)
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        with pytest.raises(FhirImportError) as refused:
            import_bundle(app, bundle, actor=IMPORTER, local_id_for=reverse_mapping(MAPPING))
        assert list(app.iter_events()) == []
    assert element in refused.value.element
    assert words in str(refused.value)


@pytest.mark.parametrize(
    ("levels", "field"),
    [
        (("a", "b", "c", "d"), "definition.gas_levels"),
        (("a", "b", "", "d", "e"), "definition.gas_levels[2]"),
        ("five levels", "definition.gas_levels"),
    ],
)
def test_a_gas_scale_of_other_than_five_descriptions_is_refused_with_its_field(
    levels: Any, field: str
) -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        _episode, goal = _scaled_goal(app)
        before = app.get_goal(goal).version
        with pytest.raises(InvalidValueError) as refused:
            app.refine_goal(goal, reason="rescaled", actor=THERAPIST, gas_levels=levels)
        assert app.get_goal(goal).version == before
    assert refused.value.field == field


def test_a_refined_gas_scale_is_in_the_goals_history() -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY) as app:
        _episode, goal = _scaled_goal(app)
        new = (*LEVELS[:4], "a walk every evening and at weekends")
        app.refine_goal(goal, reason="the client aims higher", actor=THERAPIST, gas_levels=new)
        assert app.get_goal(goal).definition.gas_levels == new
        changes = [c for entry in history_of(app.goal_events(goal)) for c in entry.changes]
    assert [(c.before, c.after) for c in changes if c.field == "definition.gas_levels"] == [
        (None, list(LEVELS)),
        (list(LEVELS), list(new)),
    ]
