"""Rules computed from read-model records: progress, plan warnings, queue, outcomes, changes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.changes import StreamState, describe_changes
from goalpath.core.goal import Goal
from goalpath.core.smart import evaluate_smart
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.projections import (
    Projections,
    assess_progress,
    build_plan,
    plan_warnings,
)
from goalpath.projections.caseload import build_caseload_outcomes
from goalpath.projections.progress import expected_value, percent_of_way, slope_per_week
from goalpath.projections.records import EpisodeRecord, GoalRecord, MeasurementRecord
from goalpath.projections.review_queue import build_review_queue
from tests.conftest import fixed_today
from tests.projections.strategies import PHQ9, gad7_definition, phq9_definition
from tests.strategies import CATALOG, CONCERNS, GOAL_START, PANIC_MEASURE, THERAPIST, TODAY

START = date(2026, 1, 5)
DUE = START + timedelta(weeks=10)
COUNT = Measure(name="panic attacks", unit="per week", direction="decrease", minimum=0)
TARGET = Target(baseline=10, value=0, due_on=DUE)
DEFINITION = GoalDefinition(
    statement="Reduce panic attacks from 10 to 0 per week within 10 weeks",
    start_on=START,
    measure=COUNT,
    target=TARGET,
)


def goal(
    definition: GoalDefinition = DEFINITION,
    values: tuple[tuple[int, float | None], ...] = (),
    **changes: Any,
) -> GoalRecord:
    """A goal record with measurements on (week, value) pairs; a None value is voided."""
    record = GoalRecord(
        goal_id=uuid4(),
        episode_id=EPISODE.episode_id,
        client_id="client-1",
        status="active",
        definition=definition,
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
                sequence=index + 1,
                value=value,
                observed_on=definition.start_on + timedelta(weeks=week),
                status="final" if value is not None else "entered-in-error",
            )
            for index, (week, value) in enumerate(values)
        ),
    )
    return attrs.evolve(record, **changes)


EPISODE = EpisodeRecord(
    episode_id=uuid4(),
    client_id="client-1",
    therapist_ids=("therapist-7",),
    concerns=("panic attacks",),
    opened_on=START,
    closed_on=None,
    close_reason=None,
    sessions_recorded=3,
    sessions_attended=3,
    goal_ids=(),
    version=1,
)

# -- progress -----------------------------------------------------------------------


def test_percent_of_the_way_counts_from_baseline_towards_target() -> None:
    assert percent_of_way(COUNT, TARGET, 10) == 0
    assert percent_of_way(COUNT, TARGET, 5) == 50
    assert percent_of_way(COUNT, TARGET, 0) == 100
    assert percent_of_way(COUNT, TARGET, 12) == -20
    rising = Measure(name="walks", unit="per week", direction="increase")
    assert percent_of_way(rising, Target(baseline=2, value=6, due_on=DUE), 5) == 75


def test_expected_trajectory_runs_from_baseline_at_start_to_target_at_due_date() -> None:
    assert expected_value(START, TARGET, START) == 10
    assert expected_value(START, TARGET, START + timedelta(weeks=5)) == 5
    assert expected_value(START, TARGET, DUE) == 0
    assert expected_value(START, TARGET, DUE + timedelta(days=30)) == 0
    assert expected_value(START, TARGET, START - timedelta(days=3)) == 10


@settings(max_examples=50)
@given(
    st.floats(-50, 50, allow_nan=False),
    st.floats(-100, 100, allow_nan=False),
    st.lists(st.integers(0, 400), min_size=2, max_size=10, unique=True),
)
def test_least_squares_slope_of_points_on_a_line_is_the_line_slope(
    slope: float, intercept: float, days: list[int]
) -> None:
    """Law: the trend of exact points on a line is that line's slope (per week)."""
    points = [(START + timedelta(days=d), intercept + slope * d / 7) for d in sorted(days)]
    trend = slope_per_week(points)
    assert trend == pytest.approx(slope, abs=1e-6)


def test_a_trend_needs_two_dates() -> None:
    assert slope_per_week([(START, 1.0)]) is None
    assert slope_per_week([(START, 1.0), (START, 3.0)]) is None


@pytest.mark.parametrize(
    ("values", "status"),
    [
        (((5, 0),), "achieved"),  # target reached
        (((5, 5),), "on-track"),  # exactly on the trajectory
        (((5, 6),), "on-track"),  # 10% behind
        (((5, 7),), "at-risk"),  # 20% behind
        (((5, 8),), "off-track"),  # 30% behind, one point: no trend
        (((1, 10), (5, 8)), "off-track"),  # behind, trend reaches only 3.5 by the due date
        (((4, 10), (5, 8)), "at-risk"),  # well behind, but falling 2 a week reaches 0 in time
        (((5, 5), (6, None)), "on-track"),  # a voided value is left out
    ],
)
def test_progress_status(values: tuple[tuple[int, float | None], ...], status: str) -> None:
    report = assess_progress(goal(values=values), START + timedelta(weeks=6))
    assert report.status == status, report.reason


