"""Injected faults on PostgreSQL: for every fault, what the caller is told matches the store.

Issue 17, done-when 1, on PostgreSQL (``tests/core/test_fault_injection.py``
is the same on SQLite, with the same command mix). Each command runs once
without faults to count its psycopg calls (statements and commits), then
once per call number N, in a fresh tenant of a database of this test's own,
with call N failing: a full disk, a lost connection, a statement timeout, a
lost reply (the call done, then the connection gone) and a lock timeout, in
turn (``tests/core/postgres_faults.py``). Every command is given an
idempotency key. After each run, with faults off:

- a command that succeeded is stored;
- a command refused with a typed error left the store as it was (but for a
  new client's key, made in a transaction of its own before the events);
- an ``OutcomeUnknownError`` may have been stored or not;
- an erasure that says to repeat it (recorded, key not yet destroyed) is
  repeated, and one that says to purge (key destroyed, its table not yet
  rewritten) is purged;
- no raw driver error reached the caller;

then the command is repeated with its key, as a host retrying would: it
succeeds, a stored command is answered with its first result, and the store
holds the command's events exactly once and verifies (hash chains, heads,
seal, keys). Call numbers are sampled so that the test stays bounded: at most
:data:`RUNS_PER_COMMAND` faults per command, always including the last calls
(the commit).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any, Final

import psycopg
import pytest
from psycopg import sql

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import OutcomeUnknownError
from goalpath.core.storage.keys import MasterKey
from goalpath.core.storage.sqlite_files import ErasureIncompleteError
from tests.core.postgres_faults import POSTGRES_FAULTS, injecting_postgres
from tests.core.test_fault_injection import COMMANDS, TODAY, Ids, outcome_of, prepare
from tests.postgres_support import require_postgres

RUNS_PER_COMMAND: Final = 7
"""The most faults injected into one command (sampled evenly, the last calls always)."""

KEY_TABLES: Final = ("goalpath_client_keys", "goalpath_key_seals", "goalpath_key_check")
EVENTS_TABLE: Final = "goalpath_events"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of this test's own on the test server, dropped afterwards."""
    server = require_postgres()
    name = f"goalpath_faults_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, _ = server.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _records(url: str, tenant: str) -> list[tuple[Any, ...]]:
    """Every row of the tenant's schema (events, heads, seal, keys), read without goalpath."""
    schema = f"goalpath_{tenant}"
    with psycopg.connect(url) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (schema,),
            )
        ]
        return sorted(
            (
                (table, *row)
                for table in tables
                for row in connection.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
                )
            ),
            key=repr,
        )


def _events(records: list[tuple[Any, ...]]) -> int:
    return sum(1 for row in records if row[0] == EVENTS_TABLE)


def _open(url: str, tenant: str, key: MasterKey) -> GoalpathApp:
    return GoalpathApp(url, tenant=tenant, master_key=key, today=lambda: TODAY, snapshot_interval=2)


class _Store:
    """One tenant and one open application for one command's runs, as a long-lived host has."""

    def __init__(self, url: str, name: str) -> None:
        self.url, self.name = url, name
        self.tenant = f"f{uuid.uuid4().hex[:16]}"
        self.app = _open(url, self.tenant, MasterKey.generate())
        self.runs = 0

    def run(self, plan: Any, number: int | None, fault: str) -> _Run:
        """Fresh aggregates (of a new client), then the command with call ``number`` failing."""
        self.runs += 1
        ids = Ids(client=f"client-{self.runs}")
        prepare(self.app, ids)
        run = _Run(self, ids, number, fault)
        if number is None:
            plan.count()
        else:
            plan.arm(number, fault)
        try:
            run.result = COMMANDS[self.name](self.app, ids, run.key)
        except Exception as raised:  # classified by the check: the point of the test
            run.error = raised
        finally:
            plan.disarm()
        return run


