"""Episode outcomes by the NHS Talking Therapies paired rule, against a reference written here.

Each scenario is recorded through the application and read through
``Projections.caseload_outcomes``; the expected reading comes from
:func:`reference_outcome`, an implementation of the published rule written from
the manual's wording, on raw scores, without calling goalpath's outcome code:

- a finished course: the referral ended after at least two attended treatment sessions;
- paired scores: a first and a last score on PHQ-9 and on the anxiety measure (GAD-7, or
  the anxiety-disorder-specific measure standing in for it);
- a case at the start: PHQ-9 >= 10 or anxiety >= its caseness;
- recovery: a case at the start, below caseness on both at the end;
- reliable improvement: a fall of at least the reliable-change threshold on at least one,
  with no reliable deterioration on the other; reliable deterioration: a rise of at least
  the threshold on either; reliable recovery: recovery with reliable improvement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.modalities import hookimpl, load_plugins
from goalpath.modalities.errors import InvalidContributionError, InvalidTemplateError
from goalpath.modalities.instruments import Instrument
from goalpath.modalities.registry import MeasureRegistry
from goalpath.projections import Projections
from goalpath.projections.caseload import EpisodeOutcome, build_caseload_outcomes
from goalpath.projections.outcomes import PAIRED_RULE, installed_conventions
from goalpath.projections.records import EpisodeRecord, GoalRecord, MeasurementRecord

TODAY = date(2026, 6, 1)
OPENED_ON = date(2026, 2, 2)
THERAPIST = Actor("therapist-1", "therapist")

# The published thresholds, written out here rather than read from goalpath's registry:
# (caseness, reliable change, lowest, highest) of each total score.
PUBLISHED = {"phq-9": (10, 6, 0, 27), "gad-7": (8, 4, 0, 21)}

PANIC = Instrument(
    id="panic-scale",
    name="Panic scale total score",
    unit="points",
    direction="decrease",
    minimum=0,
    maximum=28,
    caseness=8,
    reliable_change=5,
    description="A made-up anxiety-disorder-specific measure for these tests.",
    anxiety_disorder_specific=True,
)
"""An anxiety-disorder-specific measure standing in for GAD-7 (thresholds invented here)."""

Scores = Sequence[tuple[int, float]]
"""(week after the episode opened, score) pairs."""


class PanicPlugin:
    """A third-party plugin contributing one anxiety-disorder-specific measure."""

    @hookimpl
    def goalpath_register_measures(self, registry: MeasureRegistry) -> None:
        """Register the panic scale."""
        registry.add(PANIC)


# -- the reference implementation -------------------------------------------------------


def reference_outcome(
    scores: dict[str, list[tuple[date, float]]],
    *,
    ended: bool,
    attended_sessions: int,
    specific: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """The published paired rule on raw scores per instrument (all goals pooled).

    ``specific`` gives the (caseness, reliable change) of anxiety-disorder-specific
    measures; one with two scores replaces GAD-7.
    """
    thresholds: dict[str, tuple[float, float]] = {
        code: (c, r) for code, (c, r, _low, _high) in PUBLISHED.items()
    }
    thresholds.update(specific or {})
    if not ended:
        course = "interim"
    elif attended_sessions < 2:  # the manual's two treatment sessions
        course = "not-finished"
    else:
        course = "finished"

    def pair(code: str) -> tuple[float, float] | None:
        series = sorted(scores.get(code, []), key=lambda item: item[0])
        return (series[0][1], series[-1][1]) if len(series) >= 2 else None

    anxiety_code = next(
        (code for code in sorted(specific or {}) if pair(code) is not None), "gad-7"
    )
    depression, anxiety = pair("phq-9"), pair(anxiety_code)
    result: dict[str, Any] = {"course": course, "paired": False}
    if depression is None or anxiety is None:
        return result
    measures = [(depression, thresholds["phq-9"]), (anxiety, thresholds[anxiety_code])]
    case_at_start = any(first >= caseness for (first, _), (caseness, _) in measures)
    below_at_end = all(last < caseness for (_, last), (caseness, _) in measures)
    improved = [first - last >= change for (first, last), (_, change) in measures]
    deteriorated = [last - first >= change for (first, last), (_, change) in measures]
    recovery = case_at_start and below_at_end
    reliable_improvement = any(improved) and not any(deteriorated)
    result.update(
        paired=True,
        case_at_start=case_at_start,
        recovery=recovery,
        reliable_improvement=reliable_improvement,
        reliable_deterioration=any(deteriorated),
        reliable_recovery=recovery and reliable_improvement,
        anxiety=anxiety_code,
    )
    return result


def reading(outcome: EpisodeOutcome) -> dict[str, Any]:
    """goalpath's reading of one episode in the reference's terms."""
    result: dict[str, Any] = {"course": outcome.course, "paired": outcome.paired}
    combined = outcome.outcome
    if combined is None:
        return result
    assert outcome.anxiety is not None
    result.update(
        paired=True,
        case_at_start=combined.case_at_start,
        recovery=combined.recovery,
        reliable_improvement=combined.reliable_improvement,
        reliable_deterioration=combined.reliable_deterioration,
        reliable_recovery=combined.reliable_recovery,
        anxiety=outcome.anxiety.instrument,
    )
    return result


# -- recording scenarios through the application ------------------------------------------


@pytest.fixture
def app() -> Iterator[GoalpathApp]:
    application = GoalpathApp(today=lambda: TODAY)
    yield application
    application.close()


def measure_of(code: str) -> Measure:
    """The goal measure of a built-in instrument or of the panic scale."""
    if code == PANIC.id:
        return PANIC.measure()
    return installed_conventions()[code].measure()


def state_goal(app: GoalpathApp, episode_id: UUID, code: str, scores: Scores) -> UUID:
    """A goal on ``code`` starting at its first score's week, with ``scores`` recorded."""
    start = OPENED_ON + timedelta(weeks=scores[0][0])
    measure = measure_of(code)
    baseline = scores[0][1]
    target = measure.minimum if measure.minimum is not None else 0
    goal_id = app.create_goal(
        episode_id,
        GoalDefinition(
            statement=f"Reduce my {measure.name} from {baseline:g} to {target:g} within 12 "
            "weeks by practising the agreed skills daily",
            start_on=start,
            measure=measure,
            target=Target(baseline=baseline, value=target, due_on=start + timedelta(weeks=12)),
            area="symptom-relief",
        ),
        actor=THERAPIST,
    )
    for week, score in scores:
        app.record_measurement(
            goal_id, score, observed_on=OPENED_ON + timedelta(weeks=week), actor=THERAPIST
        )
    return goal_id


