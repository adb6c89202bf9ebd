"""Injected faults on SQLite: for every fault, what the caller is told matches the store.

Issue 17, done-when 1. Each command of a representative mix runs once
without faults to count its I/O calls, then once per call number N with
that call failing (a full disk, an I/O error, a lock timeout, in turn).
After each run, with faults off, the store is opened again and:

- it verifies (hash chains, keys);
- a command that succeeded is stored (the aggregate's version moved on);
- a command refused with a typed error (a ``GoalpathError`` that does not
  say the outcome is unknown) left the store as it was: the same records,
  but for a new client's key, which is made in a transaction of its own
  before the events and holds no data;
- an ``OutcomeUnknownError`` may have been stored or not, and says so;
- a refusal that says to repeat the command (an erasure recorded whose key
  was not yet destroyed) is completed by repeating it;
- nothing else: no raw driver error reaches the caller.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError, OutcomeUnknownError
from goalpath.core.storage.keys import MasterKey
from goalpath.core.storage.sqlite_files import ErasureIncompleteError
from goalpath.core.values import Actor
from tests.core.faults import FAULTS, injecting
from tests.strategies import PANIC_FROM_FOUR as DEFINITION

TODAY: Final = date(2026, 5, 1)
THERAPIST: Final = Actor("therapist-7", "therapist")
SUPERVISOR: Final = Actor("supervisor-2", "supervisor")


NO_ID: Final = UUID(int=0)
KEY_TABLES: Final = ("goalpath_client_keys", "goalpath_key_seals")


@dataclass
class Ids:
    """The aggregates the mix works on."""

    episode: UUID = NO_ID
    goal: UUID = NO_ID
    client: str = "client-1"


def prepare(app: GoalpathApp, ids: Ids) -> None:
    ids.episode = app.open_episode(
        client_id=ids.client, therapist_ids=["therapist-7"], actor=THERAPIST,
        opened_on=date(2026, 3, 1),
    )  # fmt: skip
    ids.goal = app.create_goal(ids.episode, DEFINITION, actor=THERAPIST, activate=True)
    app.record_measurement(ids.goal, 4, observed_on=date(2026, 3, 2), actor=THERAPIST)


Command = Callable[[GoalpathApp, Ids, "str | None"], object]
"""A command of the mix, given the application, its aggregates and an idempotency key."""

COMMANDS: Final[dict[str, Command]] = {
    "open an episode": lambda app, _ids, key: app.open_episode(
        client_id="client-2",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=date(2026, 3, 1),
        idempotency_key=key,
    ),
    "create a goal": lambda app, ids, key: app.create_goal(
        ids.episode, DEFINITION, actor=THERAPIST, idempotency_key=key
    ),
    "record a measurement": lambda app, ids, key: app.record_measurement(
        ids.goal, 3, observed_on=date(2026, 3, 9), actor=THERAPIST, idempotency_key=key
    ),
    "review a goal": lambda app, ids, key: app.review_goal(
        ids.goal,
        achievement="improving",
        decision="continue",
        attainment=0,
        reviewed_on=date(2026, 3, 16),
        actor=THERAPIST,
        idempotency_key=key,
    ),
    "retire a goal": lambda app, ids, key: app.retire_goal(
        ids.goal,
        reason_code="achieved",
        reason="reached and kept for a month",
        retired_on=date(2026, 4, 20),
        actor=THERAPIST,
        idempotency_key=key,
    ),
    "erase a client": lambda app, ids, key: app.erase_client(
        ids.client, reason="the client asked to be forgotten", actor=SUPERVISOR,
        idempotency_key=key,
    ),
}  # fmt: skip


def _records(path: Path) -> list[tuple[Any, ...]]:
    """Every stored record of the store (events and keys), read without goalpath."""
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if not name.startswith(("gp_", "sqlite_"))  # read models are rebuilt, not compared
        ]
        return [
            (table, *row)
            for table in tables
            for row in connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2")  # noqa: S608
        ]


def _open(path: Path, key: MasterKey) -> GoalpathApp:
    return GoalpathApp(str(path), master_key=key, today=lambda: TODAY, snapshot_interval=2)


def outcome_of(error: BaseException | None) -> str:
    if error is None:
        return "stored"
    if isinstance(error, OutcomeUnknownError):
        return "unknown"
    if isinstance(error, GoalpathError):
        return "refused"
    return f"raw {type(error).__name__}: {error}"


def _run(tmp_path: Path, name: str, number: int | None, fault: str, plan: Any) -> str:
    """Run one command on a fresh store with call ``number`` failing; check the store after."""
    slug = f"{name}-{number}-{fault}".replace(" ", "-").replace("/", "")
    path = tmp_path / f"{slug}.db"
    key = MasterKey.generate()
    ids = Ids()
    with _open(path, key) as app:
        prepare(app, ids)
    before = _records(path)
    error: BaseException | None = None
    if number is None:
        plan.count()
    else:
        plan.arm(number, fault)
    try:
        with _open(path, key) as app:
            COMMANDS[name](app, ids, None)
    except Exception as raised:  # classified below: the point of the test
        error = raised
    finally:
        plan.disarm()
    outcome = outcome_of(error)
    if outcome.startswith("raw"):
        return outcome  # reported, all of them, by the test
    after = _records(path)
    with _open(path, key) as app:
        if isinstance(error, ErasureIncompleteError):
            app.purge()  # what its message asks: the key is destroyed, the log not yet emptied
            outcome, before, after = "purged", [], []
        elif outcome != "stored" and "again to complete it" in str(error):
            # A command that says it must be repeated may have done part of its work (an
            # erasure recorded before its key is destroyed); repeating it completes it.
            COMMANDS[name](app, ids, None)
            outcome, before, after = "repeated", [], []
        report = app.verify()
    assert report.ok, f"{name}, call {number} ({fault}): the store does not verify: {error}"
    if outcome == "stored":
        assert after != before, f"{name}, call {number} ({fault}): reported stored, not stored"
    elif outcome == "refused":
        # A new client's key is made in a transaction of its own before the events; a
        # refused command may leave it (it holds no data, and the retry uses it).
        added = sorted(
            (row for row in set(after) - set(before) if row[0] not in KEY_TABLES), key=repr
        )
        removed = sorted(set(before) - set(after), key=repr)
        assert (added, removed) == ([], []), (
            f"{name}, call {number} ({fault}): refused ({error}) but the store changed: "
            f"added {[row[:3] for row in added]}, removed {[row[:3] for row in removed]}"
        )
    return outcome


def test_every_injected_fault_is_told_as_the_store_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int] = {}
    raw: list[str] = []
    with injecting(monkeypatch) as plan:
        kinds = itertools.cycle(FAULTS)
        for name in COMMANDS:
            assert _run(tmp_path, name, None, "I/O error", plan) == "stored"
            calls = plan.calls
            assert calls > 0, f"{name} made no SQLite call the harness saw"
            for number in range(1, calls + 1):
                fault = next(kinds)
                outcome = _run(tmp_path, name, number, fault, plan)
                seen[outcome.split(":")[0]] = seen.get(outcome.split(":")[0], 0) + 1
                if outcome.startswith("raw"):
                    raw.append(f"{name}, call {number} of {calls} ({fault}): {outcome}")
    print(f"injected SQLite faults by outcome: {dict(sorted(seen.items()))}")  # noqa: T201
    assert raw == []
    assert seen.get("refused", 0) > 0  # the faults did reach the commands