def test_past_the_due_date_without_the_target_is_off_track() -> None:
    report = assess_progress(goal(values=((9, 1),)), DUE + timedelta(days=1))
    assert report.status == "off-track"
    assert "due date" in report.reason


def test_without_a_target_or_measurement_progress_is_not_assessable() -> None:
    vague = GoalDefinition(statement="I want to be less anxious", start_on=START)
    assert assess_progress(goal(vague), TODAY).status == "not-assessable"
    assert assess_progress(goal(), TODAY).status == "not-assessable"


def test_progress_of_a_standardised_goal_carries_its_outcome() -> None:
    definition = attrs.evolve(phq9_definition(), start_on=START)
    definition = attrs.evolve(definition, target=Target(baseline=16, value=8, due_on=DUE))
    report = assess_progress(
        goal(definition, ((0, 16), (4, 12), (8, 9))), START + timedelta(weeks=8)
    )
    assert report.outcome is not None
    assert report.outcome.recovery
    assert report.outcome.reliable_recovery
    assert report.percent == pytest.approx(87.5)


# -- plan warnings ---------------------------------------------------------------------


def codes(episode: EpisodeRecord, goals: list[GoalRecord], today: date = TODAY) -> list[str]:
    return [warning.code for warning in plan_warnings(episode, goals, today)]


def test_no_plan_warning_from_session_four() -> None:
    proposed = goal(
        status="proposed", definition=attrs.evolve(DEFINITION, focus="strength-building")
    )
    assert "no-plan" not in codes(attrs.evolve(EPISODE, sessions_recorded=3), [proposed])
    assert "no-plan" in codes(attrs.evolve(EPISODE, sessions_recorded=4), [proposed])
    active = attrs.evolve(proposed, status="active", last_reviewed_on=TODAY)
    assert "no-plan" not in codes(attrs.evolve(EPISODE, sessions_recorded=4), [active])


def test_no_progress_check_warning_from_session_eight() -> None:
    reviewed = goal(reviews_count=1, last_reviewed_on=TODAY)
    unreviewed = goal(
        last_reviewed_on=None, definition=attrs.evolve(DEFINITION, review_every_days=365)
    )
    assert "no-progress-check" not in codes(
        attrs.evolve(EPISODE, sessions_recorded=7), [unreviewed]
    )
    assert "no-progress-check" in codes(attrs.evolve(EPISODE, sessions_recorded=8), [unreviewed])
    assert "no-progress-check" not in codes(attrs.evolve(EPISODE, sessions_recorded=8), [reviewed])


def test_only_symptom_reduction_goals_are_flagged() -> None:
    symptom = goal()
    strength = goal(definition=attrs.evolve(DEFINITION, focus="strength-building"))
    retired_strength = attrs.evolve(strength, status="completed")
    assert "only-symptom-reduction" in codes(EPISODE, [symptom])
    assert "only-symptom-reduction" not in codes(EPISODE, [symptom, strength])
    assert "only-symptom-reduction" in codes(EPISODE, [symptom, retired_strength])
    assert "only-symptom-reduction" not in codes(EPISODE, [])


def test_review_overdue_the_day_after_the_cadence() -> None:
    fortnightly = goal(definition=attrs.evolve(DEFINITION, review_every_days=14))
    due = START + timedelta(days=14)
    assert "review-overdue" not in codes(EPISODE, [fortnightly], due)
    warnings = plan_warnings(EPISODE, [fortnightly], due + timedelta(days=1))
    overdue = [w for w in warnings if w.code == "review-overdue"]
    assert [w.goal_id for w in overdue] == [fortnightly.goal_id]
    assert "1 days ago" in overdue[0].message
    reviewed = attrs.evolve(fortnightly, last_reviewed_on=due)
    assert "review-overdue" not in codes(EPISODE, [reviewed], due + timedelta(days=1))
    assert "review-overdue" not in codes(
        EPISODE, [attrs.evolve(fortnightly, status="proposed")], TODAY
    )


def test_a_closed_episode_has_no_warnings() -> None:
    closed = attrs.evolve(EPISODE, closed_on=TODAY, sessions_recorded=12)
    assert codes(closed, [goal()]) == []


