"""One ``GoalpathApp`` shared by many threads: every write lands once, conflicts only when asked.

Issue 12, done-when 2: four threads appending measurements to one goal
without ``expected_version`` store all 200, none refused; with a stale
``expected_version`` each is refused with ConflictError and nothing is
written. Also: a conflict from another application is retried a bounded
number of times (then raised, nothing written), and threads writing for
many new clients at once leave chains that verify (the key store, the
mapper's caches and each thread's unsaved chain hashes are shared safely).

Threads start together at a barrier; no test waits on a clock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.application.retries import CONFLICT_ATTEMPTS, retried_on_conflict
from goalpath.core.episode import Episode
from goalpath.core.errors import ConflictError
from goalpath.core.goal import Goal
from goalpath.core.storage.keys import SQLiteClientKeyStore
from goalpath.core.values import Actor
from tests.conftest import AppFactory
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, THERAPIST, TODAY, open_standard_episode

THREADS = 4
MEASUREMENTS_PER_THREAD = 50
OTHER = Actor(id="supervisor-9", role="supervisor")  # may act on every episode


def _active_goal(app: GoalpathApp) -> UUID:
    episode_id = open_standard_episode(app)
    return app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(index)`` in ``count`` threads started together; return what they raised."""
    start = threading.Barrier(count, timeout=60)
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        start.wait()
        try:
            work(index)
        except BaseException as error:  # reported by the caller
            with lock:
                failures.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def _records(app: GoalpathApp) -> list[tuple[Any, ...]]:
    return [
        (n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in engine_of(app).recorder.select_notifications(start=1, limit=10**9)
    ]


def test_four_threads_measuring_one_goal_store_all_200_and_none_is_refused(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    goal_id = _active_goal(app)
    numbers: list[int] = []
    lock = threading.Lock()

    def measure(index: int) -> None:
        for count in range(MEASUREMENTS_PER_THREAD):
            number = app.record_measurement(
                goal_id, 2, actor=THERAPIST, observed_on=TODAY, note=f"{index}/{count}"
            )
            with lock:
                numbers.append(number)

    assert _in_threads(THREADS, measure) == []  # a ConflictError would be listed here

    total = THREADS * MEASUREMENTS_PER_THREAD
    assert sorted(numbers) == list(range(1, total + 1))  # each got its own number
    events = app.goal_events(goal_id)
    notes = Counter(e.note for e in events if isinstance(e, Goal.Measured))
    assert notes == Counter(
        f"{i}/{c}" for i in range(THREADS) for c in range(MEASUREMENTS_PER_THREAD)
    )
    assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
    assert [m.sequence for m in app.goal_measurements(goal_id)] == list(range(1, total + 1))
    assert app.get_goal(goal_id).measurement_count == total
    report = app.verify()
    assert report.ok, report.first_problem


STALE_COMMANDS: dict[str, Callable[[GoalpathApp, UUID, UUID, int], object]] = {
    "measure": lambda app, goal, _episode, version: app.record_measurement(
        goal, 2, actor=THERAPIST, observed_on=TODAY, expected_version=version
    ),
    "review": lambda app, goal, _episode, version: app.review_goal(
        goal,
        achievement="improving",
        decision="continue",
        actor=THERAPIST,
        expected_version=version,
    ),
    "session": lambda app, _goal, episode, version: app.record_session(
        episode, actor=THERAPIST, held_on=TODAY, expected_version=version
    ),
}


@pytest.mark.parametrize("command", sorted(STALE_COMMANDS))
def test_a_stale_expected_version_is_refused_in_every_thread_and_nothing_is_written(
    shared_app_factory: AppFactory, command: str
) -> None:
    app = shared_app_factory()
    goal_id = _active_goal(app)
    episode_id = app.get_goal(goal_id).episode_id
    seen = (
        app.get_episode(episode_id).version
        if command == "session"
        else app.get_goal(goal_id).version
    )
    # Someone else writes after the version was seen: it is stale from now on.
    if command == "session":
        shared_app_factory().record_session(episode_id, actor=OTHER, held_on=OPENED_ON)
    else:
        shared_app_factory().record_measurement(goal_id, 3, actor=OTHER, observed_on=GOAL_START)
    before = _records(app)
    conflicts: list[ConflictError] = []
    lock = threading.Lock()

    def stale(_index: int) -> None:
        try:
            STALE_COMMANDS[command](app, goal_id, episode_id, seen)
        except ConflictError as error:
            with lock:
                conflicts.append(error)

    assert _in_threads(THREADS, stale) == []
    assert len(conflicts) == THREADS
    assert {(c.expected_version, c.actual_version) for c in conflicts} == {(seen, seen + 1)}
    assert _records(shared_app_factory()) == before


def test_a_conflict_with_another_application_is_retried_until_the_attempts_run_out(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every load of the retried command is followed by another application's write: the
    command tries CONFLICT_ATTEMPTS times, then raises ConflictError, having written nothing."""
    writer = shared_app_factory()
    stale = shared_app_factory()
    goal_id = _active_goal(writer)
    loads = 0
    original = engine_of(stale).repository.get

    def get_then_let_the_other_writer_in(*args: Any, **kwargs: Any) -> Any:
        nonlocal loads
        loaded = original(*args, **kwargs)
        if loaded.id == goal_id:  # not the episode the policy reads for the assignment
            loads += 1
            writer.record_measurement(goal_id, 1, actor=OTHER, observed_on=TODAY)
        return loaded

    monkeypatch.setattr(engine_of(stale).repository, "get", get_then_let_the_other_writer_in)
    with pytest.raises(ConflictError):
        stale.record_measurement(goal_id, 2, actor=THERAPIST, observed_on=TODAY)

    assert loads == CONFLICT_ATTEMPTS
    events = shared_app_factory().goal_events(goal_id)
    measured = [e for e in events if isinstance(e, Goal.Measured)]
    assert [e.actor for e in measured] == [OTHER] * CONFLICT_ATTEMPTS
    report = shared_app_factory().verify()
    assert report.ok, report.first_problem


def test_threads_writing_for_many_new_clients_leave_chains_that_verify(
    shared_app_factory: AppFactory,
) -> None:
    """New clients' keys, the mapper's caches and each thread's unsaved chain hashes, shared."""
    app = shared_app_factory()
    rounds = 3
    opened: list[UUID] = []
    lock = threading.Lock()

    def care(index: int) -> None:
        for number in range(rounds):
            episode_id = app.open_episode(
                client_id=f"client-{index}-{number}",
                therapist_ids=[THERAPIST.id],
                opened_on=OPENED_ON,
                actor=THERAPIST,
            )
            goal_id = app.create_goal(
                episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
            )
            for value in (3, 2, 1):
                app.record_measurement(goal_id, value, actor=THERAPIST, observed_on=TODAY)
            app.record_session(episode_id, actor=THERAPIST, held_on=TODAY)
            with lock:
                opened.append(episode_id)

    assert _in_threads(8, care) == []

    fresh = shared_app_factory()
    assert len(opened) == 8 * rounds
    for episode_id in opened:
        episode = fresh.get_episode(episode_id)
        assert len(episode.sessions) == 1
        (goal_id,) = episode.goal_ids
        assert [m.value for m in fresh.goal_measurements(goal_id)] == [3, 2, 1]
    assert {type(e) for e in fresh.episode_events(opened[0])} >= {Episode.Opened}
    report = fresh.verify()
    assert report.ok, report.first_problem


GAVE_UP_SECONDS = 10.0
"""How long a key lookup may take before the test calls it held up (a hang, not a timing check)."""


def test_a_key_insert_waiting_for_the_write_lock_does_not_hold_up_key_lookups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-model batch holds the SQLite file's write lock while it decrypts events, looking
    up keys; a thread storing a new client's key waits for that lock meanwhile. The lookups
    must not queue behind that insert (they did when the key table was one connection behind
    a lock: the batch and the insert then waited for each other until the lock timed out)."""
    path = str(tmp_path / "keys.db")
    with GoalpathApp(path, today=lambda: TODAY, lock_timeout_seconds=30) as app:
        _active_goal(app)
        record = engine_of(app).keys.lookup("client-1")
        assert record is not None
        inserting = threading.Event()
        original_insert = SQLiteClientKeyStore._insert

        def insert(store: SQLiteClientKeyStore, *args: Any) -> None:
            inserting.set()
            original_insert(store, *args)

        monkeypatch.setattr(SQLiteClientKeyStore, "_insert", insert)
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # as a read-model batch does
        try:
            new_client = threading.Thread(
                target=lambda: app.open_episode(
                    client_id="client-new",
                    therapist_ids=[THERAPIST.id],
                    opened_on=OPENED_ON,
                    actor=THERAPIST,
                )
            )
            new_client.start()
            assert inserting.wait(GAVE_UP_SECONDS)
            lookup = threading.Thread(
                target=engine_of(app).keys.check_not_erased, args=(record.key_id,)
            )
            lookup.start()
            lookup.join(GAVE_UP_SECONDS)
            held_up = lookup.is_alive()
        finally:
            holder.execute("COMMIT")
            holder.close()
        new_client.join()
        lookup.join()
        assert not held_up, "a key lookup waited behind a key insert that waited for the file"
        assert engine_of(app).keys.lookup("client-new") is not None


def test_only_a_command_with_a_keyword_only_expected_version_can_be_retried() -> None:
    def positional(goal_id: UUID, expected_version: int | None = None) -> None: ...

    with pytest.raises(TypeError, match="expected_version as a keyword-only parameter"):
        retried_on_conflict(positional)
