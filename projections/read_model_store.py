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
from contextlib import contextmanager
from typing import Any, Final

from goalpath.core.storage.sqlite_files import truncate_write_ahead_log
from goalpath.projections.errors import ProjectionError

__all__ = ["MEMORY", "ReadModelStore", "SQLiteReadModelStore", "StoreTransaction"]

MEMORY: Final = ":memory:"

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
    """Where read models live: tables and a tracking position, written in transactions."""

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
        """Release the store's connection."""


class _SQLiteTransaction(StoreTransaction):
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._connection.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._connection.executemany(sql, rows)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._connection.execute(sql, params).fetchall()


class SQLiteReadModelStore(ReadModelStore):
    """Read models in a SQLite database: the events' file, or memory for an in-memory app.

    Uses its own connection in autocommit mode and opens transactions
    explicitly (``BEGIN IMMEDIATE`` for writes).
    """

    def __init__(self, location: str, *, lock_timeout_seconds: float = 10) -> None:
        self.location = location
        try:
            self._connection = sqlite3.connect(
                location,
                timeout=lock_timeout_seconds,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise ProjectionError(f"cannot open the read models at {location}: {error}") from error
        # Deleted rows are overwritten, so an erased client's text does not linger in free pages.
        self._connection.execute("PRAGMA secure_delete=ON")
        if location != MEMORY:
            self._connection.execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTransaction]:
        """Open a transaction (``BEGIN IMMEDIATE`` to write); commit on success, else roll back."""
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.OperationalError as error:
            raise ProjectionError(
                f"the read models at {self.location} are locked by another writer: {error}; "
                "try again when it has finished"
            ) from error
        try:
            yield _SQLiteTransaction(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.execute("ROLLBACK")
            raise ProjectionError(f"the read models could not be saved: {error}") from error

    def purge_deleted(self) -> None:
        """Checkpoint and truncate the write-ahead log, which still holds the old pages.

        A reader holding an old snapshot can keep the log from being
        truncated: that is reported (ErasureIncompleteError), never passed
        over; ``goalpath audit purge`` completes it once the reader is gone.
        """
        if self.location != MEMORY:
            truncate_write_ahead_log(self._connection, self.location)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()
