"""The fast paths (:mod:`goalpath.core.storage.fast_paths`) give what the library's paths give.

- the fast replay and batch events build the aggregates and events that
  ``mutate`` and ``trigger_event`` build, and with the version guard off
  goalpath stores and rebuilds the same goals;
- the direct JSON writers (measurement events, goal snapshots) produce the
  library transcoder's bytes;
- sealing many events at once produces records that open and chain as
  one-at-a-time sealing does;
- the batch imports check every row first, write all or nothing, and leave a
  goal (and its snapshot) that replays to the same state.
"""

from __future__ import annotations

import gc
from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import InvalidValueError, NotFoundError
from goalpath.core.goal import Goal
from goalpath.core.storage import fast_paths
from goalpath.core.storage.fast_paths import encode_measured
from goalpath.core.storage.replay import append_events
from goalpath.core.storage.transcodings import register_goalpath_transcodings
from goalpath.core.values import Actor
from tests.conftest import AppFactory
from tests.core.test_replay import comparable, fold, run_history
from tests.strategies import (
    CATALOG,
    GOAL_START,
    TODAY,
    GoalStep,
    accepted_number,
    actors,
    goal_histories,
    open_standard_episode,
)

PANIC = CATALOG["panic"].definition


def _transcoder() -> JSONTranscoder:
    """The transcoder every goalpath application (and the benchmarks' baseline) uses."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    register_goalpath_transcodings(transcoder)
    return transcoder


TRANSCODER = _transcoder()

notes = st.none() | st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(str.strip)
numbers = st.floats(min_value=0, max_value=50, allow_nan=False, allow_infinity=False).map(
    accepted_number
)
days = st.dates(min_value=GOAL_START, max_value=TODAY)


def _state(domain_event: Any) -> dict[str, Any]:
    state = dict(vars(domain_event))
    del state["originator_id"], state["originator_version"]
    return state


def _new_goal(actor: Actor) -> Goal:
    return Goal.state(
        episode_id=uuid4(),
        client_id="client-1",
        definition=PANIC,
        actor=actor,
        concerns=("panic attacks",),
        activate=False,
    )


@settings(max_examples=60)
@given(
    rows=st.lists(st.tuples(numbers, days, notes), min_size=1, max_size=8),
    actor=actors(),
)
def test_direct_json_of_measurements_is_the_transcoders(
    rows: list[tuple[float, date, str | None]], actor: Actor
) -> None:
    """Law: for any measurements, the direct writers' bytes equal the library encoder's."""
    goal = _new_goal(actor)
    goal.measure_many(rows, actor=actor, today=TODAY)
    for domain_event in goal.collect_events()[1:]:
        state = _state(domain_event)
        direct = encode_measured(state, TRANSCODER.encode)
        assert direct == TRANSCODER.encode(state)
        assert TRANSCODER.decode(direct) == TRANSCODER.decode(TRANSCODER.encode(state))


def test_unusual_states_are_declined_and_take_the_general_path() -> None:
    goal = _new_goal(Actor("therapist-1", "therapist"))
    goal.measure_many([(1.0, GOAL_START, None)], actor=goal.created_by, today=TODAY)
    state = _state(goal.collect_events()[-1])
    assert encode_measured({**state, "value": 1}, TRANSCODER.encode) is None  # an int
    assert encode_measured({**state, "extra": 1}, TRANSCODER.encode) is None
    assert encode_measured({**state, "observed_on": "2026-01-01"}, TRANSCODER.encode) is None


def _standard_goal(app: GoalpathApp) -> Any:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, PANIC, actor=Actor("therapist-7", "therapist"))


def _rows(count: int, offset: int = 0) -> list[tuple[float, date, str | None]]:
    return [
        (float((index * 7) % 11) + 0.5, GOAL_START + timedelta(days=index % 60), f"note {index}")
        for index in range(offset, offset + count)
    ]


@pytest.mark.parametrize("snapshot_interval", [0, 3, 50])
def test_sealing_many_at_once_opens_and_chains_like_one_at_a_time(
    tmp_path: Any, snapshot_interval: int
) -> None:
    actor = Actor("therapist-7", "therapist")
    with GoalpathApp(
        tmp_path / "gp.db", today=lambda: TODAY, snapshot_interval=snapshot_interval
    ) as app:
        goal_id = _standard_goal(app)
        app.import_measurements(goal_id, _rows(20), actor=actor)
        app.record_measurement(goal_id, 4.0, actor=actor, observed_on=GOAL_START)
        app.import_measurements(goal_id, _rows(7, offset=20), actor=actor)
        report = app.verify()
        assert report.ok, report
        goal = app.get_goal(goal_id)
        series = app.goal_measurements(goal_id)
        assert [m.value for m in series] == [
            *(row[0] for row in _rows(20)),
            4.0,
            *(row[0] for row in _rows(7, offset=20)),
        ]
        assert [m.note for m in series][-1] == "note 26"
        assert goal.measurement_count == 28
        replayed = None
        for domain_event in app.goal_events(goal_id):
            replayed = domain_event.mutate(replayed)
        assert replayed is not None
        assert replayed.__dict__ == goal.__dict__
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY, snapshot_interval=0) as reopened:
        assert reopened.goal_measurements(goal_id) == series


def test_importing_many_goals_writes_all_of_them_in_one_go(tmp_path: Any) -> None:
    actor = Actor("therapist-7", "therapist")
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY) as app:
        first, second = _standard_goal(app), _standard_goal(app)
        numbers = app.import_measurements_of_goals(
            {first: _rows(60), second: _rows(3)}, actor=actor
        )
        assert numbers == {first: range(1, 61), second: range(1, 4)}
        assert len(app.goal_measurements(first)) == 60
        assert len(app.goal_measurements(second)) == 3
        assert app.verify().ok


def test_one_bad_row_of_one_goal_writes_nothing_for_any_goal(tmp_path: Any) -> None:
    actor = Actor("therapist-7", "therapist")
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY) as app:
        first, second = _standard_goal(app), _standard_goal(app)
        bad = [*_rows(2), (1.0, TODAY + timedelta(days=1), None)]
        with pytest.raises(InvalidValueError, match=rf"goal {second}: row 3: .*future"):
            app.import_measurements_of_goals({first: _rows(5), second: bad}, actor=actor)
        assert app.goal_measurements(first) == []
        assert app.goal_measurements(second) == []
        with pytest.raises(NotFoundError):
            app.import_measurements_of_goals({uuid4(): _rows(1)}, actor=actor)


def test_the_guard_allows_the_fast_paths_only_under_checked_versions() -> None:
    assert fast_paths.fast_paths_apply("9.5.6")
    assert not fast_paths.fast_paths_apply("9.5.7")
    assert not fast_paths.fast_paths_apply("9.6.0")
    assert not fast_paths.fast_paths_apply("")


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=goal_histories())
def test_fast_replay_rebuilds_the_librarys_aggregate(
    app_factory: AppFactory, history: list[GoalStep]
) -> None:
    """Law: for any valid history, the fast replay of a goal's events (whole, or from
    any version on top of the goal as of the version before) is the fold of ``mutate``.
    """
    app = app_factory(snapshot_interval=0)
    events = app.goal_events(run_history(app, history))
    assert comparable(fast_paths.replay_events(None, events)) == comparable(fold(events))
    for version in range(1, len(events)):
        partial = fast_paths.replay_events(fold(events[:version]), events[version:])
        assert comparable(partial) == comparable(fold(events))


def _without_time(domain_event: Any) -> dict[str, Any]:
    """An event's fields but its time and goal id (which differ between two new goals)."""
    return {
        key: value
        for key, value in vars(domain_event).items()
        if key not in {"timestamp", "originator_id"}
    }