def test_plan_keeps_goals_in_force_in_episode_order_and_scores_gas() -> None:
    first = goal(latest_attainment=1)
    second = goal(latest_attainment=2)
    ended = goal(status="completed", latest_attainment=-1)
    error = goal(status="entered-in-error", latest_attainment=2)
    episode = attrs.evolve(
        EPISODE, goal_ids=(second.goal_id, first.goal_id, ended.goal_id, error.goal_id)
    )
    plan = build_plan(episode, [first, ended, second, error], TODAY)
    assert [g.goal_id for g in plan.goals] == [second.goal_id, first.goal_id]
    assert [g.goal_id for g in plan.ended] == [ended.goal_id, error.goal_id]
    assert plan.gas_t_score == pytest.approx(59.13, abs=0.005)  # (+1, +2, -1)
    assert plan.goals[0].smart == evaluate_smart(DEFINITION, ())


# -- review queue ---------------------------------------------------------------------------


def test_review_queue_lists_overdue_and_soon_due_reviews_since_when() -> None:
    weekly = goal(definition=attrs.evolve(DEFINITION, review_every_days=7))
    monthly = goal(definition=attrs.evolve(DEFINITION, review_every_days=30))
    proposed = goal(status="proposed", definition=attrs.evolve(DEFINITION, review_every_days=7))
    today = START + timedelta(days=24)
    queue = build_review_queue({EPISODE.episode_id: EPISODE}, [weekly, monthly, proposed], today)
    assert [(item.goal_id, item.state, item.days_overdue) for item in queue] == [
        (weekly.goal_id, "overdue", 17),
        (monthly.goal_id, "due", -6),
    ]
    assert queue[0].due_on == START + timedelta(days=7)
    assert build_review_queue({EPISODE.episode_id: EPISODE}, [monthly], today, within_days=5) == []
    closed = attrs.evolve(EPISODE, closed_on=today)
    assert build_review_queue({EPISODE.episode_id: closed}, [weekly], today) == []


def test_review_queue_per_therapist_through_the_projections() -> None:
    with GoalpathApp(today=fixed_today) as app, Projections(app) as projections:
        episodes = []
        for therapist in ("therapist-7", "therapist-8"):
            episode_id = app.open_episode(
                client_id=f"client-of-{therapist}",
                therapist_ids=[therapist],
                concerns=CONCERNS,
                opened_on=GOAL_START,
                actor=THERAPIST,
            )
            assigned = Actor(therapist, "therapist")
            app.create_goal(episode_id, CATALOG["panic"].definition, actor=assigned, activate=True)
            episodes.append(episode_id)
        assert len(projections.reviews_due()) == 2
        mine = projections.reviews_due("therapist-8")
        assert [item.episode_id for item in mine] == [episodes[1]]
        assert mine[0].state == "overdue"
        assert mine[0].due_on == GOAL_START + timedelta(days=28)
        app.assign_therapist(episodes[0], "therapist-8", actor=Actor("supervisor-1", "supervisor"))
        assert len(projections.reviews_due("therapist-8")) == 2
        assert projections.reviews_due("nobody") == []


# -- caseload outcomes ------------------------------------------------------------------------


def _phq9_goal(episode: EpisodeRecord, first: float, last: float) -> GoalRecord:
    return goal(phq9_definition(), ((0, first), (6, last)), episode_id=episode.episode_id)


def _gad7_goal(episode: EpisodeRecord, first: float, last: float) -> GoalRecord:
    return goal(gad7_definition(), ((0, first), (6, last)), episode_id=episode.episode_id)


def _finished(therapists: tuple[str, ...]) -> EpisodeRecord:
    return attrs.evolve(
        EPISODE, episode_id=uuid4(), therapist_ids=therapists, closed_on=START + timedelta(weeks=8)
    )


def test_caseload_outcomes_count_per_therapist_and_overall() -> None:
    a = _finished(("therapist-7",))
    b = _finished(("therapist-7", "therapist-8"))
    c = _finished(("therapist-8",))
    unpaired = _finished(("therapist-9",))
    goals = [
        _phq9_goal(a, 18, 8),  # reliable recovery
        _phq9_goal(b, 12, 9),  # recovery, not reliable
        _phq9_goal(c, 8, 15),  # reliable deterioration
        *(_gad7_goal(episode, 6, 6) for episode in (a, b, c)),  # below caseness, no change
        goal(phq9_definition(), ((0, 20),), episode_id=unpaired.episode_id),  # one score only
    ]
    episodes = {e.episode_id: e for e in (a, b, c, unpaired)}
    outcomes = build_caseload_outcomes(episodes, goals)
    overall = outcomes.overall
    assert (overall.finished_paired, overall.cases_at_start, overall.unpaired) == (3, 2, 1)
    assert (overall.recovery, overall.reliable_recovery) == (2, 1)
    assert (overall.reliable_improvement, overall.reliable_deterioration) == (1, 1)
    assert overall.rates["recovery"] == 1.0
    assert overall.rates["reliable_deterioration"] == pytest.approx(1 / 3)
    assert set(outcomes.by_therapist) == {"therapist-7", "therapist-8", "therapist-9"}
    assert outcomes.by_therapist["therapist-7"].recovery == 2
    assert outcomes.by_therapist["therapist-8"].reliable_deterioration == 1
    assert outcomes.by_therapist["therapist-9"].finished_paired == 0
    only_8 = build_caseload_outcomes(episodes, goals, therapist_id="therapist-8")
    assert only_8.overall.finished_paired == 2
    assert list(only_8.by_therapist) == ["therapist-8"]


