"""The two times: recorded time (``as_of``) and effective time (``effective_on``).

Recorded time is what the store knew at a moment, by the events' timestamps
(the ``clock`` fixture stamps them, no test waits); effective time is what
was in force on a day, by the dates the events carry. A goal entered on
2026-11-15 with start date 2026-10-01 is in the plan in effect on
2026-11-01 and not in the plan as recorded by the end of 2026-11-01.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, Final

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError, NotFoundError
from goalpath.core.values import GoalDefinition, Measure, Measurement, Target
from goalpath.projections import Projections
from tests.conftest import EventClock, end_of
from tests.projections.stores import ProjectionStore
from tests.strategies import THERAPIST

OPENED: Final = date(2026, 9, 28)
BACKDATED_START: Final = date(2026, 10, 1)
VIEWED: Final = date(2026, 11, 1)
ENTERED: Final = date(2026, 11, 15)


def walking_goal(start_on: date) -> GoalDefinition:
    """A SMART goal starting on ``start_on``."""
    return GoalDefinition(
        statement="Walk to the corner shop alone three times a week by practising graded exposure",
        start_on=start_on,
        measure=Measure(name="walks alone", unit="per week", direction="increase", minimum=0),
        target=Target(baseline=0, value=3, due_on=start_on + timedelta(weeks=12)),
        area="behavioural-change",
    )


@attrs.frozen
class Backdated:
    """The scenario's ids: an episode opened on time, a goal entered late with an earlier start."""

    episode_id: Any
    goal_id: Any


def record_backdated_goal(app: GoalpathApp, clock: EventClock) -> Backdated:
    """Open an episode on 2026-09-28; on 2026-11-15 enter a goal started on 2026-10-01.

    Entered the same day: a measurement observed on 2026-10-20 and one on
    2026-11-10, and a review of 2026-11-12 that pauses the goal.
    """
    clock.move_to(OPENED)
    episode_id = app.open_episode(
        client_id="client-0042", therapist_ids=["therapist-7"], opened_on=OPENED, actor=THERAPIST
    )
    clock.move_to(ENTERED)
    goal_id = app.create_goal(
        episode_id, walking_goal(BACKDATED_START), actor=THERAPIST, activate=True
    )
    app.record_measurement(goal_id, 1, observed_on=date(2026, 10, 20), actor=THERAPIST)
    app.record_measurement(goal_id, 2, observed_on=date(2026, 11, 10), actor=THERAPIST)
    app.review_goal(
        goal_id,
        achievement="improving",
        decision="pause",
        attainment=1,
        reviewed_on=date(2026, 11, 12),
        actor=THERAPIST,
    )
    return Backdated(episode_id, goal_id)


@pytest.fixture
def app(clock: EventClock) -> Iterator[GoalpathApp]:
    """An in-memory application whose 'today' is the day the clock stamps."""
    with GoalpathApp(today=clock.today) as application:
        yield application


def test_a_backdated_goal_is_in_the_effective_view_and_not_in_the_recorded_view(
    app: GoalpathApp, clock: EventClock
) -> None:
    ids = record_backdated_goal(app, clock)
    with Projections(app) as projections:
        recorded = projections.plan_for_episode(ids.episode_id, as_of=end_of(VIEWED))
        effective = projections.plan_for_episode(ids.episode_id, effective_on=VIEWED)
        now = projections.plan_for_episode(ids.episode_id)
    assert (recorded.goals, recorded.ended) == ((), ())  # not yet entered on 2026-11-01
    [in_force] = effective.goals
    assert in_force.goal_id == ids.goal_id
    assert effective.on == VIEWED
    # In force on 2026-11-01: active, with the measurement observed by then only,
    # and not yet the review (and its pause) of 2026-11-12.
    assert in_force.record.status == "active"
    assert [m.value for m in in_force.record.measurements] == [1]
    assert in_force.latest is not None
    assert in_force.latest.observed_on == date(2026, 10, 20)
    assert (in_force.record.reviews_count, effective.gas.scored) == (0, 0)
    [current] = now.goals
    assert current.record.status == "on-hold"
    assert [m.sequence for m in current.record.measurements] == [2]  # a plan holds the latest
    assert now.gas.t_score is not None