def open_episode(app: GoalpathApp) -> UUID:
    """An episode of a new client, opened on :data:`OPENED_ON` by :data:`THERAPIST`."""
    return app.open_episode(
        client_id=f"client-{uuid4().hex[:8]}",
        therapist_ids=[THERAPIST.id],
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )


def finish(app: GoalpathApp, episode_id: UUID, *, sessions: int = 2, close: bool = True) -> None:
    """Record ``sessions`` attended sessions, a week apart, and close the episode."""
    for week in range(sessions):
        app.record_session(episode_id, actor=THERAPIST, held_on=OPENED_ON + timedelta(weeks=week))
    if close:
        app.close_episode(episode_id, reason="treatment finished", actor=THERAPIST, closed_on=TODAY)


def only_outcome(app: GoalpathApp, *, with_panic: bool = False) -> EpisodeOutcome:
    """The one episode outcome of ``app``'s caseload, read through the projections."""
    plugins = load_plugins(plugins={"panic": PanicPlugin()}) if with_panic else None
    with Projections(app, plugins=plugins) as projections:
        outcomes = projections.caseload_outcomes()
    assert outcomes.rule == PAIRED_RULE
    [outcome] = outcomes.episodes
    return outcome


def pooled(*goals: tuple[str, Scores]) -> dict[str, list[tuple[date, float]]]:
    """Every goal's scores pooled per instrument, dated, as the reference takes them."""
    scores: dict[str, list[tuple[date, float]]] = {}
    for code, series in goals:
        for week, score in series:
            scores.setdefault(code, []).append((OPENED_ON + timedelta(weeks=week), score))
    return scores


# -- the scenarios of the issue -----------------------------------------------------------


