"""The records of idempotency keys, written in the same transaction as the events they answer for.

A command given an idempotency key (or a create given the caller's id)
leaves one :class:`KeyRecord`: which key, which command (a keyed digest of
its name and arguments), who gave it, and the result it returned. The
recorders insert these rows in the transaction that inserts the command's
events (``insert_events(..., idempotency=records)``), so a crash never
leaves events without their key or a key without its events; the key is
the table's primary key, so of two writers racing one key exactly one
stores it, and the other's whole transaction is refused as a conflict.

Neither the key nor the command is stored as given: both are keyed hashes
(HMAC-SHA256 under a key derived from the master key), so the table holds
no health content and no text a host put in its keys; the result is ids
and numbers only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, Protocol

import attrs
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from psycopg.sql import SQL, Identifier

__all__ = [
    "IDEMPOTENCY_TABLE",
    "KEY_RECORDS",
    "KeyRecord",
    "KeyRecorder",
    "MemoryApplicationRecorder",
    "insert_postgres",
    "insert_sqlite",
    "key_records_of",
    "select_postgres",
    "select_sqlite",
]

IDEMPOTENCY_TABLE: Final = "goalpath_idempotency_keys"

KEY_RECORDS: Final = "idempotency"
"""The keyword argument of ``insert_events`` that carries a write's key records."""


@attrs.frozen
class KeyRecord:
    """One idempotency key's record: the key, the command, who gave it, its first result.

    ``key``, ``digest`` and ``principal`` are keyed hashes (32 bytes);
    ``result`` is the command's result as JSON text.
    """

    key: bytes
    digest: bytes
    principal: bytes
    result: str

    def row(self) -> tuple[bytes, bytes, bytes, str]:
        """The record as a row of the keys table."""
        return (self.key, self.digest, self.principal, self.result)


class KeyRecorder(Protocol):
    """A recorder that keeps key records beside its events (every goalpath recorder)."""

    def select_key_record(self, key: bytes) -> KeyRecord | None:
        """The record of ``key``, or ``None`` when no committed write holds it."""


def key_records_of(kwargs: dict[str, Any]) -> list[KeyRecord]:
    """The key records an ``insert_events`` call carries, in a fixed order (by key)."""
    records: Iterable[KeyRecord] = kwargs.get(KEY_RECORDS) or ()
    return sorted(records, key=lambda record: record.key)


SQLITE_CREATE: Final = (
    f"CREATE TABLE IF NOT EXISTS {IDEMPOTENCY_TABLE} (key BLOB PRIMARY KEY, "
    "digest BLOB NOT NULL, principal BLOB NOT NULL, result TEXT NOT NULL)"
)
SQLITE_INSERT: Final = (
    f"INSERT INTO {IDEMPOTENCY_TABLE} (key, digest, principal, result) VALUES (?, ?, ?, ?)"  # noqa: S608
)
SQLITE_SELECT: Final = (
    f"SELECT key, digest, principal, result FROM {IDEMPOTENCY_TABLE} WHERE key = ?"  # noqa: S608
)

POSTGRES_CREATE: Final = (
    "CREATE TABLE IF NOT EXISTS {} (key bytea PRIMARY KEY, digest bytea NOT NULL, "
    "principal bytea NOT NULL, result text NOT NULL)"
)
POSTGRES_INSERT: Final = "INSERT INTO {} (key, digest, principal, result) VALUES (%s, %s, %s, %s)"
POSTGRES_SELECT: Final = "SELECT key, digest, principal, result FROM {} WHERE key = %s"


def record_of(row: Sequence[Any] | None) -> KeyRecord | None:
    """A row of the keys table (key, digest, principal, result) as a record."""
    if row is None:
        return None
    return KeyRecord(bytes(row[0]), bytes(row[1]), bytes(row[2]), str(row[3]))


def insert_sqlite(cursor: Any, kwargs: dict[str, Any]) -> None:
    """Insert a SQLite write's key records (``kwargs`` of ``insert_events``) in its transaction."""
    records = key_records_of(kwargs)
    if records:
        cursor.executemany(SQLITE_INSERT, [record.row() for record in records])


def select_sqlite(datastore: Any, key: bytes) -> KeyRecord | None:
    """The committed record of ``key`` in a SQLite store, or ``None``."""
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(SQLITE_SELECT, (key,))
        return record_of(cursor.fetchone())


def insert_postgres(cursor: Any, table: Identifier, kwargs: dict[str, Any]) -> None:
    """Insert a PostgreSQL write's key records (after the events table's lock, if it has events).

    A writer of events takes that lock before its keys, and every writer inserts
    its keys in one order, so two writers of keys never wait on each other in a
    cycle; a key already recorded refuses the whole write.
    """
    records = key_records_of(kwargs)
    if records:
        cursor.executemany(SQL(POSTGRES_INSERT).format(table), [record.row() for record in records])


def select_postgres(datastore: Any, table: Identifier, key: bytes) -> KeyRecord | None:
    """The committed record of ``key`` in a PostgreSQL store, or ``None``."""
    with datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(SQL(POSTGRES_SELECT).format(table), (key,))
        row = cursor.fetchone()
    return None if row is None else record_of(list(row.values()))


class MemoryApplicationRecorder(POPOApplicationRecorder):
    """The library's in-memory recorder, also keeping key records with the events, atomically."""

    def __init__(self) -> None:
        super().__init__()
        self._key_records: dict[bytes, KeyRecord] = {}

    def _assert_uniqueness(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        super()._assert_uniqueness(stored_events, **kwargs)
        records = key_records_of(kwargs)
        keys = {record.key for record in records}
        if len(keys) < len(records) or keys & self._key_records.keys():
            msg = "idempotency key already recorded"
            raise IntegrityError(msg)

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._update_table(stored_events, **kwargs)
        for record in key_records_of(kwargs):
            self._key_records[record.key] = record
        return positions

    def select_key_record(self, key: bytes) -> KeyRecord | None:
        """The record of ``key``, or ``None``."""
        with self._database_lock:
            return self._key_records.get(key)