def test_the_api_reads_take_both_times(app: GoalpathApp, clock: EventClock) -> None:
    ids = record_backdated_goal(app, clock)
    assert app.list_goals(ids.episode_id, as_of=end_of(VIEWED)) == []
    [goal] = app.list_goals(ids.episode_id, effective_on=VIEWED)
    assert (goal.id, goal.status) == (ids.goal_id, "active")
    assert app.get_goal(ids.goal_id, effective_on=date(2026, 11, 12)).status == "on-hold"
    assert app.list_goals(ids.episode_id, effective_on=date(2026, 9, 30)) == []  # not started
    with pytest.raises(NotFoundError, match="not yet started"):
        app.get_goal(ids.goal_id, effective_on=date(2026, 9, 30))
    with pytest.raises(NotFoundError, match="not yet stated"):
        app.get_goal(ids.goal_id, as_of=end_of(VIEWED))
    # Both: in force on 2026-11-01 as the store knew it at the end of 2026-11-01: nothing yet.
    assert app.list_goals(ids.episode_id, as_of=end_of(VIEWED), effective_on=VIEWED) == []
    with pytest.raises(NotFoundError, match="not yet opened"):
        app.get_episode(ids.episode_id, effective_on=OPENED - timedelta(days=1))
    with Projections(app) as projections:
        report = projections.progress(ids.goal_id, effective_on=VIEWED)
        assert report.as_of == VIEWED
        assert [m.value for m in report.series] == [1]
        with pytest.raises(NotFoundError):
            projections.progress(ids.goal_id, as_of=end_of(VIEWED))


def test_a_correction_takes_effect_with_the_measurement_it_corrects(
    app: GoalpathApp, clock: EventClock
) -> None:
    ids = record_backdated_goal(app, clock)
    clock.move_to(ENTERED + timedelta(days=3))
    app.correct_measurement(ids.goal_id, 2, value=3, reason="misread the diary", actor=THERAPIST)
    app.correct_measurement(ids.goal_id, 1, value=0, reason="misread the diary", actor=THERAPIST)
    [first] = app.goal_measurements(ids.goal_id, effective_on=VIEWED)
    assert (first.sequence, first.value, first.original_value) == (1, 0, 1)
    later = app.goal_measurements(ids.goal_id, effective_on=date(2026, 11, 10))
    assert [m.value for m in later] == [0, 3]


def test_gas_and_the_latest_achievement_follow_the_review_date(
    app: GoalpathApp, clock: EventClock
) -> None:
    ids = record_backdated_goal(app, clock)  # review of 2026-11-12: improving, +1
    app.review_goal(
        ids.goal_id,
        achievement="worsening",
        decision="continue",
        attainment=-1,
        reviewed_on=date(2026, 11, 2),  # entered later, held earlier
        actor=THERAPIST,
    )
    goal = app.get_goal(ids.goal_id)
    assert (goal.latest_attainment, goal.latest_achievement) == (1, "improving")
    with Projections(app) as projections:
        [planned] = projections.plan_for_episode(ids.episode_id).goals
        assert (planned.record.latest_attainment, planned.record.latest_achievement) == (
            1,
            "improving",
        )
        early = projections.plan_for_episode(ids.episode_id, effective_on=date(2026, 11, 5))
        assert early.goals[0].record.latest_achievement == "worsening"
        assert early.goals[0].record.latest_attainment == -1


