"""SQLite connections for many threads: each borrower gets a connection of its own.

A ``sqlite3.Connection`` holds one transaction at a time, so two threads
sharing one interleave their statements inside each other's transactions
(``cannot start a transaction within a transaction``, a commit of someone
else's half-done work). :class:`SQLiteConnectionPool` lends a connection to
one borrower at a time instead:

- for a file, every concurrent borrower gets its own connection (opened on
  demand, kept for reuse while idle, at most ``max_idle`` of them); SQLite's
  own file locks then serialise writers across threads and processes, and
  each reader sees its own snapshot;
- an in-memory database exists only inside the connection that made it, so a
  memory pool holds exactly one connection and lends it to one borrower at a
  time: the others wait for it (up to the timeout). A borrower that asks
  again while it holds the connection is refused rather than left waiting
  for itself.

A process that forked does not reuse its parent's connections: the child
opens its own (SQLite forbids carrying a connection across ``fork``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from goalpath.core.errors import GoalpathError, StoreError

__all__ = ["DEFAULT_MAX_IDLE", "MEMORY", "SQLiteConnectionPool"]

MEMORY: Final = ":memory:"

DEFAULT_MAX_IDLE: Final = 8
"""Idle connections a file pool keeps for reuse; more are closed when returned."""


class SQLiteConnectionPool:
    """Connections to one SQLite database, each lent to one borrower at a time.

    ``setup`` runs once on every new connection (pragmas, tables).
    Connections are in autocommit mode (``isolation_level=None``): borrowers
    open their transactions explicitly. Failures are raised as ``error``
    (a :class:`~goalpath.core.errors.GoalpathError` class), naming the
    database and what went wrong.
    """

    def __init__(
        self,
        location: str,
        *,
        timeout_seconds: float = 10,
        setup: Callable[[sqlite3.Connection], None] | None = None,
        max_idle: int = DEFAULT_MAX_IDLE,
        error: type[GoalpathError] = StoreError,
    ) -> None:
        self.location = location
        self.memory = location == MEMORY
        self._timeout = timeout_seconds
        self._setup = setup
        self._max_idle = max(max_idle, 1)
        self._error = error
        self._available = threading.Condition()
        self._idle: list[sqlite3.Connection] = []
        self._lent: set[sqlite3.Connection] = set()
        self._holder: int | None = None  # the thread holding a memory pool's connection
        self._closed = False
        self._pid = os.getpid()
        # Open one connection at once, so a database that cannot be opened is refused now.
        self._idle.append(self._open())

    def _open(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.location,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,  # lent to one thread at a time, maybe not the opener
            )
        except sqlite3.Error as error:
            raise self._error(f"cannot open the SQLite database {self.location}: {error}") from None
        try:
            if self._setup is not None:
                self._setup(connection)
        except sqlite3.Error as error:
            connection.close()
            raise self._error(
                f"cannot prepare the SQLite database {self.location}: {error}"
            ) from None
        return connection

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection for one unit of work; it goes back to the pool afterwards.

        A transaction its borrower left open is rolled back; a connection
        that cannot even do that is closed rather than lent again.
        """
        connection = self._borrow()
        try:
            yield connection
        finally:
            self._give_back(connection)

    def _borrow(self) -> sqlite3.Connection:
        with self._available:
            if self._closed:
                raise self._error(f"the SQLite database {self.location} was closed")
            if self.memory:
                return self._borrow_the_memory_connection()
            if os.getpid() != self._pid:
                self._idle.clear()  # the parent's: neither used nor closed here
                self._lent.clear()
                self._pid = os.getpid()
            if self._idle:
                connection = self._idle.pop()
                self._lent.add(connection)
                return connection
        connection = self._open()  # outside the lock: opening may wait on the file
        with self._available:
            self._lent.add(connection)
        return connection

    def _borrow_the_memory_connection(self) -> sqlite3.Connection:
        me = threading.get_ident()
        if self._holder == me:
            raise self._error(
                f"this thread already holds the connection to {self.location}; "
                "finish its transaction before starting another"
            )
        if not self._available.wait_for(lambda: bool(self._idle) or self._closed, self._timeout):
            raise self._error(
                f"the in-memory database {self.location} stayed busy for more than "
                f"{self._timeout:g} s; try again when the other work has finished"
            )
        if self._closed:
            raise self._error(f"the SQLite database {self.location} was closed")
        connection = self._idle.pop()
        self._lent.add(connection)
        self._holder = me
        return connection

    def _give_back(self, connection: sqlite3.Connection) -> None:
        usable = _ended(connection)
        with self._available:
            self._lent.discard(connection)
            if self.memory:
                self._holder = None
            if usable and not self._closed and (self.memory or len(self._idle) < self._max_idle):
                self._idle.append(connection)
                self._available.notify()
                return
            if self.memory and not self._closed:
                # The one connection is unusable; without it the in-memory database is gone.
                self._closed = True
                self._available.notify_all()
        connection.close()

    def close(self) -> None:
        """Close every idle connection; a lent one is closed when it comes back."""
        with self._available:
            self._closed = True
            idle, self._idle = self._idle, []
            self._available.notify_all()
        for connection in idle:
            connection.close()


def _ended(connection: sqlite3.Connection) -> bool:
    """End a transaction its borrower left open; whether the connection can be lent again."""
    if not connection.in_transaction:
        return True
    try:
        connection.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True
