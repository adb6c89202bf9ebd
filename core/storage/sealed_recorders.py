"""Recorders that also keep each stream's sealed head, in the same transaction as its events.

A chain of keyed hashes links every event to the one before it, but nothing
in a chain says where it ends: deleting a stream's newest events would leave
a shorter chain that still verifies. So, whenever events are written, the
same transaction also records:

- the stream's head: its last version and that event's chain hash, with a
  keyed hash over both (``goalpath_stream_heads``);
- the store's seal: how many records it holds and its last position, with a
  keyed hash (``goalpath_seal``).

``audit verify`` compares both with the records it finds. Someone who can
write the database but does not hold the master key cannot shorten a stream,
or remove a record, without the heads or the seal giving it away, unless
they put back older copies of these rows too (a rollback, as from a backup):
that only a figure kept outside the database can show (``audit verify
--at-least``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

import attrs
import psycopg
from eventsourcing.persistence import (
    AggregateRecorder,
    ApplicationRecorder,
    OperationalError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Connection, Cursor
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Identifier
from psycopg.types.composite import register_composite

from goalpath.core.storage.idempotency_records import (
    IDEMPOTENCY_TABLE,
    POSTGRES_CREATE,
    SQLITE_CREATE,
    KeyRecord,
    insert_postgres,
    insert_sqlite,
    select_postgres,
    select_sqlite,
)
from goalpath.core.storage.mapper import CHAIN

__all__ = [
    "HEADS_TABLE",
    "SEAL_TABLE",
    "SealedPostgresApplicationRecorder",
    "SealedRow",
    "SealedSQLiteApplicationRecorder",
    "SealedSnapshots",
    "SealedState",
    "StoreSeal",
    "StreamHead",
    "head_mac",
    "insert_sealed",
    "seal_mac",
]

HEADS_TABLE: Final = "goalpath_stream_heads"
SEAL_TABLE: Final = "goalpath_seal"

SealedRow = tuple[UUID | str, int, str, bytes]
"""One sealed record: stream id, version, topic and sealed state."""


@attrs.frozen
class StreamHead:
    """The sealed end of one stream: its last version and that event's chain hash."""

    stream_id: str
    version: int
    chain: bytes
    mac: bytes


@attrs.frozen
class StoreSeal:
    """The sealed size of the store: how many records, up to which position."""

    records: int
    last_position: int
    mac: bytes


@attrs.frozen
class SealedState:
    """The heads, the seal and the last position of a store, as one snapshot saw them."""

    heads: dict[str, StreamHead]
    seal: StoreSeal | None
    last_position: int


def head_mac(key: bytes, stream_id: str, version: int, chain: bytes) -> bytes:
    """The keyed hash of a stream head."""
    message = b"head|" + stream_id.encode() + b"|" + str(version).encode() + b"|" + chain
    return hmac.digest(key, message, hashlib.sha256)


def seal_mac(key: bytes, records: int, last_position: int) -> bytes:
    """The keyed hash of the store's seal."""
    return hmac.digest(key, f"seal|{records}|{last_position}".encode(), hashlib.sha256)


def _stream_name(originator_id: object) -> str:
    return str(originator_id)


def _heads_of(stored_events: Sequence[StoredEvent]) -> dict[str, tuple[int, bytes]]:
    heads: dict[str, tuple[int, bytes]] = {}
    for stored in stored_events:
        name = _stream_name(stored.originator_id)
        _keep_head(heads, name, stored.originator_version, stored.state)
    return heads


def _keep_head(heads: dict[str, tuple[int, bytes]], name: str, version: int, state: bytes) -> None:
    """Keep ``version`` as the stream's head unless a later one of it is kept already."""
    known = heads.get(name)
    if known is None or version > known[0]:
        heads[name] = (version, bytes(state[CHAIN]))


class _Sealing:
    """What both recorders share: the seal key, set by the application after construction."""

    seal_key: bytes | None = None

    def _key(self) -> bytes:
        if self.seal_key is None:  # pragma: no cover - the application always sets it
            msg = "the recorder's seal key is not set"
            raise RuntimeError(msg)
        return self.seal_key


