"""Instruments come from the plugin registry: a third-party instrument is read as a built-in one.

Caseload outcomes, progress and the FHIR export ask the registry for an instrument's range,
direction, caseness, reliable change, LOINC code and whether it is an anxiety-disorder-specific
measure standing in for GAD-7; disabling the measures plugin takes PHQ-9 and GAD-7 out of the
outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.exports.fhir import INSTRUMENT_SYSTEM, LOINC_SYSTEM, export_episode
from goalpath.modalities import hookimpl, load_plugins
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.manager import Plugins
from goalpath.modalities.measures import GAD7, PHQ9
from goalpath.modalities.registry import MeasureRegistry
from goalpath.projections import Projections

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-1", "therapist")

WELLBEING = Instrument(
    id="wellbeing-14",
    name="Wellbeing scale total score",
    unit="points",
    direction="increase",
    minimum=14,
    maximum=70,
    caseness=40,
    reliable_change=8,
    loinc="99999-9",
    description=(
        "A made-up anxiety-disorder-specific scale for this test: higher is better; it stands "
        "in for GAD-7 in paired outcomes."
    ),
    anxiety_disorder_specific=True,
)


class WellbeingPlugin:
    """A third-party plugin that contributes one standardised instrument."""

    @hookimpl
    def goalpath_register_measures(self, registry: MeasureRegistry) -> None:
        """Register the wellbeing scale."""
        registry.add(WELLBEING)


@pytest.fixture
def app() -> Iterator[GoalpathApp]:
    application = GoalpathApp(today=lambda: TODAY)
    yield application
    application.close()


def measured_episode(
    app: GoalpathApp,
    instrument: Instrument,
    scores: tuple[float, ...],
    *also: tuple[Instrument, tuple[float, ...]],
) -> UUID:
    """A finished episode: a goal on ``instrument`` (and on each of ``also``), scores weekly.

    Two sessions are attended and the episode is closed today, so it is a finished course.
    """
    opened_on = TODAY - timedelta(weeks=10)
    episode_id = app.open_episode(
        client_id="client-1", therapist_ids=["therapist-1"], opened_on=opened_on, actor=THERAPIST
    )
    for scale, series in ((instrument, scores), *also):
        measured_goal(app, episode_id, scale, series, opened_on)
    for week in (0, 1):
        app.record_session(episode_id, actor=THERAPIST, held_on=opened_on + timedelta(weeks=week))
    app.close_episode(episode_id, reason="treatment finished", actor=THERAPIST, closed_on=TODAY)
    return episode_id


def measured_goal(
    app: GoalpathApp,
    episode_id: UUID,
    instrument: Instrument,
    scores: tuple[float, ...],
    opened_on: date,
) -> UUID:
    """A goal on ``instrument`` with ``scores`` recorded a week apart from ``opened_on``."""
    measure = Measure(
        name=instrument.name,
        unit=instrument.unit,
        direction=instrument.direction,
        instrument=instrument.id,
        minimum=instrument.minimum,
        maximum=instrument.maximum,
    )
    goal_id = app.create_goal(
        episode_id,
        GoalDefinition(
            statement=f"Change my {instrument.name} from {scores[0]:g} to {scores[-1]:g} "
            "within 10 weeks by practising the agreed skills daily",
            start_on=opened_on,
            measure=measure,
            target=Target(baseline=scores[0], value=scores[-1], due_on=TODAY),
            area="symptom-relief",
        ),
        actor=THERAPIST,
    )
    for week, score in enumerate(scores):
        app.record_measurement(
            goal_id, score, observed_on=opened_on + timedelta(weeks=week), actor=THERAPIST
        )
    return goal_id


def with_wellbeing() -> Plugins:
    return load_plugins(plugins={"wellbeing": WellbeingPlugin()})


def observation_codes(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        coding
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Observation"
        for coding in entry["resource"]["code"].get("coding", [])
    ]


def test_a_third_party_instrument_counts_in_caseload_outcomes(app: GoalpathApp) -> None:
    # a case at 30, not at 45; +15 >= 8; PHQ-9 8 -> 6 is below caseness with no reliable change
    measured_episode(app, WELLBEING, (30, 36, 45), (PHQ9, (8, 6)))
    with Projections(app, plugins=with_wellbeing()) as projections:
        outcomes = projections.caseload_outcomes()
    overall = outcomes.overall
    assert overall.finished_paired == 1
    assert overall.cases_at_start == 1
    assert overall.reliable_improvement == 1
    assert overall.reliable_recovery == 1
    [episode] = outcomes.episodes
    assert episode.anxiety is not None
    assert episode.anxiety.instrument == WELLBEING.id  # standing in for GAD-7
    with Projections(app, plugins=load_plugins()) as projections:
        overall = projections.caseload_outcomes().overall
    assert (overall.finished_paired, overall.unpaired) == (0, 1)  # PHQ-9 alone is not paired


def test_a_rising_instrument_that_falls_is_a_reliable_deterioration(app: GoalpathApp) -> None:
    measured_episode(app, WELLBEING, (50, 41), (PHQ9, (8, 6)))  # higher is better: -9 is worse
    with Projections(app, plugins=with_wellbeing()) as projections:
        overall = projections.caseload_outcomes().overall
    assert (overall.reliable_deterioration, overall.reliable_improvement) == (1, 0)


def test_a_third_party_instrument_gets_its_loinc_code_in_the_fhir_export(
    app: GoalpathApp,
) -> None:
    episode_id = measured_episode(app, WELLBEING, (30, 45))
    codes = observation_codes(export_episode(app, episode_id, plugins=with_wellbeing()))
    assert codes
    assert {(c["system"], c["code"], c.get("display")) for c in codes} == {
        (LOINC_SYSTEM, "99999-9", WELLBEING.name)
    }
    without = observation_codes(export_episode(app, episode_id, plugins=load_plugins()))
    assert {(c["system"], c["code"]) for c in without} == {(INSTRUMENT_SYSTEM, WELLBEING.id)}


def test_disabling_the_measures_plugin_takes_phq9_out_of_the_outcomes(app: GoalpathApp) -> None:
    measured_episode(app, PHQ9, (16, 12, 8), (GAD7, (9, 5)))
    phq9_goal = app_goal(app)
    with Projections(app, plugins=load_plugins()) as projections:
        assert projections.caseload_outcomes().overall.reliable_recovery == 1
        assert projections.progress(phq9_goal).outcome is not None
    with Projections(app, plugins=load_plugins(disabled=["measures"])) as projections:
        assert projections.caseload_outcomes().overall.finished_paired == 0
        assert projections.progress(phq9_goal).outcome is None


def app_goal(app: GoalpathApp) -> UUID:
    """The id of the first goal stated in ``app``."""
    goal_ids: list[UUID] = [
        event.originator_id
        for _position, event in app.iter_events()
        if type(event).__qualname__ == "Goal.Created"
    ]
    assert goal_ids
    first: UUID = goal_ids[0]
    return first
