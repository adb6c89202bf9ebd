"""Replay law: a goal rebuilt from its stored events is the goal, with snapshots or without."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal
from tests.conftest import AppFactory
from tests.strategies import CATALOG, THERAPIST, GoalStep, goal_histories, open_standard_episode


def comparable(goal: Goal) -> dict[str, Any]:
    """The aggregate's whole state, without the not-yet-saved events."""
    return {key: value for key, value in vars(goal).items() if key != "_pending_events"}


def fold(events: list[Goal.Event]) -> Goal:
    """Rebuild a goal by applying each event in turn, as replay does, without snapshots."""
    aggregate: Any = None
    for domain_event in events:
        aggregate = domain_event.mutate(aggregate)
    assert isinstance(aggregate, Goal)
    return aggregate


def run_history(app: GoalpathApp, history: list[GoalStep]) -> UUID:
    episode_id = open_standard_episode(app)
    goal_id = app.create_goal(
        episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
    )
    for step in history:
        step.run(app, goal_id)
    return goal_id


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=goal_histories(), interval=st.sampled_from([0, 1, 3]))
def test_replaying_a_goals_events_reproduces_it_exactly(
    app_factory: AppFactory, history: list[GoalStep], interval: int
) -> None:
    """Law: for any valid history, the goal loaded from the store (from its latest
    snapshot plus later events, or from events alone), the fold of its stored
    events, and the goal as of each version all agree, field for field.
    """
    app = app_factory(snapshot_interval=interval)
    goal_id = run_history(app, history)
    events = app.goal_events(goal_id)
    loaded = app.get_goal(goal_id)

    assert loaded.version == len(events) == len(history) + 1
    assert comparable(loaded) == comparable(fold(events))
    for version in range(1, len(events) + 1):
        assert comparable(app.get_goal(goal_id, version=version)) == comparable(
            fold(events[:version])
        )
    stored = engine_of(app).snapshots
    snapshots = list(stored.get(goal_id)) if stored is not None else []
    expected_snapshots = len(events) // interval if interval else 0
    assert [s.originator_version for s in snapshots] == [
        interval * n for n in range(1, expected_snapshots + 1)
    ]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=goal_histories(), interval=st.sampled_from([1, 3]))
def test_a_fresh_application_on_the_same_store_rebuilds_the_goal_exactly(
    shared_app_factory: AppFactory, history: list[GoalStep], interval: int
) -> None:
    """Law: a new application over the same store, with or without snapshots, loads the
    very goal the writing application holds.
    """
    writer = shared_app_factory(snapshot_interval=interval)
    goal_id = run_history(writer, history)
    expected = comparable(writer.get_goal(goal_id))

    with_snapshots = shared_app_factory(snapshot_interval=interval)
    without_snapshots = shared_app_factory(snapshot_interval=0)
    assert comparable(with_snapshots.get_goal(goal_id)) == expected
    assert comparable(without_snapshots.get_goal(goal_id)) == expected
    assert comparable(fold(without_snapshots.goal_events(goal_id))) == expected
    with_snapshots.close()
    without_snapshots.close()


def test_a_snapshot_is_what_the_events_say_at_its_version(app_factory: AppFactory) -> None:
    app = app_factory(snapshot_interval=3)
    episode_id = open_standard_episode(app)
    goal_id = app.create_goal(
        episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
    )
    for value in (3, 2, 2, 1, 1):
        app.record_measurement(goal_id, value, actor=THERAPIST)
    stored = engine_of(app).snapshots
    assert stored is not None
    snapshots = list(stored.get(goal_id))
    assert [s.originator_version for s in snapshots] == [3, 6]
    events = app.goal_events(goal_id)
    for snapshot in snapshots:
        assert isinstance(snapshot, Snapshot)
        rebuilt = snapshot.mutate(None)
        assert isinstance(rebuilt, Goal)
        assert comparable(rebuilt) == comparable(fold(events[: snapshot.originator_version]))
