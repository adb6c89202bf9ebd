"""A goal's state keeps a summary of its measurements; the whole series comes from its events.

Laws, over any history of measurements (backdated ones among them),
corrections and voids, some of them far outside the recent window:

- the summary agrees with the series read from the events: the counts, and
  the recent measurements are the latest valid ones by observation date;
- a goal loaded from a snapshot taken at any version, then brought forward
  by the rest of its events, equals the goal replayed from every event; a
  snapshot of the old shape (every measurement in it) upcasts to the same;
- the snapshot's size does not grow with the number of measurements.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import InvalidCommandError
from goalpath.core.goal import Goal
from goalpath.core.measurement_window import RECENT_MEASUREMENTS, observation_order, window_of
from goalpath.core.measurements import measurement_series
from goalpath.core.values import Measurement
from tests.core.test_concurrency import comparable
from tests.strategies import CATALOG, GOAL_START, THERAPIST, TODAY, open_standard_episode

PANIC = CATALOG["panic"].definition
DAYS = (TODAY - GOAL_START).days

measure_step = st.tuples(st.just("measure"), st.integers(0, 30), st.integers(0, DAYS))
amend_step = st.tuples(st.just("amend"), st.integers(0, 30), st.integers(0, 60))
void_step = st.tuples(st.just("void"), st.integers(0, 60), st.just(0))
steps = st.lists(
    st.one_of(measure_step, measure_step, measure_step, amend_step, void_step),
    min_size=1,
    max_size=60,
)


def _goal(app: GoalpathApp) -> UUID:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, PANIC, actor=THERAPIST, activate=True)


def _play(app: GoalpathApp, goal_id: UUID, history: list[tuple[str, int, int]]) -> None:
    """Apply the steps; a correction names a measurement counted back from the latest."""
    for kind, number, back in history:
        count = app.get_goal(goal_id).measurement_count
        if kind == "measure":
            app.record_measurement(
                goal_id, number, actor=THERAPIST, observed_on=GOAL_START + timedelta(days=back)
            )
            continue
        if count == 0:
            continue
        sequence = count - back % count
        try:
            app.correct_measurement(
                goal_id,
                sequence,
                reason="entered wrongly",
                actor=THERAPIST,
                value=None if kind == "void" else float(number),
            )
        except InvalidCommandError:
            # Voided already, or the same value: refused, as the series says it must be.
            current = app.goal_measurements(goal_id)[sequence - 1]
            assert current.value is None or current.value == number


def _replayed(domain_events: list[Any]) -> Goal:
    goal: Any = None
    for domain_event in domain_events:
        goal = domain_event.mutate(goal)
    assert isinstance(goal, Goal)
    return goal


def _round_trip(app: GoalpathApp, snapshot: Any) -> Any:
    """A snapshot as the store would give it back: its state encoded and decoded."""
    transcoder = engine_of(app).mapper.transcoder
    return Goal.Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=transcoder.decode(transcoder.encode(snapshot.state)),
    )


def _old_shape(goal: Goal, series: list[Measurement]) -> Any:
    """A snapshot as goalpath took it before the summary: every measurement in its state."""
    snapshot = Goal.Snapshot.take(goal)
    state = dict(snapshot.state)
    for name in ("measurement_count", "valid_measurement_count", "recent_floor"):
        del state[name]
    del state["recent_measurements"], state["class_version"]
    state["measurements"] = series
    return Goal.Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    )


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=steps)
def test_the_summary_agrees_with_the_events_and_snapshots_replay_to_the_same_goal(
    history: list[tuple[str, int, int]],
) -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY, snapshot_interval=0) as app:
        goal_id = _goal(app)
        _play(app, goal_id, history)
        goal = app.get_goal(goal_id)
        domain_events = app.goal_events(goal_id)
        series = app.goal_measurements(goal_id)
        assert series == measurement_series(domain_events)
        assert [m.sequence for m in series] == list(range(1, len(series) + 1))
        assert goal.measurement_count == len(series)
        valid = sorted((m for m in series if m.value is not None), key=observation_order)
        assert goal.valid_measurement_count == len(valid)
        kept = len(goal.recent_measurements)
        assert kept <= RECENT_MEASUREMENTS
        assert goal.recent_measurements == (valid[-kept:] if kept else [])
        assert goal.latest_measurement == (valid[-1] if valid else None)
        assert comparable(goal) == comparable(_replayed(domain_events))
        for version in range(1, len(domain_events) + 1):
            before = _replayed(domain_events[:version])
            for snapshot in (
                Goal.Snapshot.take(before),
                _old_shape(before, measurement_series(domain_events[:version])),
            ):
                loaded = _round_trip(app, snapshot).mutate(None)
                assert comparable(loaded)["measurement_count"] == before.measurement_count
                for domain_event in domain_events[version:]:
                    loaded = domain_event.mutate(loaded)
                if snapshot.state.get("class_version") == Goal.class_version:
                    assert comparable(loaded) == comparable(goal)
                else:
                    # An upcast window is the latest valid ones of the series then, which
                    # may hold more than a replay's (a replay does not refill after a void).
                    assert _summary(loaded) == _summary(goal)
                    loaded_kept = len(loaded.recent_measurements)
                    assert loaded.recent_measurements == (
                        valid[-loaded_kept:] if loaded_kept else []
                    )


def _summary(goal: Goal) -> dict[str, Any]:
    state = comparable(goal)
    del state["recent_measurements"], state["recent_floor"]
    return state


def test_a_snapshot_holds_the_same_whatever_the_number_of_measurements(
    tmp_path: Any,
) -> None:
    sizes = {}
    for count in (25, 400):
        path = tmp_path / f"{count}.db"
        with GoalpathApp(path, today=lambda: TODAY, snapshot_interval=0) as app:
            goal_id = _goal(app)
            days = [GOAL_START + timedelta(days=i % DAYS) for i in range(count)]
            rows = [(1.0 + i % 7, day, None) for i, day in enumerate(days)]
            app.import_measurements(goal_id, rows, actor=THERAPIST)
            goal = app.get_goal(goal_id)
            snapshot = Goal.Snapshot.take(goal)
            sizes[count] = len(engine_of(app).mapper.transcoder.encode(snapshot.state))
            assert goal.measurement_count == count
            assert len(goal.recent_measurements) == RECENT_MEASUREMENTS
    assert sizes[400] <= sizes[25] + 64  # the same fields; only the counts' digits grow


def test_a_measurement_far_outside_the_window_is_corrected_from_the_events() -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY, snapshot_interval=5) as app:
        goal_id = _goal(app)
        rows = [(float(i % 9), GOAL_START + timedelta(days=i % DAYS), None) for i in range(60)]
        app.import_measurements(goal_id, rows, actor=THERAPIST)
        assert app.get_goal(goal_id).recent_measurement(1) is None  # far outside the window
        app.correct_measurement(goal_id, 1, reason="typed 0 for 5", actor=THERAPIST, value=5)
        app.correct_measurement(goal_id, 2, reason="not this client's", actor=THERAPIST)
        first, second = app.goal_measurements(goal_id)[:2]
        assert (first.value, first.status, first.original_value) == (5.0, "amended", 0.0)
        assert (second.value, second.status) == (None, "entered-in-error")
        assert app.get_goal(goal_id).valid_measurement_count == 59
        with pytest.raises(InvalidCommandError, match="was voided"):
            app.correct_measurement(goal_id, 2, reason="again", actor=THERAPIST, value=3)
        with pytest.raises(InvalidCommandError, match="already has the value 5"):
            app.correct_measurement(goal_id, 1, reason="again", actor=THERAPIST, value=5)


def test_when_every_recent_measurement_is_voided_the_latest_comes_from_the_events() -> None:
    with GoalpathApp(":memory:", today=lambda: TODAY, snapshot_interval=0) as app:
        goal_id = _goal(app)
        rows = [(float(i % 9), GOAL_START + timedelta(days=i), None) for i in range(30)]
        app.import_measurements(goal_id, rows, actor=THERAPIST)
        for sequence in range(11, 31):  # the 20 latest by observation date
            app.correct_measurement(goal_id, sequence, reason="wrong device", actor=THERAPIST)
        goal = app.get_goal(goal_id)
        assert goal.latest_known
        latest = goal.latest_measurement
        assert latest is not None
        assert latest.sequence == 10
        assert [m.sequence for m in goal.recent_measurements] == list(range(1, 11))
        # The stored state itself keeps what its rule allows: no valid recent one.
        stored = _replayed(app.goal_events(goal_id))
        assert stored.recent_measurements == []
        assert not stored.latest_known
        # A new measurement observed after the window's floor joins it again.
        app.record_measurement(goal_id, 2, actor=THERAPIST, observed_on=TODAY)
        assert [m.sequence for m in _replayed(app.goal_events(goal_id)).recent_measurements] == [31]


def test_the_window_of_a_series_is_its_latest_valid_measurements() -> None:
    series = [
        Measurement(sequence=n, value=None if n % 4 == 0 else float(n), observed_on=GOAL_START
                    + timedelta(days=(n * 7) % 30), recorded_by=THERAPIST)
        for n in range(1, 50)
    ]  # fmt: skip
    window, floor = window_of(series)
    valid = sorted((m for m in series if m.value is not None), key=observation_order)
    assert window == valid[-RECENT_MEASUREMENTS:]
    assert floor == valid[-RECENT_MEASUREMENTS - 1]
    assert window_of(series[:3]) == (sorted(
        (m for m in series[:3] if m.value is not None), key=observation_order), None)  # fmt: skip