def test_the_command_line_names_both_times(projection_store: ProjectionStore) -> None:
    clock = EventClock()
    with clock.installed(), projection_store.app(today=clock.today) as app:
        ids = record_backdated_goal(app, clock)
    episode = str(ids.episode_id)

    def plan(*times: str) -> Any:
        result = projection_store.cli("plan", "show", "--episode", episode, *times, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert plan("--as-of", VIEWED.isoformat())["goals"] == []
    effective = plan("--effective-on", VIEWED.isoformat())
    assert [g["id"] for g in effective["goals"]] == [str(ids.goal_id)]
    assert effective["goals"][0]["status"] == "active"
    assert plan()["goals"][0]["status"] == "on-hold"
    goal = projection_store.cli(
        "goal", "show", str(ids.goal_id), "--effective-on", VIEWED.isoformat(), "--json"
    )
    assert goal.exit_code == 0, goal.output
    assert [m["value"] for m in json.loads(goal.stdout)["recent_measurements"]] == [1]
    progress = projection_store.cli(
        "progress", str(ids.goal_id), "--effective-on", VIEWED.isoformat(), "--json"
    )
    assert progress.exit_code == 0, progress.output
    assert [p["value"] for p in json.loads(progress.stdout)["series"]] == [1]
    for command in (["plan", "show"], ["goal", "show"], ["progress"], ["export", "fhir"]):
        help_text = " ".join(projection_store.cli(*command, "--help").stdout.split())
        assert "Recorded time:" in help_text
        if command != ["export", "fhir"]:
            assert "Effective time:" in help_text


# -- laws over generated histories -------------------------------------------------

START: Final = date(2026, 3, 2)
DAYS: Final = 30

step = st.tuples(
    st.integers(0, 3),  # days after the previous step
    st.sampled_from(["create", "measure", "review", "pause", "resume", "retire", "refine"]),
    st.integers(0, 2),  # which goal
    st.integers(0, 20),  # how many days before its recording day an event is dated
    st.integers(0, 3),  # a value, or a GAS level + 2
)


def play(app: GoalpathApp, clock: EventClock, steps: list[Any], *, backdate: bool) -> Any:
    """Record a generated history, one day or more between steps; return the episode's id.

    Refused commands (measuring a goal not started yet, pausing a goal on
    hold...) write nothing and are skipped. Without ``backdate`` every event
    is dated the day it is recorded; with it, up to 20 days earlier (never
    before the episode opened or the goal started).
    """
    clock.move_to(START)
    episode_id = app.open_episode(
        client_id="client-1", therapist_ids=["therapist-7"], opened_on=START, actor=THERAPIST
    )
    goals: list[Any] = []
    day = START
    for gap, action, which, earlier, number in steps:
        day += timedelta(days=gap)
        clock.move_to(day)
        dated = max(day - timedelta(days=earlier if backdate else 0), START)
        goal = goals[which % len(goals)] if goals else None
        try:
            if action == "create" or goal is None:
                goals.append(
                    app.create_goal(episode_id, walking_goal(dated), actor=THERAPIST, activate=True)
                )
                continue
            dated = max(dated, app.get_goal(goal).definition.start_on)
            if action == "measure":
                app.record_measurement(goal, number, observed_on=dated, actor=THERAPIST)
            elif action in {"review", "pause", "resume"}:
                decision = "continue" if action == "review" else action
                app.review_goal(
                    goal,
                    achievement="improving",
                    decision=decision,  # type: ignore[arg-type]  # one of the decisions
                    attainment=number - 2,
                    reviewed_on=dated,
                    actor=THERAPIST,
                )
            elif action == "retire":
                app.retire_goal(
                    goal,
                    reason_code="achieved",
                    reason="target reached",
                    retired_on=dated,
                    actor=THERAPIST,
                )
            else:
                app.refine_goal(
                    goal, reason="a new cadence", review_every_days=7 + number, actor=THERAPIST
                )
        except GoalpathError:
            pass
    return episode_id


def _history_app(clock: EventClock) -> GoalpathApp:
    return GoalpathApp(today=clock.today)


@settings(max_examples=25)
@given(steps=st.lists(step, max_size=14))
def test_without_backdating_the_two_views_agree(steps: list[Any]) -> None:
    """Law: when every event is dated the day it is recorded, the plan in effect on a day
    is the plan as recorded by the end of that day."""
    clock = EventClock()
    with clock.installed(), _history_app(clock) as app, Projections(app) as projections:
        episode_id = play(app, clock, steps, backdate=False)
        for offset in range(0, DAYS + 1, 3):
            day = START + timedelta(days=offset)
            assert projections.plan_for_episode(
                episode_id, effective_on=day
            ) == projections.plan_for_episode(episode_id, as_of=end_of(day))


def _measured(series: list[Measurement]) -> set[int]:
    return {m.sequence for m in series}


@settings(max_examples=25)
@given(steps=st.lists(step, max_size=14))
def test_what_was_recorded_by_a_day_is_in_effect_on_it(steps: list[Any]) -> None:
    """Law: events are dated on or before the day they are recorded, so every goal and
    measurement the store knew by the end of a day is in effect on that day; and on a day
    after every event, the effective view is the plan now."""
    clock = EventClock()
    with clock.installed(), _history_app(clock) as app, Projections(app) as projections:
        episode_id = play(app, clock, steps, backdate=True)
        last_day = clock.now.date()
        for offset in range(0, DAYS + 1, 3):
            day = START + timedelta(days=offset)
            recorded = {g.id for g in app.list_goals(episode_id, as_of=end_of(day))}
            effective = {g.id for g in app.list_goals(episode_id, effective_on=day)}
            assert recorded <= effective
            for goal_id in recorded:
                assert _measured(app.goal_measurements(goal_id, as_of=end_of(day))) <= _measured(
                    app.goal_measurements(goal_id, effective_on=day)
                )
        assert projections.plan_for_episode(
            episode_id, effective_on=last_day
        ) == projections.plan_for_episode(episode_id, today=last_day)