@settings(max_examples=40)
@given(
    rows=st.lists(st.tuples(numbers, days, notes), min_size=1, max_size=8),
    actor=actors(),
)
def test_fast_appending_triggers_the_librarys_events(
    rows: list[tuple[float, date, str | None]], actor: Actor
) -> None:
    """Law: for any rows, batch events (fast or the library's, as the application appends
    them) equal ``trigger_event``'s, recorded at one moment, and leave the same goal."""
    made = {}
    for enabled in (True, False):
        fast_paths.ENABLED = enabled
        try:
            goal = _new_goal(actor)
            goal.measure_many(rows, actor=actor, today=TODAY, append=append_events)
        finally:
            fast_paths.ENABLED = True
        events = goal.collect_events()
        assert type(events[-1]) is Goal.Measured
        assert goal.modified_on == events[-1].timestamp
        assert len({domain_event.timestamp for domain_event in events[1:]}) == 1
        made[enabled] = (events, goal)
    (fast_events, fast_goal), (library_events, library_goal) = made[True], made[False]
    assert [type(e) for e in fast_events] == [type(e) for e in library_events]
    assert [_without_time(e) for e in fast_events[1:]] == [
        _without_time(e) for e in library_events[1:]
    ]
    summary = (
        "measurement_count",
        "valid_measurement_count",
        "recent_measurements",
        "recent_floor",
    )
    assert [getattr(fast_goal, name) for name in summary] == [
        getattr(library_goal, name) for name in summary
    ]
    assert fast_goal.version == library_goal.version


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=goal_histories(), interval=st.sampled_from([0, 3]), write_fast=st.booleans())
def test_with_the_guard_off_goals_are_stored_and_rebuilt_the_same(
    app_factory: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
    history: list[GoalStep],
    interval: int,
    write_fast: bool,
) -> None:
    """Law: a history written with the fast paths on or off reads back, with them on or
    off, as the same events and the same goal (at every version), the fold of its events.
    """
    app = app_factory(snapshot_interval=interval)
    with monkeypatch.context() as patch:
        patch.setattr(fast_paths, "ENABLED", write_fast)
        goal_id = run_history(app, history)
    read = {}
    for enabled in (True, False):
        with monkeypatch.context() as patch:
            patch.setattr(fast_paths, "ENABLED", enabled)
            events = app.goal_events(goal_id)
            goals = [
                comparable(app.get_goal(goal_id, version=version))
                for version in range(1, len(events) + 1)
            ]
            read[enabled] = ([vars(e) for e in events], comparable(app.get_goal(goal_id)), goals)
    assert read[True] == read[False]
    _, latest, goals = read[True]
    assert latest == goals[-1] == comparable(fold(app.goal_events(goal_id)))
    assert app.verify().ok


