"""Idempotency keys raced: two writers of one keyed command store it once and answer alike.

The loser of a race for a key (the other process stored the same keyed
command between its look-up and its write) answers with the winner's
record; two processes racing the same keys on SQLite and on PostgreSQL
store each once and get the same answers (issue 17, done-when 3).
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator
from typing import Any, Final
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.storage.keys import MasterKey
from tests.conftest import AppFactory, fixed_today
from tests.core.idempotency_support import COMMANDS, PANIC, build_world, day, stored_count
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.strategies import THERAPIST


@pytest.mark.parametrize("command", ["record a measurement", "state a goal", "activate a goal"])
def test_the_loser_of_a_race_for_a_key_answers_with_the_winners_record(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    loser, winner = shared_app_factory(), shared_app_factory()
    world = build_world(loser)
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
    stored = stored_count(loser)
    answers.append(run(loser, world, "the key"))
    assert answers[0] == answers[1]
    assert stored_count(loser) == stored + (2 if command == "state a goal" else 1)
    assert loser.verify().ok


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


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
                    goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key=f"race-{n}"
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
        world = build_world(app)
        stored = stored_count(app)
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
        assert stored_count(app) == stored + ROUNDS * 3
        numbers = [m.sequence for m in app.goal_measurements(world.goal)]
        assert numbers[1:] == results[0][0::2]
        assert [str(g.id) for g in app.list_goals(world.episode)][2:] == results[0][1::2]
        assert app.verify().ok


def test_two_processes_racing_one_key_on_sqlite_store_it_once(tmp_path: Any) -> None:
    _race(str(tmp_path / "race.db"), None, MasterKey.generate())


def test_two_processes_racing_one_key_on_postgres_store_it_once(
    tenant: PostgresTenant,
) -> None:
    _race(tenant.url, tenant.tenant, tenant.master_key)
