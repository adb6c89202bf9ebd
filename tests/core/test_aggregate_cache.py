"""The aggregate cache: a load of a cached goal is the goal as stored, whoever wrote since.

An application on a PostgreSQL store keeps the aggregates it loaded (the
library's cache, :data:`~goalpath.core.application.sealed.AGGREGATE_CACHE_SIZE`
of them) and brings a cached one forward with the events recorded since, by
any application on the store; on SQLite and in memory it keeps none. These
tests hold every store to the replay law with two applications writing to
one store by turns, to a refused command leaving nothing behind, and to
erasure (a client erased elsewhere is refused here), and check on
PostgreSQL that the cache was used and that an erasure empties it.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import ClientErasedError, InvalidValueError
from goalpath.core.values import Actor
from tests.conftest import AppFactory
from tests.core.test_replay import comparable, fold
from tests.strategies import CATALOG, THERAPIST, GoalStep, goal_histories, open_standard_episode

SUPERVISOR = Actor("supervisor-1", "supervisor")


def _goal(app: GoalpathApp) -> UUID:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)


def _cached(app: GoalpathApp, goal_id: UUID) -> bool:
    """Whether the application's cache holds the goal (a store without a cache: never)."""
    cache = engine_of(app).repository.cache
    if cache is None:
        return False
    try:
        cache.get(goal_id)
    except KeyError:
        return False
    return True


def _caches(app: GoalpathApp) -> bool:
    return engine_of(app).repository.cache is not None


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=goal_histories(max_steps=15), writers=st.lists(st.booleans(), max_size=15))
def test_two_applications_writing_by_turns_each_load_the_goal_as_stored(
    shared_app_factory: AppFactory, history: list[GoalStep], writers: list[bool]
) -> None:
    """Law: whichever application wrote each step, both load (from their caches, brought
    forward) the goal that a fresh application loads and that the fold of its events is."""
    first, second = shared_app_factory(), shared_app_factory()
    goal_id = _goal(first)
    for number, step in enumerate(history):
        writer = second if number < len(writers) and writers[number] else first
        step.run(writer, goal_id)
        assert comparable(first.get_goal(goal_id)) == comparable(second.get_goal(goal_id))
    fresh = shared_app_factory()
    stored = comparable(fresh.get_goal(goal_id))
    assert comparable(first.get_goal(goal_id)) == stored
    assert comparable(second.get_goal(goal_id)) == stored
    assert _cached(first, goal_id) is _caches(first)
    assert _cached(second, goal_id) is _caches(second)
    assert comparable(fold(fresh.goal_events(goal_id))) == stored


def _measure_then_fail_in_a_unit(app: GoalpathApp, goal_id: UUID) -> None:
    with app.unit_of_work() as unit:
        unit.record_measurement(goal_id, 2, actor=THERAPIST)
        raise RuntimeError("the unit's own failure, after the goal changed in it")


def test_a_refused_command_leaves_the_cached_goal_as_it_was_stored(app: GoalpathApp) -> None:
    goal_id = _goal(app)
    app.record_measurement(goal_id, 3, actor=THERAPIST)
    before = comparable(app.get_goal(goal_id))
    with pytest.raises(InvalidValueError):
        app.record_measurement(goal_id, 10_000, actor=THERAPIST)  # past the measure's maximum
    with pytest.raises(RuntimeError, match="the unit's own"):
        _measure_then_fail_in_a_unit(app, goal_id)
    assert comparable(app.get_goal(goal_id)) == before
    assert app.record_measurement(goal_id, 1, actor=THERAPIST) == 2


def test_a_client_erased_by_another_application_is_refused_and_leaves_the_cache(
    shared_app_factory: AppFactory,
) -> None:
    first, second = shared_app_factory(), shared_app_factory()
    goal_id = _goal(first)
    first.record_measurement(goal_id, 3, actor=THERAPIST)
    first.get_goal(goal_id)
    assert _cached(first, goal_id) is _caches(first)
    second.erase_client("client-1", reason="the client asked", actor=SUPERVISOR)
    with pytest.raises(ClientErasedError):
        first.get_goal(goal_id)
    assert not _cached(first, goal_id)
    with pytest.raises(ClientErasedError):
        first.record_measurement(goal_id, 2, actor=THERAPIST)


def test_an_erasure_empties_the_erasing_applications_cache(app: GoalpathApp) -> None:
    """On every store the erased client's goal is refused; on PostgreSQL it leaves the cache."""
    goal_id = _goal(app)
    app.get_goal(goal_id)
    assert _cached(app, goal_id) is _caches(app)
    app.erase_client("client-1", reason="the client asked", actor=SUPERVISOR)
    assert not _cached(app, goal_id)
    with pytest.raises(ClientErasedError):
        app.get_goal(goal_id)


def test_only_an_application_on_a_postgresql_store_keeps_a_cache(app_factory: AppFactory) -> None:
    app = app_factory()
    assert _caches(app) is (app_factory.kind.name == "postgres")
    goal_id = _goal(app)
    app.get_goal(goal_id)
    assert _cached(app, goal_id) is (app_factory.kind.name == "postgres")
