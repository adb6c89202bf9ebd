"""Read-model storage behind one small interface.

A store runs SQL written in a portable subset (``CREATE TABLE IF NOT
EXISTS``, ``INSERT ... ON CONFLICT ... DO UPDATE``, ``?`` placeholders, types
``TEXT``, ``INTEGER`` and ``DOUBLE PRECISION``); a PostgreSQL store
translates the placeholders and keeps the rest. Writes happen in
:meth:`ReadModelStore.transaction`, which commits everything or nothing.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, Final

from goalpath.core.storage.sqlite_files import truncate_write_ahead_log
from goalpath.core.storage.sqlite_pool import SQLiteConnectionPool
from goalpath.projections.errors import ProjectionError

__all__ = ["MEMORY", "ReadModelStore", "SQLiteReadModelStore", "StoreTransaction"]

MEMORY: Final = ":memory:"
"""The location of a read-model store kept in memory (tests): nothing is kept after it closes."""

Row = tuple[Any, ...]


class StoreTransaction(ABC):
    """One open transaction: statements run in it commit together or not at all."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row of parameters."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query and return all its rows."""


class ReadModelStore(ABC):
    """Where read models live: tables and a tracking position, written in transactions.

    A store is shared by every thread of its process: each transaction runs
    on a connection of its own (a pool, never one shared connection), and
    every failure is raised as :class:`~goalpath.projections.errors.ProjectionError`.
    """

    @abstractmethod
    def transaction(self, *, write: bool = True) -> Any:
        """A context manager yielding a :class:`StoreTransaction`.

        A write transaction takes the store's write lock at once, so two
        runners never apply the same batch; a read transaction sees one
        consistent snapshot.
        """

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query in its own read transaction."""
        with self.transaction(write=False) as transaction:
            rows: list[Row] = transaction.query(sql, params)
            return rows

    @abstractmethod
    def purge_deleted(self) -> None:
        """Make deleted rows unrecoverable from the store's files (after an erasure).

        For example, checkpoint and truncate a write-ahead log holding old pages.
        """

    @abstractmethod
    def close(self) -> None:
        """Release the store's connections."""


class _SQLiteTransaction(StoreTransaction):
    def __init__(self, connection: sqlite3.Connection, location: str) -> None:
        self._connection = connection
        self._location = location

    def _failed(self, error: sqlite3.Error) -> ProjectionError:
        return ProjectionError(f"a read-model statement failed at {self._location}: {error}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._connection.execute(sql, params)
        except sqlite3.Error as error:
            raise self._failed(error) from error

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._connection.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self._failed(error) from error

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._connection.execute(sql, params).fetchall()
        except sqlite3.Error as error:
            raise self._failed(error) from error


def _prepare_connection(connection: sqlite3.Connection, location: str) -> None:
    # Deleted rows are overwritten, so an erased client's text does not linger in free pages.
    connection.execute("PRAGMA secure_delete=ON")
    if location != MEMORY:
        connection.execute("PRAGMA journal_mode=WAL")


class SQLiteReadModelStore(ReadModelStore):
    """Read models in a SQLite database: the events' file, or memory for an in-memory app.

    Safe to share between threads: every transaction runs on a connection of
    its own, borrowed from a :class:`~goalpath.core.storage.sqlite_pool.SQLiteConnectionPool`
    (for a file, one connection per concurrent transaction; for memory, the
    one connection, lent to one transaction at a time). Connections are in
    autocommit mode and open transactions explicitly (``BEGIN IMMEDIATE``
    for writes), so SQLite's file lock serialises writers across threads and
    processes.
    """

    def __init__(self, location: str, *, lock_timeout_seconds: float = 10) -> None:
        self.location = location
        self._pool = SQLiteConnectionPool(
            location,
            timeout_seconds=lock_timeout_seconds,
            setup=lambda connection: _prepare_connection(connection, location),
            error=ProjectionError,
        )

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTransaction]:
        """Open a transaction (``BEGIN IMMEDIATE`` to write); commit on success, else roll back."""
        with self._pool.connection() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.OperationalError as error:
                raise ProjectionError(
                    f"the read models at {self.location} are locked by another writer: {error}; "
                    "try again when it has finished"
                ) from error
            try:
                yield _SQLiteTransaction(connection, self.location)
            except BaseException:
                _roll_back(connection)
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                _roll_back(connection)
                raise ProjectionError(f"the read models could not be saved: {error}") from error

    def purge_deleted(self) -> None:
        """Checkpoint and truncate the write-ahead log, which still holds the old pages.

        A reader holding an old snapshot can keep the log from being
        truncated: that is reported (ErasureIncompleteError), never passed
        over; ``goalpath audit purge`` completes it once the reader is gone.
        """
        if self.location != MEMORY:
            with self._pool.connection() as connection:
                truncate_write_ahead_log(connection, self.location)

    def close(self) -> None:
        """Close the store's connections (one still in use closes when its transaction ends)."""
        self._pool.close()


def _roll_back(connection: sqlite3.Connection) -> None:
    # SQLite ends some failed transactions itself (a full disk, an I/O error): nothing to undo.
    if connection.in_transaction:
        with suppress(sqlite3.Error):  # the pool closes a connection left in a transaction
            connection.execute("ROLLBACK")