def test_a_replaced_goal_gives_the_episode_its_first_score(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    first = state_goal(app, episode_id, "phq-9", [(0, 18), (3, 16)])
    second = state_goal(app, episode_id, "phq-9", [(4, 16), (8, 8)])
    app.retire_goal(
        first,
        reason_code="replaced",
        reason="a sharper goal on the same measure",
        actor=THERAPIST,
        retired_on=OPENED_ON + timedelta(weeks=4),
        replaced_by=second,
    )
    state_goal(app, episode_id, "gad-7", [(0, 9), (8, 5)])
    finish(app, episode_id)
    outcome = only_outcome(app)
    assert outcome.depression is not None
    assert (outcome.depression.first, outcome.depression.last) == (18, 8)
    assert outcome.label == "reliable recovery"
    expected = reference_outcome(
        pooled(("phq-9", [(0, 18), (3, 16), (4, 16), (8, 8)]), ("gad-7", [(0, 9), (8, 5)])),
        ended=True,
        attended_sessions=2,
    )
    assert reading(outcome) == expected
    assert expected["recovery"]


def test_one_instrument_only_is_not_paired_and_not_counted(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    state_goal(app, episode_id, "phq-9", [(0, 18), (8, 8)])
    finish(app, episode_id)
    outcome = only_outcome(app)
    assert reading(outcome) == reference_outcome(
        pooled(("phq-9", [(0, 18), (8, 8)])), ended=True, attended_sessions=2
    )
    assert (outcome.paired, outcome.counted, outcome.label) == (False, False, "unpaired")
    with Projections(app) as projections:
        overall = projections.caseload_outcomes().overall
    assert (overall.finished_paired, overall.unpaired, overall.rates["recovery"]) == (0, 1, None)


def test_an_open_episode_is_interim_and_not_counted(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    state_goal(app, episode_id, "phq-9", [(0, 18), (8, 8)])
    state_goal(app, episode_id, "gad-7", [(0, 9), (8, 5)])
    finish(app, episode_id, close=False)
    outcome = only_outcome(app)
    assert reading(outcome) == reference_outcome(
        pooled(("phq-9", [(0, 18), (8, 8)]), ("gad-7", [(0, 9), (8, 5)])),
        ended=False,
        attended_sessions=2,
    )
    assert (outcome.label, outcome.counted) == ("interim", False)
    assert outcome.outcome is not None
    assert outcome.outcome.recovery  # the reading so far
    with Projections(app) as projections:
        overall = projections.caseload_outcomes().overall
    assert (overall.finished_paired, overall.interim, overall.recovery) == (0, 1, 0)


def test_an_episode_ended_after_one_session_is_not_a_finished_course(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    state_goal(app, episode_id, "phq-9", [(0, 18), (1, 8)])
    state_goal(app, episode_id, "gad-7", [(0, 9), (1, 5)])
    finish(app, episode_id, sessions=1)
    outcome = only_outcome(app)
    assert outcome.label == "not-finished"
    assert reading(outcome)["course"] == "not-finished"


# Scenarios recorded as one PHQ-9 goal and one GAD-7 goal (week 0 and week 8 scores).
PAIRED_SCENARIOS = {
    "improvement on one, deterioration on the other": ((18, 8), (3, 7)),
    "improvement on both, still a case on anxiety": ((18, 8), (14, 9)),
    "exactly at caseness at the start, just below at the end": ((10, 9), (8, 7)),
    "exactly at caseness at the end": ((12, 10), (9, 8)),
    "just below caseness at the start on both": ((9, 4), (7, 2)),
    "a fall of exactly the reliable change": ((16, 10), (12, 8)),
    "a fall one point short of reliable change": ((15, 10), (11, 8)),
    "a rise of exactly the reliable change": ((4, 10), (3, 7)),
    "a rise one point short of reliable change": ((4, 9), (3, 6)),
    "no change": ((14, 14), (10, 10)),
}


@pytest.mark.parametrize(
    ("phq9", "gad7"), list(PAIRED_SCENARIOS.values()), ids=list(PAIRED_SCENARIOS)
)
def test_paired_scenarios_agree_with_the_reference(
    app: GoalpathApp, phq9: tuple[float, float], gad7: tuple[float, float]
) -> None:
    episode_id = open_episode(app)
    state_goal(app, episode_id, "phq-9", [(0, phq9[0]), (8, phq9[1])])
    state_goal(app, episode_id, "gad-7", [(0, gad7[0]), (8, gad7[1])])
    finish(app, episode_id)
    expected = reference_outcome(
        pooled(("phq-9", [(0, phq9[0]), (8, phq9[1])]), ("gad-7", [(0, gad7[0]), (8, gad7[1])])),
        ended=True,
        attended_sessions=2,
    )
    assert reading(only_outcome(app)) == expected


def test_the_threshold_scenarios_read_as_the_manual_says() -> None:
    """Spot checks of the reference itself on the boundary scenarios."""
    read = {
        name: reference_outcome(
            pooled(("phq-9", [(0, p[0]), (8, p[1])]), ("gad-7", [(0, g[0]), (8, g[1])])),
            ended=True,
            attended_sessions=2,
        )
        for name, (p, g) in PAIRED_SCENARIOS.items()
    }
    mixed = read["improvement on one, deterioration on the other"]
    assert (mixed["reliable_improvement"], mixed["reliable_deterioration"]) == (False, True)
    assert read["exactly at caseness at the start, just below at the end"]["recovery"]
    assert not read["exactly at caseness at the end"]["recovery"]
    assert not read["just below caseness at the start on both"]["case_at_start"]
    assert read["a fall of exactly the reliable change"]["reliable_improvement"]
    assert not read["a fall one point short of reliable change"]["reliable_improvement"]
    assert read["a rise of exactly the reliable change"]["reliable_deterioration"]
    assert not read["a rise one point short of reliable change"]["reliable_deterioration"]


def test_an_anxiety_disorder_specific_measure_stands_in_for_gad7(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    state_goal(app, episode_id, "phq-9", [(0, 9), (8, 9)])
    state_goal(app, episode_id, "gad-7", [(0, 10), (8, 9)])  # still a case on GAD-7
    state_goal(app, episode_id, PANIC.id, [(0, 20), (8, 5)])  # not a case on the panic scale
    finish(app, episode_id)
    outcome = only_outcome(app, with_panic=True)
    expected = reference_outcome(
        pooled(
            ("phq-9", [(0, 9), (8, 9)]), ("gad-7", [(0, 10), (8, 9)]), (PANIC.id, [(0, 20), (8, 5)])
        ),
        ended=True,
        attended_sessions=2,
        specific={PANIC.id: (8, 5)},
    )
    assert reading(outcome) == expected
    assert outcome.label == "reliable recovery"
    assert outcome.anxiety is not None
    assert outcome.anxiety.instrument == PANIC.id
    assert only_outcome(app).label == "no reliable change"  # without the plugin: GAD-7


def test_corrections_and_voids_apply_before_first_and_last(app: GoalpathApp) -> None:
    episode_id = open_episode(app)
    phq9 = state_goal(app, episode_id, "phq-9", [(0, 25), (1, 18), (8, 12)])
    app.correct_measurement(phq9, 1, reason="entered for another client", actor=THERAPIST)
    app.correct_measurement(phq9, 3, value=8, reason="typing slip", actor=THERAPIST)
    state_goal(app, episode_id, "gad-7", [(0, 9), (8, 5)])
    finish(app, episode_id)
    outcome = only_outcome(app)
    assert outcome.depression is not None
    assert (outcome.depression.first, outcome.depression.last) == (18, 8)
    assert reading(outcome) == reference_outcome(
        pooled(("phq-9", [(1, 18), (8, 8)]), ("gad-7", [(0, 9), (8, 5)])),
        ended=True,
        attended_sessions=2,
    )


def test_caseload_counts_show_the_rule_and_rates_per_therapist(app: GoalpathApp) -> None:
    for phq9, gad7 in (((18, 8), (9, 5)), ((18, 8), (3, 7)), ((12, 11), (9, 9))):
        episode_id = open_episode(app)
        state_goal(app, episode_id, "phq-9", [(0, phq9[0]), (8, phq9[1])])
        state_goal(app, episode_id, "gad-7", [(0, gad7[0]), (8, gad7[1])])
        finish(app, episode_id)
    with Projections(app) as projections:
        outcomes = projections.caseload_outcomes(THERAPIST.id)
    counts = outcomes.by_therapist[THERAPIST.id]
    assert outcomes.rule.title == f"{PAIRED_RULE.name}, {PAIRED_RULE.version}"
    assert (counts.finished_paired, counts.cases_at_start, counts.recovery) == (3, 3, 2)
    assert (counts.reliable_improvement, counts.reliable_deterioration) == (1, 1)
    assert counts.rates["recovery"] == pytest.approx(2 / 3)
    assert counts.rates["reliable_deterioration"] == pytest.approx(1 / 3)


# -- registry: the anxiety-disorder-specific flag -------------------------------------------


def test_an_anxiety_disorder_specific_measure_needs_both_thresholds() -> None:
    with pytest.raises(InvalidTemplateError, match="caseness and a reliable-change"):
        attrs.evolve(PANIC, reliable_change=None)
    with pytest.raises(InvalidTemplateError, match="True or False"):
        attrs.evolve(PANIC, anxiety_disorder_specific="yes")  # type: ignore[arg-type]  # a plugin's mistake


def test_the_registry_refuses_gad7_or_phq9_marked_as_standing_in_for_gad7() -> None:
    gad7 = installed_conventions()["gad-7"]
    registry = MeasureRegistry("rival")
    with pytest.raises(InvalidContributionError, match="only another measure can stand in"):
        registry.add(attrs.evolve(gad7, anxiety_disorder_specific=True))
    registry.add(PANIC)
    assert registry.instruments == (PANIC,)


def test_a_plugin_without_the_flag_keeps_working() -> None:
    plain = Instrument(
        id="plain-scale",
        name="Plain",
        unit="points",
        direction="decrease",
        minimum=0,
        maximum=10,
        description="An instrument built as third-party plugins built them before the flag.",
    )
    assert plain.anxiety_disorder_specific is False


# -- the law: how scores are split across goals does not matter ------------------------------

EPISODE = EpisodeRecord(
    episode_id=uuid4(),
    client_id="client-1",
    therapist_ids=("therapist-1",),
    concerns=(),
    opened_on=OPENED_ON,
    closed_on=TODAY,
    close_reason="treatment finished",
    sessions_recorded=4,
    sessions_attended=4,
    goal_ids=(),
    version=1,
)


def goal_record(code: str, scores: Sequence[tuple[int, float]]) -> GoalRecord:
    """A goal record of :data:`EPISODE` on ``code`` with (day, score) measurements."""
    return GoalRecord(
        goal_id=uuid4(),
        episode_id=EPISODE.episode_id,
        client_id=EPISODE.client_id,
        status="active",
        definition=GoalDefinition(
            statement="Reduce my score", start_on=OPENED_ON, measure=measure_of(code)
        ),
        concerns=(),
        version=1,
        reviews_count=0,
        last_reviewed_on=None,
        latest_achievement=None,
        latest_attainment=None,
        retirement_reason=None,
        ended_on=None,
        template_id=None,
        template_version=None,
        measurements=tuple(
            MeasurementRecord(
                sequence=index + 1, value=score, observed_on=OPENED_ON + timedelta(days=day)
            )
            for index, (day, score) in enumerate(scores)
        ),
    )


@st.composite
def split_series(draw: st.DrawFn, code: str) -> tuple[list[tuple[int, float]], list[int]]:
    """A series of scores on distinct days and a goal number (0-2) for each score."""
    _caseness, _change, low, high = PUBLISHED[code]
    days = draw(st.lists(st.integers(0, 120), min_size=0, max_size=6, unique=True))
    scores = [(day, float(draw(st.integers(low, high)))) for day in days]
    owners = [draw(st.integers(0, 2)) for _ in scores]
    return scores, owners


@settings(max_examples=150, deadline=None)
@given(phq9=split_series("phq-9"), gad7=split_series("gad-7"))
def test_an_episodes_classification_does_not_depend_on_how_scores_are_split_across_goals(
    phq9: tuple[list[tuple[int, float]], list[int]],
    gad7: tuple[list[tuple[int, float]], list[int]],
) -> None:
    """Law: one goal per instrument or the same scores over up to three goals, same outcome.

    Scores fall on distinct days, and both readings equal the reference's.
    """
    whole: list[GoalRecord] = []
    split: list[GoalRecord] = []
    for code, (scores, owners) in (("phq-9", phq9), ("gad-7", gad7)):
        if scores:
            whole.append(goal_record(code, scores))
        for owner in range(3):
            mine = [score for score, who in zip(scores, owners, strict=True) if who == owner]
            if mine:
                split.append(goal_record(code, mine))
    readings = []
    for goals in (whole, split):
        outcomes = build_caseload_outcomes({EPISODE.episode_id: EPISODE}, goals).episodes
        readings.append(reading(outcomes[0]) if outcomes else None)
    assert readings[0] == readings[1]
    expected = reference_outcome(
        {
            code: [(OPENED_ON + timedelta(days=day), score) for day, score in scores]
            for code, (scores, _owners) in (("phq-9", phq9), ("gad-7", gad7))
        },
        ended=True,
        attended_sessions=EPISODE.sessions_attended,
    )
    if readings[0] is not None:
        assert readings[0] == expected
    else:
        assert not phq9[0]
        assert not gad7[0]
