"""Two writers on one goal: the stale one gets a typed conflict, and no event is lost or duplicated.

Applications here share one store (a SQLite file; any store registered as
shared in ``tests/conftest.py``). A write is made stale deterministically by
letting the other writer land between the stale writer's load and its save;
a command retried on conflict (a measurement, a review) then loads again and
lands on top. The racing tests then let threads and processes hammer one goal
freely.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import ConflictError, DuplicateIdError
from goalpath.core.goal import Goal
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from tests.conftest import STORES, AppFactory
from tests.strategies import (
    CATALOG,
    GOAL_START,
    THERAPIST,
    TODAY,
    open_standard_episode,
)

OTHER = Actor(id="supervisor-9", role="supervisor")  # may act on every episode

StoredRecord = tuple[UUID | str, int, str, bytes]


def stored_records(app: GoalpathApp) -> list[StoredRecord]:
    """Every stored event as the store holds it (stream, version, topic, bytes)."""
    return [
        (n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in engine_of(app).recorder.select_notifications(start=1, limit=10**9)
    ]


def replay(app: GoalpathApp, goal_id: UUID) -> Goal:
    """Fold a goal's stored events, without snapshots."""
    aggregate: Any = None
    for domain_event in app.goal_events(goal_id):
        aggregate = domain_event.mutate(aggregate)
    assert isinstance(aggregate, Goal)
    return aggregate


def comparable(goal: Goal) -> dict[str, Any]:
    return {key: value for key, value in vars(goal).items() if key != "_pending_events"}


def interleave(
    monkeypatch: pytest.MonkeyPatch, stale: GoalpathApp, other_write: Callable[[], object]
) -> None:
    """Make ``other_write`` land right after ``stale``'s next load, before it saves."""
    original = engine_of(stale).repository.get
    done = False

    def get_then_let_the_other_writer_in(*args: Any, **kwargs: Any) -> Any:
        nonlocal done
        loaded = original(*args, **kwargs)
        if not done:
            done = True
            other_write()
        return loaded

    monkeypatch.setattr(engine_of(stale).repository, "get", get_then_let_the_other_writer_in)


STALE_COMMANDS: dict[str, Callable[[GoalpathApp, UUID], object]] = {
    "correct": lambda app, goal: app.correct_measurement(
        goal, 1, reason="typo", actor=THERAPIST, value=4
    ),
    "refine": lambda app, goal: app.refine_goal(
        goal, reason="slower", actor=THERAPIST, priority="high-priority"
    ),
    "retire": lambda app, goal: app.retire_goal(
        goal, reason_code="achieved", reason="done", actor=THERAPIST
    ),
}
"""Commands whose outcome depends on the version they loaded: a stale one is refused."""

RETRIED_COMMANDS: dict[str, tuple[Callable[[GoalpathApp, UUID], object], type[Goal.Event]]] = {
    "measure": (
        lambda app, goal: app.record_measurement(goal, 2, actor=THERAPIST, observed_on=TODAY),
        Goal.Measured,
    ),
    "review": (
        lambda app, goal: app.review_goal(
            goal, achievement="improving", decision="pause", actor=THERAPIST
        ),
        Goal.Reviewed,
    ),
}
"""Commands whose outcome does not depend on that version: a stale one loads again and lands."""