class SealedSQLiteApplicationRecorder(SQLiteApplicationRecorder, _Sealing):
    """The library's SQLite recorder, also keeping stream heads and the store's seal."""

    def construct_create_table_statements(self) -> list[str]:
        """Add the heads and seal tables to the library's tables."""
        return [
            *super().construct_create_table_statements(),
            (
                f"CREATE TABLE IF NOT EXISTS {HEADS_TABLE} (stream_id TEXT PRIMARY KEY, "
                "version INTEGER NOT NULL, chain BLOB NOT NULL, mac BLOB NOT NULL)"
            ),
            (
                f"CREATE TABLE IF NOT EXISTS {SEAL_TABLE} (id INTEGER PRIMARY KEY "
                "CHECK (id = 1), records INTEGER NOT NULL, last_position INTEGER NOT NULL, "
                "mac BLOB NOT NULL)"
            ),
            SQLITE_CREATE,
        ]

    def insert_sealed_rows(
        self, rows: Sequence[SealedRow], snapshots: SealedSnapshots | None = None
    ) -> Exception | None:
        """Insert sealed rows, their streams' heads and the store's seal in one transaction.

        ``rows`` are ``(stream id, version, topic, sealed state)`` as
        :meth:`~goalpath.core.storage.mapper.GoalpathMapper.seal_rows` gives
        them: the same records as :meth:`insert_events` of their
        ``StoredEvent``, without building one object per row. ``snapshots``
        go in the same transaction, after the events, in a savepoint: an
        error inserting them is rolled back to it and returned, and the
        events are committed all the same (see :func:`insert_sealed`).
        """
        within = None
        if snapshots and snapshots.rows and isinstance(snapshots.recorder, SQLiteAggregateRecorder):
            within = snapshots.recorder
        failure = None
        with self.datastore.transaction(commit=True) as c:
            self._insert_rows(c, rows)
            if within is not None and snapshots is not None:
                c.execute("SAVEPOINT goalpath_snapshots")
                try:
                    # The snapshot recorder's own insert, inside this transaction.
                    within._insert_events(c, _stored_events(snapshots.rows))
                except Exception as error:  # whatever kept them out, the events go in
                    c.execute("ROLLBACK TO goalpath_snapshots")
                    failure = error
                c.execute("RELEASE goalpath_snapshots")
        if snapshots and within is None:
            return _insert_apart(snapshots)
        return failure

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        insert_sqlite(c, kwargs)  # the write's idempotency keys, in its transaction
        if not stored_events:
            return super()._insert_events(c, stored_events, **kwargs)
        return self._insert_rows(
            c, [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events]
        )

    def _insert_rows(self, c: SQLiteCursor, rows: Sequence[SealedRow]) -> Sequence[int]:
        if not rows:
            return []
        # One executemany instead of the library's one INSERT per row. This runs inside
        # the write transaction, so SQLite gives the new rows consecutive rowids after
        # the largest one (the events table has no AUTOINCREMENT and rowids never near
        # their maximum).
        params: list[tuple[str, int, str, bytes]] = []
        heads: dict[str, tuple[int, bytes]] = {}
        last_stream: object = None
        name = ""
        top = -1
        top_state = b""
        for stream, version, topic, state in rows:
            if stream is not last_stream:  # a run of one stream's rows: its names once
                if last_stream is not None:
                    _keep_head(heads, _stream_name(last_stream), top, top_state)
                last_stream = stream
                name = stream.hex if isinstance(stream, UUID) else str(stream)
                top = -1
            if version > top:
                top, top_state = version, state
            params.append((name, version, topic, state))
        _keep_head(heads, _stream_name(last_stream), top, top_state)
        c.executemany(self.insert_events_statement, params)
        c.execute("SELECT last_insert_rowid()")
        last = int(c.fetchone()[0])
        key = self._key()
        for head_name, (version, chain) in heads.items():
            c.execute(
                f"INSERT INTO {HEADS_TABLE} (stream_id, version, chain, mac) "  # noqa: S608
                "VALUES (?, ?, ?, ?) ON CONFLICT (stream_id) DO UPDATE SET "
                "version = excluded.version, chain = excluded.chain, mac = excluded.mac",
                (head_name, version, chain, head_mac(key, head_name, version, chain)),
            )
        c.execute(f"SELECT records FROM {SEAL_TABLE} WHERE id = 1")  # noqa: S608
        row = c.fetchone()
        records = (row[0] if row else 0) + len(rows)
        c.execute(
            f"INSERT INTO {SEAL_TABLE} (id, records, last_position, mac) VALUES (1, ?, ?, ?) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET records = excluded.records, "
            "last_position = excluded.last_position, mac = excluded.mac",
            (records, last, seal_mac(key, records, last)),
        )
        return range(last - len(rows) + 1, last + 1)

    def read_sealed_state(self) -> SealedState:
        """Every stream head, the seal and the last position, from one snapshot of the store."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT stream_id, version, chain, mac FROM {HEADS_TABLE}")  # noqa: S608
            heads = {
                row[0]: StreamHead(row[0], row[1], bytes(row[2]), bytes(row[3]))
                for row in c.fetchall()
            }
            c.execute(f"SELECT records, last_position, mac FROM {SEAL_TABLE} WHERE id = 1")  # noqa: S608
            row = c.fetchone()
            seal = None if row is None else StoreSeal(row[0], row[1], bytes(row[2]))
            c.execute(self.select_max_notification_id_statement)
            last = c.fetchone()[0]
        return SealedState(heads, seal, int(last or 0))

    def read_heads(self) -> dict[str, StreamHead]:
        """Every stream head, by stream id."""
        return self.read_sealed_state().heads

    def read_seal(self) -> StoreSeal | None:
        """The store's seal, if anything was ever written."""
        return self.read_sealed_state().seal

    def select_key_record(self, key: bytes) -> KeyRecord | None:
        """The record of idempotency ``key``, or ``None`` when no committed write holds it."""
        return select_sqlite(self.datastore, key)