def test_the_domains_own_batch_records_its_events_at_one_moment() -> None:
    """``Goal.measure_many`` without the storage layer's appender: the library's
    ``trigger_event`` per row, with one timestamp for the batch (as ``append_events``)."""
    actor = Actor("therapist-1", "therapist")
    goal = _new_goal(actor)
    goal.measure_many([(1.0, GOAL_START, None), (2.0, GOAL_START, "x")], actor=actor, today=TODAY)
    measured = goal.collect_events()[1:]
    assert [type(domain_event) for domain_event in measured] == [Goal.Measured] * 2
    assert measured[0].timestamp == measured[1].timestamp == goal.modified_on


def test_a_measurement_event_written_from_its_own_fields_is_the_same_json() -> None:
    """The mapper gives the direct writer the event's own fields (``TAKES_EVENT_FIELDS``):
    the stream id and version are left out, and the bytes are the transcoder's."""
    actor = Actor("therapist-1", "therapist")
    goal = _new_goal(actor)
    goal.measure_many([(3.5, GOAL_START, "n")], actor=actor, today=TODAY, append=append_events)
    domain_event = goal.collect_events()[-1]
    assert "goalpath.core.goal:Goal.Measured" in fast_paths.TAKES_EVENT_FIELDS
    direct = encode_measured(vars(domain_event), TRANSCODER.encode)
    assert direct == TRANSCODER.encode(_state(domain_event))


def test_an_import_leaves_the_cycle_collector_as_it_found_it(tmp_path: Any) -> None:
    """Imports pause Python's cyclic collector while they run: it is on again afterwards,
    after a refused import too, and a host that keeps it off finds it off."""
    actor = Actor("therapist-7", "therapist")
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY) as app:
        goal_id = _standard_goal(app)
        assert gc.isenabled()
        app.import_measurements(goal_id, _rows(3), actor=actor)
        assert gc.isenabled()
        with pytest.raises(InvalidValueError):
            app.import_measurements_of_goals(
                {goal_id: [(1.0, TODAY + timedelta(days=1), None)]}, actor=actor
            )
        assert gc.isenabled()
        gc.disable()
        try:
            app.import_measurements(goal_id, _rows(2, offset=3), actor=actor)
            assert not gc.isenabled()
        finally:
            gc.enable()
        assert list(app.import_measurements(goal_id, _rows(1, offset=5), actor=actor)) == [6]


def test_event_methods_are_given_their_fields_by_position_or_by_name_as_they_take_them() -> None:
    """The fast paths give a decorated method the event fields it takes: by position where
    each of its parameters may be given so, else by name (``Goal._reviewed`` takes them
    only by name); a field it does not take is left out, and one it takes must be there."""
    actor = Actor("therapist-1", "therapist")
    measured = fast_paths.applier(Goal.Measured)
    assert measured is not None
    fields = {"sequence": 1, "value": 2.0, "observed_on": GOAL_START, "note": None, "actor": actor}
    assert measured[1]({**fields, "timestamp": 0}) == (1, 2.0, GOAL_START, None, actor)
    with pytest.raises(KeyError):
        measured[1]({"sequence": 1})
    activated = fast_paths.applier(Goal.Activated)
    assert activated is not None
    assert activated[1]({"actor": actor, "timestamp": 0}) == (actor,)
    goal = _new_goal(actor)
    goal.activate(actor)
    goal.review(
        reviewed_on=TODAY,
        achievement="improving",
        decision="pause",
        actor=actor,
        today=TODAY,
        attainment=1,
        note="steady",
    )
    events: list[Any] = list(goal.collect_events())
    assert type(events[-1]) is Goal.Reviewed
    assert comparable(fast_paths.replay_events(None, events)) == comparable(fold(events))
    assert fast_paths.replay_events(None, events).status == "on-hold"


@settings(max_examples=20)
@given(rows=st.lists(st.tuples(numbers, days, notes), max_size=30))
def test_collecting_an_imports_events_at_once_is_the_librarys_collect_events(
    rows: list[tuple[float, date, str | None]],
) -> None:
    """Law: the pending events taken at once are those ``collect_events`` gives, in their
    order, and the goal has none pending afterwards."""
    from goalpath.core.storage.replay import collect_events  # noqa: PLC0415

    actor = Actor("therapist-1", "therapist")
    goal = _new_goal(actor)
    goal.measure_many(rows, actor=actor, today=TODAY, append=append_events)
    expected = list(goal._pending_events)
    assert fast_paths.collect_fast_events(goal) == expected
    assert goal.collect_events() == []
    goal.measure_many(rows[:3], actor=actor, today=TODAY, append=append_events)
    again = list(goal._pending_events)
    assert collect_events(goal) == again
    assert not goal._pending_events