def test_no_measured_episode_gives_no_rates() -> None:
    outcomes = build_caseload_outcomes({}, [])
    assert outcomes.overall.finished_paired == 0
    assert set(outcomes.overall.rates.values()) == {None}


def test_phq9_goal_definition_used_by_the_tests_is_smart() -> None:
    assert evaluate_smart(phq9_definition(), CONCERNS).passed
    assert phq9_definition().measure == PHQ9


# -- field-level changes ----------------------------------------------------------------------


def _goal_events(app: GoalpathApp, goal_id: UUID) -> list[Goal.Event]:
    return app.goal_events(goal_id)


def test_changes_of_a_refinement_are_field_by_field_before_and_after() -> None:
    with GoalpathApp(today=fixed_today) as app:
        episode_id = app.open_episode(
            client_id="c",
            therapist_ids=["therapist-7"],
            concerns=CONCERNS,
            opened_on=GOAL_START,
            actor=THERAPIST,
        )
        panic = CATALOG["panic"].definition
        goal_id = app.create_goal(episode_id, panic, actor=THERAPIST, activate=True)
        slower = CATALOG["panic-slower"].definition
        app.refine_goal(
            goal_id,
            reason="slower pace",
            actor=THERAPIST,
            target=slower.target,
            priority="high-priority",
        )
        app.record_measurement(goal_id, 3, actor=THERAPIST, observed_on=GOAL_START)
        app.correct_measurement(goal_id, 1, value=2, reason="typo", actor=THERAPIST)
        events = _goal_events(app, goal_id)
        before_refine = app.get_goal(goal_id, version=1)
        changes = describe_changes(StreamState.of(before_refine), events[1])
        assert {(c.field, c.before, c.after) for c in changes} == {
            ("definition.target.value", 1.0, 2.0),
            (
                "definition.target.due_on",
                panic.target.due_on.isoformat(),  # type: ignore[union-attr]
                slower.target.due_on.isoformat(),  # type: ignore[union-attr]
            ),
            ("definition.priority", "medium-priority", "high-priority"),
        }
        before_correction = StreamState.of(app.get_goal(goal_id, version=3))
        correction = describe_changes(before_correction, events[3])
        assert [(c.field, c.before, c.after) for c in correction] == [
            ("measurements[1].value", 3.0, 2.0),
            ("measurements[1].status", "final", "amended"),
            ("measurements[1].original_value", None, 3.0),
        ]
        proposed = app.create_goal(episode_id, panic, actor=THERAPIST)
        app.activate_goal(proposed, actor=THERAPIST)
        activated = _goal_events(app, proposed)[1]
        assert isinstance(activated, Goal.Activated)
        [activation] = describe_changes(
            StreamState.of(app.get_goal(proposed, version=1)), activated
        )
        assert (activation.before, activation.after) == ("proposed", "active")


def test_a_voided_measurement_changes_to_none() -> None:
    with GoalpathApp(today=fixed_today) as app:
        episode_id = app.open_episode(
            client_id="c",
            therapist_ids=["therapist-7"],
            concerns=CONCERNS,
            opened_on=GOAL_START,
            actor=THERAPIST,
        )
        goal_id = app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST)
        app.record_measurement(goal_id, 4, actor=THERAPIST, observed_on=GOAL_START)
        app.correct_measurement(
            goal_id, 1, reason="wrong client", actor=Actor("sup-1", "supervisor")
        )
        with Projections(app) as projections:
            [entry] = projections.audit_log(goal_id=goal_id, actor_id="sup-1")
        assert entry.event_type == "MeasurementCorrected"
        assert [(c.field, c.before, c.after) for c in entry.changes] == [
            ("measurements[1].value", 4.0, None),
            ("measurements[1].status", "final", "entered-in-error"),
            ("measurements[1].original_value", None, 4.0),
        ]
        assert entry.reason == "wrong client"
        assert entry.actor_role == "supervisor"


def test_panic_measure_is_shared_by_the_catalog() -> None:
    assert CATALOG["panic"].definition.measure == PANIC_MEASURE
