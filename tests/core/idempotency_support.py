"""What the idempotency tests share: a world of aggregates, every command with a key, a count.

``COMMANDS`` holds every command of ``GoalpathApp`` given an idempotency
key (tests/core/test_idempotency*.py repeat, refuse and race them);
``stored_count`` counts the store's records, so a test sees what a command wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from tests.strategies import CATALOG, GOAL_START, SUPERVISOR, THERAPIST, open_standard_episode

__all__ = ["COMMANDS", "PANIC", "Command", "World", "build_world", "day", "stored_count"]

PANIC: Final = CATALOG["panic"].definition


def day(n: int) -> date:
    """The ``n``-th day after the goals' start."""
    return GOAL_START + timedelta(days=n)


def stored_count(app: GoalpathApp) -> int:
    """How many records the store holds (PostgreSQL's positions have gaps: they are counted)."""
    return len(engine_of(app).recorder.select_notifications(start=1, limit=100_000))


@dataclass
class World:
    """The aggregates the commands work on."""

    episode: UUID
    goal: UUID
    spare: UUID
    opened: UUID | None = None


def build_world(app: GoalpathApp) -> World:
    """An episode with an active goal (measured once) and a proposed spare goal."""
    episode = open_standard_episode(app)
    goal = app.create_goal(episode, PANIC, actor=THERAPIST, activate=True)
    spare = app.create_goal(episode, PANIC, actor=THERAPIST)
    app.record_measurement(goal, 3, observed_on=day(1), actor=THERAPIST)
    return World(episode, goal, spare)


Command = Callable[[GoalpathApp, World, str], Any]
"""A command given an idempotency key, on the aggregates of a world."""


def _open(app: GoalpathApp, w: World, key: str) -> UUID:
    w.opened = app.open_episode(
        client_id="client-2",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=day(0),
        idempotency_key=key,
    )
    return w.opened


COMMANDS: Final[list[tuple[str, Command]]] = [
    ("open an episode", _open),
    (
        "record a session",
        lambda app, w, key: app.record_session(
            w.episode, held_on=day(2), actor=THERAPIST, idempotency_key=key
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
            w.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key=key
        ),
    ),
    (
        "import measurements",
        lambda app, w, key: app.import_measurements(
            w.goal,
            iter([(2, day(4), None), (1, day(5), "a good week")]),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "import measurements of goals",
        lambda app, w, key: app.import_measurements_of_goals(
            {w.goal: [(1, day(6), None)], w.spare: [(2, day(6), None)]},
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
            reviewed_on=day(7),
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
            retired_on=day(8),
            actor=THERAPIST,
            idempotency_key=key,
        ),
    ),
    (
        "close an episode",
        lambda app, w, key: app.close_episode(
            w.opened or w.episode,
            reason="the client moved away",
            closed_on=day(9),
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
"""Every command of ``GoalpathApp``, by name, in an order each can follow the one before."""
