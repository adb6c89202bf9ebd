"""Idempotency keys: a repeated command returns its first result and writes nothing (issue 17).

Every command of ``GoalpathApp`` takes ``idempotency_key``; a create takes
the caller's id as one. On every store: a repeat with the key is answered
from the key's record and stores nothing; the key with another command is
refused; a key's record commits with its events or not at all; a retry
after an unknown outcome stores once; two processes racing one key store it
once and get the same answer (done-when 3).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from hypothesis import given
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import (
    DuplicateIdError,
    IdempotencyKeyReusedError,
    InvalidCommandError,
    InvalidValueError,
    OutcomeUnknownError,
    StoreError,
)
from goalpath.core.storage import sealed_recorders
from goalpath.core.storage.keys import MasterKey
from goalpath.core.values import Actor
from tests.conftest import AppFactory, fixed_today
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.strategies import CATALOG, GOAL_START, SUPERVISOR, THERAPIST, open_standard_episode

PANIC: Final = CATALOG["panic"].definition
OTHER_THERAPIST: Final = Actor("therapist-8", "therapist")


def _day(n: int) -> date:
    return GOAL_START + timedelta(days=n)


def _stored(app: GoalpathApp) -> int:
    """How many records the store holds (PostgreSQL's positions have gaps: they are counted)."""
    return len(engine_of(app).recorder.select_notifications(start=1, limit=100_000))


@dataclass
class World:
    """The aggregates the commands work on."""

    episode: UUID
    goal: UUID
    spare: UUID
    opened: UUID | None = None


def _world(app: GoalpathApp) -> World:
    episode = open_standard_episode(app)
    goal = app.create_goal(episode, PANIC, actor=THERAPIST, activate=True)
    spare = app.create_goal(episode, PANIC, actor=THERAPIST)
    app.record_measurement(goal, 3, observed_on=_day(1), actor=THERAPIST)
    return World(episode, goal, spare)


Command = Callable[[GoalpathApp, World, str], Any]


def _open(app: GoalpathApp, w: World, key: str) -> UUID:
    w.opened = app.open_episode(
        client_id="client-2",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=_day(0),
        idempotency_key=key,
    )
    return w.opened


COMMANDS: Final[list[tuple[str, Command]]] = [
    ("open an episode", _open),
    (
        "record a session",
        lambda app, w, key: app.record_session(
            w.episode, held_on=_day(2), actor=THERAPIST, idempotency_key=key
        ),
    ),
    (
        "assign a therapist",
        lambda app, w, key: app.assign_therapist(
            w.episode, "therapist-9", actor=SUPERVISOR, idempotency_key=key
        ),
    ),
    (
        "state a goal",
        lambda app, w, key: app.create_goal(
            w.episode, CATALOG["vague"].definition, actor=THERAPIST, idempotency_key=key
        ),
    ),
    (
        "refine a goal",
        lambda app, w, key: app.refine_goal(
            w.spare,
            reason="the client asked for it first",
            priority="high-priority",
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "activate a goal",
        lambda app, w, key: app.activate_goal(w.spare, actor=THERAPIST, idempotency_key=key),
    ),
    (
        "record a measurement",
        lambda app, w, key: app.record_measurement(
            w.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key=key
        ),
    ),
    (
        "import measurements",
        lambda app, w, key: app.import_measurements(
            w.goal,
            iter([(2, _day(4), None), (1, _day(5), "a good week")]),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "import measurements of goals",
        lambda app, w, key: app.import_measurements_of_goals(
            {w.goal: [(1, _day(6), None)], w.spare: [(2, _day(6), None)]},
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "correct a measurement",
        lambda app, w, key: app.correct_measurement(
            w.goal, 1, value=4, reason="typed 3 for 4", actor=THERAPIST, idempotency_key=key
        ),
    ),
    (
        "review a goal",
        lambda app, w, key: app.review_goal(
            w.goal,
            achievement="improving",
            decision="continue",
            attainment=0,
            reviewed_on=_day(7),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "retire a goal",
        lambda app, w, key: app.retire_goal(
            w.spare,
            reason_code="no-longer-relevant",
            reason="the client moved on",
            retired_on=_day(8),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "close an episode",
        lambda app, w, key: app.close_episode(
            w.opened or w.episode,
            reason="the client moved away",
            closed_on=_day(9),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "erase a client",
        lambda app, _w, key: app.erase_client(
            "client-2", reason="the client asked to be forgotten", actor=SUPERVISOR,
            idempotency_key=key,
        ),
    ),
]  # fmt: skip


def test_every_command_repeated_with_its_key_returns_its_first_result_and_writes_nothing(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    other = app_factory() if app_factory.kind.shared else None  # another process's
    world = _world(app)
    previous: str | None = None
    for name, command in COMMANDS:
        key = f"request-{name}"
        before = _stored(app)
        first = command(app, world, key)
        stored = _stored(app)
        assert stored > before, f"{name}: the first command stored nothing"
        assert command(app, world, key) == first, f"{name}: the repeat answered otherwise"
        if other is not None:  # another process
            assert command(other, world, key) == first, name
        assert _stored(app) == stored, f"{name}: the repeat wrote"
        if previous is not None and name != "erase a client":
            # The previous command's key given to this one: refused, and nothing written.
            with pytest.raises(IdempotencyKeyReusedError) as reused:
                command(app, world, previous)
            assert reused.value.code == "idempotency-key-reused"
            assert reused.value.field == "idempotency_key"
            assert _stored(app) == stored, f"{name}: a refused key wrote"
        previous = key
    assert app.verify().ok


def test_a_create_takes_the_callers_id_as_its_key(app_factory: AppFactory) -> None:
    app = app_factory()
    episode = open_standard_episode(app)
    goal_id = uuid.uuid4()
    first = app.create_goal(episode, PANIC, actor=THERAPIST, goal_id=goal_id)
    stored = _stored(app)
    # A retry of the same create: its id, not DuplicateIdError, and nothing written.
    assert app.create_goal(episode, PANIC, actor=THERAPIST, goal_id=goal_id) == first == goal_id
    # The same caller with other content: refused, distinct from another caller's id.
    with pytest.raises(IdempotencyKeyReusedError) as reused:
        app.create_goal(episode, PANIC, actor=THERAPIST, goal_id=goal_id, activate=True)
    assert reused.value.field == "goal_id"
    assert str(goal_id) in str(reused.value)
    # Another principal's create of the same id: someone else's id.
    with pytest.raises(DuplicateIdError):
        app.create_goal(episode, PANIC, actor=OTHER_THERAPIST, goal_id=goal_id)
    # An id held by a goal created without it (no key record): someone else's id.
    unkeyed = app.create_goal(episode, PANIC, actor=THERAPIST)
    with pytest.raises(DuplicateIdError):
        app.create_goal(episode, PANIC, actor=THERAPIST, goal_id=unkeyed)
    assert _stored(app) == stored + 2  # the unkeyed goal's Created and the episode's GoalAdded
    episode_id = uuid.uuid4()
    opened = open_standard_episode(app, episode_id=episode_id)
    assert open_standard_episode(app, episode_id=episode_id) == opened == episode_id
    assert [goal.id for goal in app.list_goals(episode)] == [goal_id, unkeyed]


@pytest.mark.parametrize(
    "key",
    ["", "   ", "a\x00b", "tab\there", "x" * 201, "rtl\u202eoverride", "zero\u200bwidth", 17],
    ids=["empty", "blank", "nul", "tab", "too long", "bidi", "zero width", "a number"],
)
def test_a_key_is_checked_like_any_other_input(app: GoalpathApp, key: Any) -> None:
    world = _world(app)
    stored = _stored(app)
    with pytest.raises(InvalidValueError) as refused:
        app.record_measurement(
            world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key=key
        )
    assert "idempotency key" in str(refused.value)
    assert _stored(app) == stored


def test_keys_in_a_unit_of_work_are_written_with_its_events(app: GoalpathApp) -> None:
    world = _world(app)
    stored = _stored(app)
    with app.unit_of_work() as work:
        first = work.record_measurement(
            world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
        )
        # Repeated inside the unit: answered from the unit's own record.
        assert (
            work.record_measurement(
                world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
            )
            == first
        )
    assert _stored(app) == stored + 1
    assert (
        app.record_measurement(
            world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
        )
        == first
    )

    # A unit given up writes neither its events nor its keys: the key is free again.
    def give_up() -> None:
        with app.unit_of_work() as work:
            work.record_measurement(
                world.goal, 1, observed_on=_day(4), actor=THERAPIST, idempotency_key="given up"
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        give_up()
    assert _stored(app) == stored + 1
    app.record_measurement(
        world.goal, 1, observed_on=_day(4), actor=THERAPIST, idempotency_key="given up"
    )
    assert _stored(app) == stored + 2


def _fail_once_in_the_transaction(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The next write fails after its events and keys are inserted, before it commits."""
    real = sealed_recorders.seal_mac

    def failing(*_args: Any) -> bytes:
        monkeypatch.setattr(sealed_recorders, "seal_mac", real)
        raise error

    monkeypatch.setattr(sealed_recorders, "seal_mac", failing)


def test_a_key_commits_with_its_events_or_not_at_all(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = shared_app_factory.kind.name
    app = shared_app_factory()
    world = _world(app)
    stored = _stored(app)
    disk_full: Exception = (
        sqlite3.OperationalError("database or disk is full")
        if kind == "sqlite"
        else psycopg.errors.DiskFull("could not extend file: No space left on device")
    )
    _fail_once_in_the_transaction(monkeypatch, disk_full)
    with pytest.raises(StoreError) as failed:
        app.record_measurement(
            world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
        )
    assert not isinstance(failed.value, OutcomeUnknownError)
    assert _stored(app) == stored  # neither the event nor the key
    # So the retry is a first command: stored once.
    number = app.record_measurement(
        world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
    )
    assert _stored(app) == stored + 1
    assert [m.sequence for m in app.get_goal(world.goal).measurements][-1] == number
    assert app.verify().ok


@pytest.mark.parametrize("command", ["record a measurement", "state a goal", "activate a goal"])
def test_the_loser_of_a_race_for_a_key_answers_with_the_winners_record(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    loser, winner = shared_app_factory(), shared_app_factory()
    world = _world(loser)
    run = dict(COMMANDS)[command]
    engine = engine_of(loser)
    write = engine._write_unit

    def winner_first(*args: Any, **kwargs: Any) -> Any:
        # The other process stores the same keyed command between this one's look-up and write.
        monkeypatch.setattr(engine, "_write_unit", write)
        answers.append(run(winner, world, "the key"))
        return write(*args, **kwargs)

    answers: list[Any] = []
    monkeypatch.setattr(engine, "_write_unit", winner_first)
    stored = _stored(loser)
    answers.append(run(loser, world, "the key"))
    assert answers[0] == answers[1]
    assert _stored(loser) == stored + (2 if command == "state a goal" else 1)
    assert loser.verify().ok


# -- an unknown outcome, retried with its key ------------------------------------


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def _pg_app(tenant: PostgresTenant) -> GoalpathApp:
    return GoalpathApp(
        tenant.url, tenant=tenant.tenant, master_key=tenant.master_key, today=fixed_today
    )


def _lose_the_connection(
    app: GoalpathApp, monkeypatch: pytest.MonkeyPatch, *, after_commit: bool
) -> None:
    """The recorder's next insert loses its connection, before or after it commits."""
    recorder: Any = engine_of(app).recorder
    insert = recorder.insert_events
    lost = psycopg.OperationalError("server closed the connection unexpectedly")

    def failing(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(recorder, "insert_events", insert)  # once
        if after_commit:
            insert(*args, **kwargs)
        raise OperationalError(str(lost)) from lost

    monkeypatch.setattr(recorder, "insert_events", failing)


def test_a_retry_after_an_unknown_outcome_with_its_key_is_stored_once(
    tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _pg_app(tenant) as app:
        world = _world(app)
        stored = _stored(app)

        def measure() -> int:
            return app.record_measurement(
                world.goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key="visit"
            )

        # Lost before the commit: unknown to the caller, and nothing is stored.
        _lose_the_connection(app, monkeypatch, after_commit=False)
        with pytest.raises(OutcomeUnknownError):
            measure()
        assert _stored(app) == stored
        number = measure()  # the retry, with its key
        assert measure() == number
        assert _stored(app) == stored + 1
        # Lost after the commit: the key's record tells the command it was stored.
        _lose_the_connection(app, monkeypatch, after_commit=True)
        reviewed = app.review_goal(
            world.goal,
            achievement="improving",
            decision="continue",
            reviewed_on=_day(4),
            actor=THERAPIST,
            idempotency_key="review",
        )
        assert reviewed is None
        assert _stored(app) == stored + 2
        assert len(app.get_goal(world.goal).reviews) == 1
        assert app.verify().ok


# -- the law ------------------------------------------------------------------

_STEPS: Final = st.lists(
    st.tuples(
        st.sampled_from(["measure 1", "measure 2", "review", "session"]),
        st.sampled_from(["k1", "k2", "k3", None]),
    ),
    min_size=1,
    max_size=12,
)


def _step(app: GoalpathApp, world: World, command: str, key: str | None) -> Any:
    if command.startswith("measure"):
        value = float(command.split()[1])
        return app.record_measurement(
            world.goal, value, observed_on=_day(3), actor=THERAPIST, idempotency_key=key
        )
    if command == "review":
        return app.review_goal(
            world.goal,
            achievement="improving",
            decision="continue",
            reviewed_on=_day(4),
            actor=THERAPIST,
            idempotency_key=key,
        )
    return app.record_session(world.episode, held_on=_day(5), actor=THERAPIST, idempotency_key=key)


@given(steps=_STEPS)
def test_any_sequence_with_repeated_keys_stores_each_keyed_command_once(
    steps: list[tuple[str, str | None]],
) -> None:
    with GoalpathApp(master_key=MasterKey.generate(), today=fixed_today) as app:
        world = _world(app)
        first: dict[str, tuple[str, Any]] = {}
        expected = _stored(app)
        for command, key in steps:
            if key is not None and key in first and first[key][0] != command:
                with pytest.raises(IdempotencyKeyReusedError):
                    _step(app, world, command, key)
            else:
                result = _step(app, world, command, key)
                if key is not None and key in first:
                    assert result == first[key][1]  # answered, not stored again
                else:
                    expected += 1
                    if key is not None:
                        first[key] = (command, result)
            assert _stored(app) == expected
        assert app.verify().ok


# -- two processes racing one key ---------------------------------------------

ROUNDS: Final = 4


def _racer(  # noqa: PLR0917  # multiprocessing passes its arguments by position
    location: str,
    tenant: str | None,
    key_text: str,
    world: tuple[str, str],
    barrier: Any,
    answers: Any,
) -> None:
    """One process: at each barrier, the same keyed commands as the other process."""
    episode, goal = (UUID(text) for text in world)
    key = MasterKey.from_text(key_text, "the test")
    answered: list[Any] = []
    with GoalpathApp(location, tenant=tenant, master_key=key, today=fixed_today) as app:
        for n in range(ROUNDS):
            barrier.wait()
            answered.append(
                app.record_measurement(
                    goal, 2, observed_on=_day(3), actor=THERAPIST, idempotency_key=f"race-{n}"
                )
            )
            barrier.wait()
            answered.append(
                str(
                    app.create_goal(
                        episode, PANIC, actor=THERAPIST, goal_id=uuid.uuid5(goal, str(n))
                    )
                )
            )
    answers.put(answered)


def _race(location: str, tenant: str | None, key: MasterKey) -> None:
    with GoalpathApp(location, tenant=tenant, master_key=key, today=fixed_today) as app:
        world = _world(app)
        stored = _stored(app)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    answers = context.Queue()
    racers = [
        context.Process(
            target=_racer,
            args=(location, tenant, key.to_text(), (str(world.episode), str(world.goal)),
                  barrier, answers),
        )
        for _ in range(2)
    ]  # fmt: skip
    for racer in racers:
        racer.start()
    results = [answers.get(timeout=120) for _ in racers]
    for racer in racers:
        racer.join(timeout=60)
        assert racer.exitcode == 0
    assert results[0] == results[1]  # both processes got the same answers
    with GoalpathApp(location, tenant=tenant, master_key=key, today=fixed_today) as app:
        # Each keyed command stored once: a measurement, and a goal with its GoalAdded.
        assert _stored(app) == stored + ROUNDS * 3
        numbers = [m.sequence for m in app.get_goal(world.goal).measurements]
        assert numbers[1:] == results[0][0::2]
        assert [str(g.id) for g in app.list_goals(world.episode)][2:] == results[0][1::2]
        assert app.verify().ok


def test_two_processes_racing_one_key_on_sqlite_store_it_once(tmp_path: Any) -> None:
    _race(str(tmp_path / "race.db"), None, MasterKey.generate())


def test_two_processes_racing_one_key_on_postgres_store_it_once(
    tenant: PostgresTenant,
) -> None:
    _race(tenant.url, tenant.tenant, tenant.master_key)


def test_a_keyed_erasure_of_an_erased_client_answers_with_its_record(app: GoalpathApp) -> None:
    _world(app)
    record = app.erase_client("client-1", reason="asked to be forgotten", actor=SUPERVISOR)
    # The retry of an erasure whose answer was lost: the erasure is complete.
    retried = app.erase_client(
        "client-1", reason="asked to be forgotten", actor=SUPERVISOR, idempotency_key="erase"
    )
    assert retried == record
    with pytest.raises(InvalidCommandError):  # without a key, still refused as done already
        app.erase_client("client-1", reason="asked to be forgotten", actor=SUPERVISOR)