class _Run:
    """One command of a store's runs, with call ``number`` failing (``None``: a dry run)."""

    def __init__(self, store: _Store, ids: Ids, number: int | None, fault: str) -> None:
        self.store, self.ids, self.number, self.fault = store, ids, number, fault
        self.key = f"{store.name}-{store.runs}"
        self.before = _records(store.url, store.tenant)
        self.error: BaseException | None = None
        self.result: object = None

    def where(self) -> str:
        return f"{self.store.name}, call {self.number} ({self.fault})"

    def added(self) -> int:
        """How many events the run's command stored, so far."""
        return _events(_records(self.store.url, self.store.tenant)) - _events(self.before)

    def check(self, added: int) -> str:
        """Check the store against what the caller was told, then retry with the key."""
        error, store = self.error, self.store
        outcome = outcome_of(error)
        if outcome.startswith("raw"):
            return outcome
        after = _records(store.url, store.tenant)
        if outcome == "stored":
            assert _events(after) == _events(self.before) + added, f"{self.where()}: not stored"
        elif isinstance(error, ErasureIncompleteError):
            # The key is destroyed, its table not yet rewritten: what the message asks.
            store.app.purge()
            assert store.app.verify().ok, f"{self.where()}: the store does not verify"
            assert self.added() == added, f"{self.where()}: the erasure is not stored once"
            return "purged"
        elif outcome == "refused" and "again to complete it" in str(error):
            # An erasure recorded before its key was destroyed: repeating it completes it.
            outcome = "repeated"
        elif outcome == "refused":
            changed = sorted(
                (row for row in set(after) ^ set(self.before) if row[0] not in KEY_TABLES),
                key=repr,
            )
            assert changed == [], (
                f"{self.where()}: refused ({error}) but the store changed: "
                f"{[row[:3] for row in changed]}"
            )
        else:
            assert isinstance(error, OutcomeUnknownError)
        retried = COMMANDS[store.name](store.app, self.ids, self.key)  # a host's retry
        if outcome == "stored":
            assert retried == self.result, f"{self.where()}: the retry answered otherwise"
        assert store.app.verify().ok, f"{self.where()}: the store does not verify after {error}"
        assert self.added() == added, (
            f"{self.where()}: {outcome} ({error}), then retried with its key: "
            f"{self.added()} events stored, not {added}"
        )
        return outcome


def _call_numbers(calls: int) -> list[int]:
    """At most RUNS_PER_COMMAND call numbers of 1..calls: evenly spread, and the last three."""
    if calls <= RUNS_PER_COMMAND:
        return list(range(1, calls + 1))
    last = list(range(calls - 2, calls + 1))
    spread = RUNS_PER_COMMAND - len(last)
    return sorted({1 + (calls - 4) * i // (spread - 1) for i in range(spread)} | set(last))


def test_every_injected_postgres_fault_is_told_as_the_store_has_it(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int] = {}
    raw: list[str] = []
    faults = itertools.cycle(POSTGRES_FAULTS)
    with injecting_postgres(monkeypatch) as plan:
        for name in COMMANDS:
            store = _Store(database, name)
            counted = []
            for _ in range(2):  # the first run also opens connections and caches keys
                dry = store.run(plan, None, "none")
                assert dry.error is None, f"{name} failed without a fault: {dry.error}"
                counted.append(plan.calls)
            calls = counted[-1]
            assert calls > 0, f"{name} made no psycopg call the harness saw"
            added = dry.added()
            for number in _call_numbers(calls):
                run = store.run(plan, number, next(faults))
                assert plan.fired, f"{run.where()}: the fault was not reached"
                outcome = run.check(added)
                seen[outcome.split(":")[0]] = seen.get(outcome.split(":")[0], 0) + 1
                if outcome.startswith("raw"):
                    raw.append(f"{run.where()} of {calls}: {outcome}")
            store.app.close()
    print(f"injected PostgreSQL faults by outcome: {dict(sorted(seen.items()))}")  # noqa: T201
    assert raw == []
    assert seen.get("refused", 0) > 0  # the faults did reach the commands
    assert seen.get("unknown", 0) > 0  # and some left the outcome unknown to the caller
