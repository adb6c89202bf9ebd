"""Fault injection, in the manner of SQLite's own test harness: fail the Nth I/O call.

:func:`injecting` replaces ``sqlite3.connect`` (which both eventsourcing and
goalpath call) with one whose connections and cursors count every
``execute``, ``executemany``, ``executescript`` and ``commit``; the call
whose number is armed raises the chosen ``sqlite3.OperationalError`` before
it reaches SQLite, as a full disk, an I/O error or a lock timeout does.
:func:`injecting_postgres` does the same for psycopg
(``tests/core/postgres_faults.py``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import pytest

__all__ = ["FAULTS", "FaultPlan", "injecting"]

FAULTS: Final = {
    "disk full": "database or disk is full",
    "I/O error": "disk I/O error",
    "lock timeout": "database is locked",
}
"""The faults injected: name -> the message SQLite gives for it."""


class FaultPlan:
    """Counts I/O calls; the armed fault is due at call number ``fail_at``."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail_at: int | None = None
        self.fault = "I/O error"
        self.fired = False
        self._lock = threading.Lock()

    def arm(self, number: int, fault: str) -> None:
        """Fail the ``number``-th call from now with ``fault``."""
        with self._lock:
            self.calls = 0
            self.fail_at = number
            self.fault = fault
            self.fired = False

    def count(self) -> None:
        """Start counting from zero, failing nothing (a dry run)."""
        with self._lock:
            self.calls = 0
            self.fail_at = None
            self.fired = False

    def disarm(self) -> None:
        """Fail nothing from now on."""
        with self._lock:
            self.fail_at = None

    def due(self) -> str | None:
        """One I/O call: the fault to inject if it is the armed one, else ``None``."""
        with self._lock:
            self.calls += 1
            if self.fail_at is not None and self.calls == self.fail_at:
                self.fired = True
                self.fail_at = None
                return self.fault
            return None

    def call(self) -> None:
        """One SQLite call: raise SQLite's error if it is the armed one."""
        fault = self.due()
        if fault is not None:
            raise sqlite3.OperationalError(FAULTS[fault])


PLAN: Final = FaultPlan()


class _Cursor(sqlite3.Cursor):
    def execute(self, *args: Any, **kwargs: Any) -> Any:
        PLAN.call()
        return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        PLAN.call()
        return super().executemany(*args, **kwargs)

    def executescript(self, *args: Any, **kwargs: Any) -> Any:
        PLAN.call()
        return super().executescript(*args, **kwargs)


class _Connection(sqlite3.Connection):
    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("factory", _Cursor)
        return super().cursor(*args, **kwargs)

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executemany(*args, **kwargs)

    def executescript(self, *args: Any, **kwargs: Any) -> Any:
        return self.cursor().executescript(*args, **kwargs)

    def commit(self) -> None:
        PLAN.call()
        super().commit()


@contextmanager
def injecting(monkeypatch: pytest.MonkeyPatch) -> Iterator[FaultPlan]:
    """Every SQLite connection opened inside counts its calls on the returned plan."""
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _Connection)
        connection: sqlite3.Connection = real_connect(*args, **kwargs)
        return connection

    PLAN.disarm()
    monkeypatch.setattr(sqlite3, "connect", connect)
    try:
        yield PLAN
    finally:
        PLAN.disarm()
        monkeypatch.setattr(sqlite3, "connect", real_connect)