@pytest.mark.parametrize("command", sorted(STALE_COMMANDS))
def test_the_stale_writer_gets_a_conflict_naming_the_goal_and_both_versions(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    writer = shared_app_factory()
    stale = shared_app_factory()
    episode_id = open_standard_episode(writer)
    goal_id = writer.create_goal(
        episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
    )
    writer.record_measurement(goal_id, 3, actor=THERAPIST, observed_on=GOAL_START)
    assert stale.get_goal(goal_id).version == writer.get_goal(goal_id).version == 2
    before = stored_records(writer)

    interleave(
        monkeypatch,
        stale,
        lambda: writer.record_measurement(goal_id, 1, actor=OTHER, observed_on=TODAY),
    )
    with pytest.raises(ConflictError) as conflict:
        STALE_COMMANDS[command](stale, goal_id)

    error = conflict.value
    assert (error.kind, error.aggregate_id) == ("goal", goal_id)
    assert (error.expected_version, error.actual_version) == (2, 3)
    assert str(goal_id) in str(error)
    assert "version 2" in str(error)
    assert "version 3" in str(error)

    # Exactly the other writer's event was added: nothing lost, nothing duplicated.
    after = stored_records(shared_app_factory())
    assert after[: len(before)] == before
    assert len(after) == len(before) + 1
    assert after[-1][:3] == (goal_id, 3, "goalpath.core.goal:Goal.Measured")
    fresh = shared_app_factory()
    events = fresh.goal_events(goal_id)
    assert [e.originator_version for e in events] == [1, 2, 3]
    last = events[-1]
    assert isinstance(last, Goal.Measured)
    assert (last.value, last.actor) == (1.0, OTHER)

    # The stale writer recovers by reloading: its next attempt lands on top.
    STALE_COMMANDS[command](stale, goal_id)
    assert fresh.get_goal(goal_id).version == 4
    assert len(stored_records(fresh)) == len(before) + 2
    verification = fresh.verify()
    assert verification.ok, verification.first_problem


@pytest.mark.parametrize("command", sorted(RETRIED_COMMANDS))
def test_a_stale_measurement_or_review_loads_again_and_lands_once_on_top(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    writer = shared_app_factory()
    stale = shared_app_factory()
    episode_id = open_standard_episode(writer)
    goal_id = writer.create_goal(
        episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
    )
    writer.record_measurement(goal_id, 3, actor=THERAPIST, observed_on=GOAL_START)
    assert stale.get_goal(goal_id).version == 2
    before = stored_records(writer)
    interleave(
        monkeypatch,
        stale,
        lambda: writer.record_measurement(goal_id, 1, actor=OTHER, observed_on=TODAY),
    )
    run, event_class = RETRIED_COMMANDS[command]

    run(stale, goal_id)  # its first save conflicts; the retry lands on top

    after = stored_records(shared_app_factory())
    assert after[: len(before)] == before
    assert len(after) == len(before) + 2
    events = shared_app_factory().goal_events(goal_id)
    assert [e.originator_version for e in events] == [1, 2, 3, 4]
    assert (type(events[2]), getattr(events[2], "actor", None)) == (Goal.Measured, OTHER)
    assert (type(events[3]), getattr(events[3], "actor", None)) == (event_class, THERAPIST)
    verification = shared_app_factory().verify()
    assert verification.ok, verification.first_problem


def test_a_stale_expected_version_from_another_application_is_refused(
    shared_app_factory: AppFactory,
) -> None:
    first = shared_app_factory()
    second = shared_app_factory()
    episode_id = open_standard_episode(first)
    goal_id = first.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST)
    seen_by_second = second.get_goal(goal_id).version
    first.activate_goal(goal_id, actor=THERAPIST, expected_version=1)
    before = stored_records(first)

    with pytest.raises(ConflictError) as conflict:
        second.refine_goal(
            goal_id,
            reason="higher priority",
            actor=OTHER,
            priority="high-priority",
            expected_version=seen_by_second,
        )
    assert (conflict.value.expected_version, conflict.value.actual_version) == (1, 2)
    assert stored_records(second) == before


def test_two_writers_creating_the_same_goal_id_store_it_once(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = shared_app_factory()
    late = shared_app_factory()
    episode_id = open_standard_episode(writer)
    goal_id = uuid4()
    interleave(
        monkeypatch,
        late,
        lambda: writer.create_goal(
            episode_id, CATALOG["vague"].definition, actor=THERAPIST, goal_id=goal_id
        ),
    )
    with pytest.raises(DuplicateIdError) as duplicate:
        late.create_goal(episode_id, CATALOG["panic"].definition, actor=OTHER, goal_id=goal_id)

    assert duplicate.value.aggregate_id == goal_id
    fresh = shared_app_factory()
    assert [type(e) for e in fresh.goal_events(goal_id)] == [Goal.Created]
    assert fresh.get_goal(goal_id).definition == CATALOG["vague"].definition
    assert fresh.get_episode(episode_id).goal_ids == [goal_id]


def test_two_writers_adding_goals_to_one_episode_conflict_on_the_episode(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = shared_app_factory()
    late = shared_app_factory()
    episode_id = open_standard_episode(writer)
    interleave(
        monkeypatch,
        late,
        lambda: writer.create_goal(episode_id, CATALOG["vague"].definition, actor=THERAPIST),
    )
    before_late = stored_records(writer)
    with pytest.raises(ConflictError) as conflict:
        late.create_goal(episode_id, CATALOG["panic"].definition, actor=OTHER)

    assert (conflict.value.kind, conflict.value.aggregate_id) == ("episode", episode_id)
    after = stored_records(shared_app_factory())
    # Only the first writer's goal and link were stored; the late goal was not half-written.
    assert len(after) == len(before_late) + 2
    assert len(shared_app_factory().get_episode(episode_id).goal_ids) == 1


# -- racing ---------------------------------------------------------------------------

UNBOUNDED = Measure(name="practice sessions", unit="count", direction="increase", minimum=0)
RACE_GOAL = GoalDefinition(
    statement="I will practise daily breathing exercises each evening at home",
    start_on=GOAL_START,
    measure=UNBOUNDED,
    target=Target(baseline=1, value=7, due_on=date(2026, 7, 1)),
)


def race_goal(app: GoalpathApp) -> UUID:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, RACE_GOAL, actor=THERAPIST)


def check_race_outcome(
    app: GoalpathApp, goal_id: UUID, landed: list[float], conflicts: list[ConflictError]
) -> None:
    """Every landed command is stored exactly once, nothing else is, and replay agrees."""
    events = app.goal_events(goal_id)
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    measured = [e.value for e in events if isinstance(e, Goal.Measured)]
    assert Counter(measured) == Counter(landed)
    assert len(measured) == len(landed)
    assert len(set(landed)) == len(landed)  # every attempt used its own value
    goal = app.get_goal(goal_id)
    assert comparable(goal) == comparable(replay(app, goal_id))
    assert [m.sequence for m in app.goal_measurements(goal_id)] == list(range(1, len(landed) + 1))
    for conflict in conflicts:
        assert conflict.aggregate_id == goal_id
        assert conflict.expected_version < conflict.actual_version <= len(events)
    # Refused writes left no trace in the hash chains either.
    verification = app.verify()
    assert verification.ok, verification.first_problem


def test_threads_in_lockstep_one_lands_per_round_the_others_conflict(
    shared_app_factory: AppFactory,
) -> None:
    """Each round every thread loads the goal, waits for the others, then measures against the
    version it saw (``expected_version``): one lands, the others conflict."""
    threads_count, rounds = 4, 6
    goal_id = race_goal(shared_app_factory())
    barrier = threading.Barrier(threads_count, timeout=30)
    landed: list[float] = []
    conflicts: list[ConflictError] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def hammer(index: int, app: GoalpathApp) -> None:
        for attempt in range(rounds):
            value = float(index * 1000 + attempt)
            try:
                seen = app.get_goal(goal_id).version
                barrier.wait()
                app.record_measurement(
                    goal_id, value, actor=OTHER, observed_on=TODAY, expected_version=seen
                )
            except ConflictError as conflict:
                with lock:
                    conflicts.append(conflict)
            except BaseException as error:  # reported by the main thread
                with lock:
                    failures.append(error)
                barrier.abort()
                return
            else:
                with lock:
                    landed.append(value)

    apps = [shared_app_factory() for _ in range(threads_count)]
    workers = [threading.Thread(target=hammer, args=(index, app)) for index, app in enumerate(apps)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert len(landed) == rounds
    assert len(conflicts) == rounds * (threads_count - 1)
    check_race_outcome(shared_app_factory(), goal_id, landed, conflicts)


def test_free_running_threads_every_command_lands_or_conflicts(
    shared_app_factory: AppFactory,
) -> None:
    threads_count, attempts = 4, 25
    goal_id = race_goal(shared_app_factory())
    landed: list[float] = []
    conflicts: list[ConflictError] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def hammer(index: int, app: GoalpathApp) -> None:
        for attempt in range(attempts):
            value = float(index * 1000 + attempt)
            try:
                app.record_measurement(goal_id, value, actor=OTHER, observed_on=TODAY)
            except ConflictError as conflict:
                with lock:
                    conflicts.append(conflict)
            except BaseException as error:  # reported by the main thread
                with lock:
                    failures.append(error)
            else:
                with lock:
                    landed.append(value)

    apps = [shared_app_factory() for _ in range(threads_count)]
    workers = [threading.Thread(target=hammer, args=(index, app)) for index, app in enumerate(apps)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert len(landed) + len(conflicts) == threads_count * attempts
    check_race_outcome(shared_app_factory(), goal_id, landed, conflicts)


WORKER = """
import json, sys, time
from datetime import date
from pathlib import Path
from uuid import UUID
from goalpath.core.application import GoalpathApp
from goalpath.core.errors import ConflictError
from goalpath.core.values import Actor

store, goal, index, attempts, gate = sys.argv[1:6]
app = GoalpathApp(store, today=lambda: date(2026, 6, 1))
actor = Actor(id=f"worker-{index}", role="system")
while not Path(gate).exists():
    time.sleep(0.005)
landed, conflicts = [], []
for attempt in range(int(attempts)):
    value = float(int(index) * 1000 + attempt)
    try:
        app.record_measurement(UUID(goal), value, actor=actor, observed_on=date(2026, 6, 1))
    except ConflictError as error:
        conflicts.append([str(error.aggregate_id), error.expected_version, error.actual_version])
    else:
        landed.append(value)
app.close()
print(json.dumps({"landed": landed, "conflicts": conflicts}))
"""


def test_processes_racing_on_one_sqlite_file_lose_and_duplicate_nothing(tmp_path: Any) -> None:
    # PostgreSQL has its own race of processes in test_concurrent_writers.py.
    shared_app_factory = AppFactory(STORES["sqlite"], STORES["sqlite"].location(tmp_path))
    processes_count, attempts = 3, 30
    setup = shared_app_factory()
    goal_id = race_goal(setup)
    gate = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                shared_app_factory.location,
                str(goal_id),
                str(index),
                str(attempts),
                str(gate),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(1, processes_count + 1)
    ]
    gate.write_text("go")
    landed: list[float] = []
    conflicts: list[ConflictError] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        report = json.loads(out)
        landed.extend(report["landed"])
        conflicts.extend(
            ConflictError("goal", UUID(goal), expected, actual)
            for goal, expected, actual in report["conflicts"]
        )

    assert len(landed) + len(conflicts) == processes_count * attempts
    check_race_outcome(shared_app_factory(), goal_id, landed, conflicts)
    shared_app_factory.close()
