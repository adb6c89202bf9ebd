"""Idempotency keys: a repeated command returns its first result and writes nothing (issue 17).

Every command of ``GoalpathApp`` takes ``idempotency_key``; a create takes
the caller's id as one. On every store: a repeat with the key is answered
from the key's record and stores nothing; the key with another command is
refused; a key is checked like any other input; keys in a unit of work are
written with its events; any sequence of keyed commands stores each once.
What a failed write leaves of a key is in test_idempotency_failures.py, and
races for one key in test_idempotency_races.py.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import (
    DuplicateIdError,
    IdempotencyKeyReusedError,
    InvalidCommandError,
    InvalidValueError,
)
from goalpath.core.storage.keys import MasterKey
from goalpath.core.values import Actor
from tests.conftest import AppFactory, fixed_today
from tests.core.idempotency_support import (
    COMMANDS,
    PANIC,
    World,
    build_world,
    day,
    stored_count,
)
from tests.strategies import SUPERVISOR, THERAPIST, open_standard_episode

OTHER_THERAPIST: Final = Actor("therapist-8", "therapist")


def test_every_command_repeated_with_its_key_returns_its_first_result_and_writes_nothing(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    other = app_factory() if app_factory.kind.shared else None  # another process's
    world = build_world(app)
    previous: str | None = None
    for name, command in COMMANDS:
        key = f"request-{name}"
        before = stored_count(app)
        first = command(app, world, key)
        stored = stored_count(app)
        assert stored > before, f"{name}: the first command stored nothing"
        assert command(app, world, key) == first, f"{name}: the repeat answered otherwise"
        if other is not None:  # another process
            assert command(other, world, key) == first, name
        assert stored_count(app) == stored, f"{name}: the repeat wrote"
        if previous is not None and name != "erase a client":
            # The previous command's key given to this one: refused, and nothing written.
            with pytest.raises(IdempotencyKeyReusedError) as reused:
                command(app, world, previous)
            assert reused.value.code == "idempotency-key-reused"
            assert reused.value.field == "idempotency_key"
            assert stored_count(app) == stored, f"{name}: a refused key wrote"
        previous = key
    assert app.verify().ok


def test_a_create_takes_the_callers_id_as_its_key(app_factory: AppFactory) -> None:
    app = app_factory()
    episode = open_standard_episode(app)
    goal_id = uuid.uuid4()
    first = app.create_goal(episode, PANIC, actor=THERAPIST, goal_id=goal_id)
    stored = stored_count(app)
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
    assert stored_count(app) == stored + 2  # the unkeyed goal's Created and the episode's GoalAdded
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
    world = build_world(app)
    stored = stored_count(app)
    with pytest.raises(InvalidValueError) as refused:
        app.record_measurement(
            world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key=key
        )
    assert "idempotency key" in str(refused.value)
    assert stored_count(app) == stored


def test_keys_in_a_unit_of_work_are_written_with_its_events(app: GoalpathApp) -> None:
    world = build_world(app)
    stored = stored_count(app)
    with app.unit_of_work() as work:
        first = work.record_measurement(
            world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
        )
        # Repeated inside the unit: answered from the unit's own record.
        assert (
            work.record_measurement(
                world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
            )
            == first
        )
    assert stored_count(app) == stored + 1
    assert (
        app.record_measurement(
            world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
        )
        == first
    )

    # A unit given up writes neither its events nor its keys: the key is free again.
    def give_up() -> None:
        with app.unit_of_work() as work:
            work.record_measurement(
                world.goal, 1, observed_on=day(4), actor=THERAPIST, idempotency_key="given up"
            )
            raise RuntimeError

    with pytest.raises(RuntimeError):
        give_up()
    assert stored_count(app) == stored + 1
    app.record_measurement(
        world.goal, 1, observed_on=day(4), actor=THERAPIST, idempotency_key="given up"
    )
    assert stored_count(app) == stored + 2


def test_a_keyed_erasure_of_an_erased_client_answers_with_its_record(app: GoalpathApp) -> None:
    build_world(app)
    record = app.erase_client("client-1", reason="asked to be forgotten", actor=SUPERVISOR)
    # The retry of an erasure whose answer was lost: the erasure is complete.
    retried = app.erase_client(
        "client-1", reason="asked to be forgotten", actor=SUPERVISOR, idempotency_key="erase"
    )
    assert retried == record
    with pytest.raises(InvalidCommandError):  # without a key, still refused as done already
        app.erase_client("client-1", reason="asked to be forgotten", actor=SUPERVISOR)


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
            world.goal, value, observed_on=day(3), actor=THERAPIST, idempotency_key=key
        )
    if command == "review":
        return app.review_goal(
            world.goal,
            achievement="improving",
            decision="continue",
            reviewed_on=day(4),
            actor=THERAPIST,
            idempotency_key=key,
        )
    return app.record_session(world.episode, held_on=day(5), actor=THERAPIST, idempotency_key=key)


@given(steps=_STEPS)
def test_any_sequence_with_repeated_keys_stores_each_keyed_command_once(
    steps: list[tuple[str, str | None]],
) -> None:
    with GoalpathApp(master_key=MasterKey.generate(), today=fixed_today) as app:
        world = build_world(app)
        first: dict[str, tuple[str, Any]] = {}
        expected = stored_count(app)
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
            assert stored_count(app) == expected
        assert app.verify().ok
