"""Fault injection for PostgreSQL: fail the Nth psycopg call as the server or network would.

:func:`injecting_postgres` patches psycopg's ``Cursor.execute``,
``Cursor.executemany`` and ``Transaction.__exit__`` (the commit of every
transaction, eventsourcing's and goalpath's alike, pooled or not), counting
each call on the returned :class:`~tests.core.faults.FaultPlan`. The armed
call fails with the fault's own error, as psycopg raises it:

- ``disk full``: ``psycopg.errors.DiskFull`` (SQLSTATE 53100), the statement
  refused and its transaction rolled back;
- ``statement timeout``: ``psycopg.errors.QueryCanceled`` (57014);
- ``lock timeout``: ``psycopg.errors.LockNotAvailable`` (55P03);
- ``connection lost``: the connection is closed before the call reaches the
  server, and ``psycopg.OperationalError`` without SQLSTATE is raised, as a
  killed backend or a cut network gives it;
- ``reply lost``: the call reaches the server and completes (a commit
  commits), then the connection is closed and the same ``OperationalError``
  raised: the caller cannot know the outcome.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import psycopg
import pytest

from tests.core.faults import FaultPlan

__all__ = ["POSTGRES_FAULTS", "injecting_postgres"]

POSTGRES_FAULTS: Final = (
    "disk full",
    "connection lost",
    "statement timeout",
    "reply lost",
    "lock timeout",
)
"""The faults injected, in the order a run cycles through them."""

_LOST: Final = "consuming input failed: server closed the connection unexpectedly"

PLAN: Final = FaultPlan()


def _refusal(fault: str) -> psycopg.Error:
    if fault == "disk full":
        return psycopg.errors.DiskFull("could not extend file: No space left on device")
    if fault == "statement timeout":
        return psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
    if fault == "lock timeout":
        return psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
    return psycopg.OperationalError(_LOST)


def _lose(connection: Any) -> psycopg.Error:
    connection.close()
    return psycopg.OperationalError(_LOST)


def _counted(real: Any, connection_of: Any) -> Any:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        fault = PLAN.due()
        if fault is None:
            return real(self, *args, **kwargs)
        connection = connection_of(self)
        if fault == "reply lost":
            real(self, *args, **kwargs)
            raise _lose(connection)
        if fault == "connection lost":
            raise _lose(connection)
        raise _refusal(fault)

    return call


def _counted_exit(real: Any) -> Any:
    def exit_transaction(self: Any, exc_type: Any, exc: Any, traceback: Any) -> Any:
        if exc_type is not None:  # a rollback: not a call that can fail on its own here
            return real(self, exc_type, exc, traceback)
        fault = PLAN.due()
        if fault is None:
            return real(self, exc_type, exc, traceback)
        connection = self.connection
        if fault == "reply lost":
            real(self, exc_type, exc, traceback)  # committed
            raise _lose(connection)
        if fault == "connection lost":
            raise _lose(connection)
        error = _refusal(fault)
        real(self, type(error), error, None)  # the server refused the commit: rolled back
        raise error

    return exit_transaction


@contextmanager
def injecting_postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultPlan]:
    """Every psycopg call made inside counts on the returned plan (disarmed at first)."""
    PLAN.disarm()
    cursor = psycopg.Cursor
    originals = (cursor.execute, cursor.executemany, psycopg.Transaction.__exit__)
    monkeypatch.setattr(cursor, "execute", _counted(cursor.execute, lambda self: self.connection))
    monkeypatch.setattr(
        cursor, "executemany", _counted(cursor.executemany, lambda self: self.connection)
    )
    monkeypatch.setattr(
        psycopg.Transaction, "__exit__", _counted_exit(psycopg.Transaction.__exit__)
    )
    try:
        yield PLAN
    finally:
        PLAN.disarm()
        execute, executemany, exit_transaction = originals
        monkeypatch.setattr(cursor, "execute", execute)
        monkeypatch.setattr(cursor, "executemany", executemany)
        monkeypatch.setattr(psycopg.Transaction, "__exit__", exit_transaction)