class SealedPostgresApplicationRecorder(PostgresApplicationRecorder, _Sealing):
    """The library's PostgreSQL recorder, also keeping stream heads and the store's seal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        self._heads = Identifier(schema, HEADS_TABLE)
        self._seal = Identifier(schema, SEAL_TABLE)
        self._keys = Identifier(schema, IDEMPOTENCY_TABLE)
        self.sql_create_statements.extend(
            [
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (stream_id text PRIMARY KEY, "
                    "version bigint NOT NULL, chain bytea NOT NULL, mac bytea NOT NULL)"
                ).format(self._heads),
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY CHECK (id = 1), "
                    "records bigint NOT NULL, last_position bigint NOT NULL, mac bytea NOT NULL)"
                ).format(self._seal),
                SQL(POSTGRES_CREATE).format(self._keys),
            ]
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events, heads and seal in one transaction that any error rolls back.

        The library's version keeps an exception raised after the insert until
        its transaction has committed; here it is raised inside the
        transaction, so events are never stored without their heads and seal.
        """
        notification_ids: Sequence[int] | None = None
        failure: Exception | None = None
        with self.datastore.get_connection() as conn, conn.transaction():
            with conn.pipeline() as pipeline:
                try:
                    with conn.cursor() as curs:
                        self._insert_events(curs, stored_events, **kwargs)
                        if not stored_events:
                            insert_postgres(curs, self._keys, kwargs)
                    if stored_events:
                        with conn.cursor() as curs:
                            self._insert_stored_events(curs, stored_events, **kwargs)
                            pipeline.sync()
                            notification_ids = self._fetch_ids_after_insert_events(
                                curs, stored_events, **kwargs
                            )
                except Exception as error:  # re-raised below, inside the transaction
                    failure = error
            if failure is not None:
                raise failure
        return notification_ids

    def insert_sealed_rows(self, rows: Sequence[SealedRow]) -> Sequence[int] | None:
        """Insert sealed rows (see the SQLite recorder's) through :meth:`insert_events`."""
        return self.insert_events(_stored_events(rows))

    def insert_events_within(
        self, connection: Connection[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Insert events, heads and seal through a host's connection, inside its transaction.

        The rows go in a savepoint of the host's open transaction: an error
        rolls back to it and is raised, and nothing is committed here; the
        host's commit or rollback decides. The events table stays locked
        (as for every insert) until the host's transaction ends.
        """
        for info in self.datastore.psycopg_type_adapters.values():
            if not connection.adapters.types.get(info.oid):
                register_composite(info, connection)
        try:
            with connection.transaction(), connection.cursor(row_factory=dict_row) as curs:
                self._insert_events(curs, stored_events, **kwargs)
                if not stored_events:
                    insert_postgres(curs, self._keys, kwargs)
                    return None
                self._insert_stored_events(curs, stored_events, **kwargs)
                return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        except psycopg.errors.UniqueViolation as error:  # as the library's own insert says it
            raise RecordConflictError(str(error)) from error
        except psycopg.Error as error:
            raise OperationalError(str(error)) from error

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        if not stored_events or not positions:
            return positions
        insert_postgres(curs, self._keys, kwargs)
        key = self._key()
        # The events table is locked in exclusive mode by the insert: writers are serial here.
        for name, (version, chain) in _heads_of(stored_events).items():
            curs.execute(
                SQL(
                    "INSERT INTO {} (stream_id, version, chain, mac) VALUES (%s, %s, %s, %s) "
                    "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
                    "chain = excluded.chain, mac = excluded.mac"
                ).format(self._heads),
                (name, version, chain, head_mac(key, name, version, chain)),
            )
        curs.execute(SQL("SELECT records FROM {} WHERE id = 1").format(self._seal))
        row = curs.fetchone()
        records = (int(row["records"]) if row else 0) + len(stored_events)
        last_position = max(positions)
        curs.execute(
            SQL(
                "INSERT INTO {} (id, records, last_position, mac) VALUES (1, %s, %s, %s) "
                "ON CONFLICT (id) DO UPDATE SET records = excluded.records, "
                "last_position = excluded.last_position, mac = excluded.mac"
            ).format(self._seal),
            (records, last_position, seal_mac(key, records, last_position)),
        )
        return positions

    def select_key_record(self, key: bytes) -> KeyRecord | None:
        """The record of idempotency ``key``, or ``None`` when no committed write holds it."""
        return select_postgres(self.datastore, self._keys, key)

    def read_sealed_state(self) -> SealedState:
        """Every stream head, the seal and the last position, from one snapshot of the store."""
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            curs.execute(SQL("SELECT stream_id, version, chain, mac FROM {}").format(self._heads))
            heads = {
                row["stream_id"]: StreamHead(
                    row["stream_id"], int(row["version"]), bytes(row["chain"]), bytes(row["mac"])
                )
                for row in curs.fetchall()
            }
            curs.execute(
                SQL("SELECT records, last_position, mac FROM {} WHERE id = 1").format(self._seal)
            )
            row = curs.fetchone()
            seal = (
                None
                if row is None
                else StoreSeal(int(row["records"]), int(row["last_position"]), bytes(row["mac"]))
            )
            curs.execute(self.max_notification_id_statement)
            last = curs.fetchone()
        position = next(iter(last.values())) if last else None
        return SealedState(heads, seal, int(position or 0))

    def read_heads(self) -> dict[str, StreamHead]:
        """Every stream head, by stream id."""
        return self.read_sealed_state().heads

    def read_seal(self) -> StoreSeal | None:
        """The store's seal, if anything was ever written."""
        return self.read_sealed_state().seal


def _stored_events(rows: Sequence[SealedRow]) -> list[StoredEvent]:
    return [
        StoredEvent(originator_id=stream, originator_version=version, topic=topic, state=state)
        for stream, version, topic, state in rows
    ]


@attrs.frozen
class SealedSnapshots:
    """Sealed snapshot rows, and the recorder of the store's snapshots they go to."""

    recorder: AggregateRecorder
    rows: Sequence[SealedRow]


def insert_sealed(
    recorder: ApplicationRecorder,
    rows: Sequence[SealedRow],
    snapshots: SealedSnapshots | None = None,
) -> Exception | None:
    """Insert sealed rows in one transaction, through any recorder; then snapshots, best effort.

    goalpath's own recorders also seal the streams' heads and the store in
    that transaction; another (the in-memory store's) gets ``StoredEvent``s.
    A failed insert of the events raises, and nothing is stored.
    ``snapshots`` are written once the events are: on SQLite inside the
    same transaction (one commit, the snapshots in a savepoint), elsewhere
    in a transaction of their own. An error writing them is returned, not
    raised: the events are stored whatever became of their snapshots.
    """
    if isinstance(recorder, SealedSQLiteApplicationRecorder):
        return recorder.insert_sealed_rows(rows, snapshots)
    if isinstance(recorder, SealedPostgresApplicationRecorder):
        recorder.insert_sealed_rows(rows)
    else:
        recorder.insert_events(_stored_events(rows))
    return None if snapshots is None else _insert_apart(snapshots)


def _insert_apart(snapshots: SealedSnapshots) -> Exception | None:
    """Insert snapshots in a transaction of their own; return the error that kept them out."""
    if not snapshots.rows:
        return None
    try:
        snapshots.recorder.insert_events(_stored_events(snapshots.rows))
    except Exception as error:  # whatever kept them out, the events are stored
        return error
    return None
