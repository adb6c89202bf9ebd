"""Keys: the master key from configuration, and per-client keys stored wrapped by it.

One master key (32 random bytes) is configured per store. From it, HKDF
derives three independent keys: one to wrap (encrypt) client keys, one to
compute the tamper-evident hash chain, and one to turn a client id into an
opaque lookup value, so the key table never holds a client id in clear.

Client keys are random AES-256 keys, one per client, stored wrapped. Erasing
a client destroys its key (crypto-shredding): what was encrypted under it
can no longer be read by anyone.

Beside the key table, two small tables keep it honest:

- a key-check value (``goalpath_key_check``), a keyed hash of a constant
  under the master key: a store opened with another master key refuses
  every read and write of a client key, so nothing is ever written under
  the wrong key. An old store gets its value on first open, once a stored
  client key has been seen to open with the configured master key;
- a keyed hash of every key row (``goalpath_key_seals``) over its key id,
  its client lookup value and whether (and when) it was destroyed, written
  in the same transaction as the row: a swapped lookup, a key destroyed or
  put back behind goalpath's back, shows in ``audit verify``.

This module is over 500 lines because it holds one concept, the store's
keys: the rules (wrapping, lookups, erasure, the key check and the row
seals) are written once in :class:`ClientKeyStore`, and each of the three
stores beside it is only its database's statements for them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID, uuid4

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from goalpath.core.errors import ClientErasedError, StoreError, TamperedError
from goalpath.core.storage.failures import DRIVER_ERRORS
from goalpath.core.storage.sqlite_files import ErasureIncompleteError, truncate_write_ahead_log
from goalpath.core.storage.sqlite_pool import SQLiteConnectionPool

__all__ = [
    "KEY_CHECK_TABLE",
    "KEY_ENV",
    "KEY_FILE_ENV",
    "KEY_SEALS_TABLE",
    "PRODUCTION_ENV",
    "SYSTEM_KEY_ID",
    "ClientKeyRecord",
    "ClientKeyStore",
    "KeyConfigurationError",
    "MasterKey",
    "MemoryClientKeyStore",
    "PostgresClientKeyStore",
    "SQLiteClientKeyStore",
    "StoredKeyRow",
    "default_key_file",
    "resolve_master_key",
    "write_key_file",
]

KEY_ENV: Final = "GOALPATH_KEY"
"""Environment variable holding the master key, base64 (44 characters)."""

KEY_FILE_ENV: Final = "GOALPATH_KEY_FILE"
"""Environment variable naming a file that holds the master key, base64."""

PRODUCTION_ENV: Final = "GOALPATH_ENV"
"""Set to ``production`` to require an explicitly configured key."""

SYSTEM_KEY_ID: Final = UUID(int=0)
"""Key id of goalpath's own records (erasure records): encrypted under a key
derived from the master key, so they stay readable after any client's erasure."""

MASTER_KEY_BYTES: Final = 32

MAX_CACHED_KEYS: Final = 10_000
"""Unwrapped client keys kept in memory at most (then the cache starts again)."""

KEY_CHECK_TABLE: Final = "goalpath_key_check"
"""The table holding the store's key-check value (one row)."""

KEY_SEALS_TABLE: Final = "goalpath_key_seals"
"""The table holding a keyed hash of every key row, by key id."""

_KEY_CHECK_MESSAGE: Final = b"goalpath key check v1"


class KeyConfigurationError(StoreError):
    """The master key is missing, unreadable or malformed."""


@attrs.frozen(repr=False)
class MasterKey:
    """The store's master key and the keys derived from it."""

    secret: bytes = attrs.field(repr=False)

    def __attrs_post_init__(self) -> None:
        if len(self.secret) != MASTER_KEY_BYTES:
            raise KeyConfigurationError(
                f"a goalpath master key is {MASTER_KEY_BYTES} bytes (44 characters of base64); "
                f"got {len(self.secret)} bytes"
            )

    def __repr__(self) -> str:
        return "MasterKey(<secret>)"

    @classmethod
    def generate(cls) -> MasterKey:
        """A new random master key."""
        return cls(secrets.token_bytes(MASTER_KEY_BYTES))

    @classmethod
    def from_text(cls, text: str, source: str) -> MasterKey:
        """Read a base64 master key; ``source`` names where it came from, for errors."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except ValueError:
            raise KeyConfigurationError(f"the goalpath key in {source} is not base64") from None
        try:
            return cls(secret)
        except KeyConfigurationError as error:
            raise KeyConfigurationError(f"the goalpath key in {source}: {error}") from None

    def to_text(self) -> str:
        """The key as base64 text, as written to a key file."""
        return base64.b64encode(self.secret).decode("ascii")

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived with HKDF-SHA256."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=f"goalpath:{purpose}".encode()
        ).derive(self.secret)


def write_key_file(path: Path, key: MasterKey) -> None:
    """Write a key file readable by its owner only; never overwrite an existing one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(key.to_text() + "\n")


def default_key_file(store_location: str) -> Path:
    """The key file that sits beside a SQLite store when no other is configured."""
    return Path(f"{store_location}.key")


def resolve_master_key(
    store_location: str, environ: dict[str, str] | None = None, *, key_file_allowed: bool = True
) -> MasterKey:
    """Find the master key of a store, from configuration.

    In order: ``GOALPATH_KEY`` (base64), the file named by
    ``GOALPATH_KEY_FILE``, else (not in production) the file ``<store>.key``
    beside a SQLite store, created with the store on first use. With
    ``GOALPATH_ENV=production``, or for a database server store
    (``key_file_allowed`` false), the key must be configured explicitly: a
    missing key is an error at start-up, never a silent default.
    """
    env = dict(os.environ) if environ is None else environ
    if env.get(KEY_ENV):
        return MasterKey.from_text(env[KEY_ENV], KEY_ENV)
    if env.get(KEY_FILE_ENV):
        return _read_key_file(Path(env[KEY_FILE_ENV]))
    production = env.get(PRODUCTION_ENV, "").lower() == "production"
    if production:
        raise KeyConfigurationError(
            f"{PRODUCTION_ENV}=production needs a configured master key: set {KEY_ENV} "
            f"(base64 of 32 random bytes) or {KEY_FILE_ENV} (a file holding it)"
        )
    if store_location == ":memory:":
        return MasterKey.generate()
    if not key_file_allowed:
        raise KeyConfigurationError(
            f"a database server store needs a configured master key: set {KEY_ENV} "
            f"(base64 of 32 random bytes) or {KEY_FILE_ENV} (a file holding it)"
        )
    key_file = default_key_file(store_location)
    if key_file.exists():
        return _read_key_file(key_file)
    if Path(store_location).exists() and Path(store_location).stat().st_size > 0:
        raise KeyConfigurationError(
            f"the store {store_location} exists but its key file {key_file} is missing; "
            f"without the key its records cannot be read. Set {KEY_FILE_ENV} to the key file."
        )
    key = MasterKey.generate()
    write_key_file(key_file, key)
    return key


def _read_key_file(path: Path) -> MasterKey:
    try:
        text = path.read_text(encoding="ascii")
    except OSError as error:
        raise KeyConfigurationError(f"cannot read the goalpath key file {path}: {error}") from None
    return MasterKey.from_text(text, str(path))


@attrs.frozen
class ClientKeyRecord:
    """What the key store knows of one client key."""

    key_id: UUID
    erased_on: str | None


@attrs.frozen
class StoredKeyRow:
    """One row of the key table as stored, with its keyed hash, for verification."""

    key_id: UUID
    client_ref: bytes
    destroyed: bool
    erased_on: str | None
    seal: bytes | None


class ClientKeyStore(ABC):
    """Per-client keys, stored wrapped by the master key."""

    def __init__(self, master: MasterKey) -> None:
        self._wrapping = AESGCM(master.derive("wrap-client-keys"))
        self._lookup_key = master.derive("client-lookup")
        self._system_key = master.derive("system-records")
        self._key_check = hmac.digest(master.derive("key-check"), _KEY_CHECK_MESSAGE, "sha256")
        self._row_seal_key = master.derive("key-row-seal")
        self._cache: dict[UUID, bytes] = {}
        self._lock = threading.Lock()
        self.master_key_problem: str | None = None
        """Why the configured master key is not this store's, or ``None`` if it is."""

    # -- the key-check value and the key rows' seals ---------------------------------------

    def row_seal(self, key_id: UUID, client_ref: bytes, erased_on: str | None) -> bytes:
        """The keyed hash of one key row: its id, its lookup value, whether it was destroyed."""
        state = b"live" if erased_on is None else b"erased|" + erased_on.encode()
        message = b"key-row|" + key_id.bytes + b"|" + client_ref + b"|" + state
        return hmac.digest(self._row_seal_key, message, "sha256")

    def _check_master_key(self) -> None:
        """Compare the master key with the store's key-check value; record one if there is none.

        Implementations call this at the end of their constructor. A mismatch
        writes nothing and sets :attr:`master_key_problem`, so that every use
        of a key is refused (the application still opens, and says why).
        """
        stored = self._stored_key_check()
        if stored is None:
            sample = self._any_wrapped_key()
            if sample is not None:
                try:
                    self._unwrap(*sample)
                except KeyConfigurationError:
                    self.master_key_problem = _WRONG_MASTER_KEY
                    return
            self._record_key_check(self._key_check)
            stored = self._stored_key_check()
        if stored is not None and not hmac.compare_digest(stored, self._key_check):
            self.master_key_problem = _WRONG_MASTER_KEY

    def _refuse_wrong_master_key(self) -> None:
        if self.master_key_problem is not None:
            raise KeyConfigurationError(self.master_key_problem)

    def _stored_key_check(self) -> bytes | None:
        """The stored key-check value; a store that keeps none returns ``None`` always."""
        return None

    def _record_key_check(self, value: bytes) -> None:  # noqa: B027  # optional: see above
        """Store the key-check value if none is stored; seal every key row if none is sealed.

        Rows are sealed here only in a store that has no seal at all (written
        before seals existed): where seals exist, a missing one was deleted.
        """

    def _any_wrapped_key(self) -> tuple[UUID, bytes] | None:
        """One stored key that was not destroyed, to try the master key on."""
        return None

    def _check_row_seal(self, key_id: UUID, ref: bytes) -> None:
        rows = self.stored_rows()
        if rows is None:
            return
        row = next((row for row in rows if row.key_id == key_id), None)
        expected = self.row_seal(key_id, ref, None)
        if row is None or row.seal is None or not hmac.compare_digest(row.seal, expected):
            raise TamperedError(
                f"the key row of key {key_id} was changed outside goalpath (its client lookup "
                "or its state): erasing through it could destroy another client's key, so "
                "nothing was destroyed. Run `goalpath audit verify` to see what changed"
            )

    def stored_rows(self) -> list[StoredKeyRow] | None:
        """Every key row with its seal, for ``audit verify``.

        ``None`` if the store keeps no seals (another implementation's).
        """
        return None

    def client_ref(self, client_id: str) -> bytes:
        """The opaque lookup value of a client id (a keyed hash)."""
        return hmac.new(self._lookup_key, client_id.encode(), hashlib.sha256).digest()

    def _wrap(self, key_id: UUID, key: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._wrapping.encrypt(nonce, key, key_id.bytes)

    def _unwrap(self, key_id: UUID, wrapped: bytes) -> bytes:
        try:
            return self._wrapping.decrypt(wrapped[:12], wrapped[12:], key_id.bytes)
        except InvalidTag:
            raise KeyConfigurationError(
                f"client key {key_id} does not open with this master key: the wrong key file "
                "is configured, or the key table was altered"
            ) from None

    def key_for_client(self, client_id: str) -> UUID:
        """The key id of a client, creating and committing a key on first use.

        The key is committed before any record encrypted under it is written.
        """
        self._refuse_wrong_master_key()
        ref = self.client_ref(client_id)
        record = self._find(ref)
        if record is not None:
            if record.erased_on is not None:
                raise ClientErasedError(
                    f"client {client_id} was erased on {record.erased_on}; "
                    "no new records can be stored for them"
                )
            return record.key_id
        key_id = uuid4()
        self._insert(key_id, ref, self._wrap(key_id, secrets.token_bytes(32)))
        found = self._find(ref)
        if found is None:  # pragma: no cover - the insert above or a racing one committed
            raise StoreError("a new client key could not be stored")
        return found.key_id

    def key(self, key_id: UUID) -> bytes:
        """The key with the given id; raises ClientErasedError if it was destroyed."""
        self._refuse_wrong_master_key()
        if key_id == SYSTEM_KEY_ID:
            return self._system_key
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        wrapped, erased_on = self._load(key_id)
        if wrapped is None:
            if erased_on:
                raise _erased(erased_on)
            raise ClientErasedError(f"no client key {key_id} exists in this store")
        key = self._unwrap(key_id, wrapped)
        with self._lock:
            if len(self._cache) >= MAX_CACHED_KEYS:
                self._cache.clear()
            self._cache[key_id] = key
        return key

    def lookup(self, client_id: str) -> ClientKeyRecord | None:
        """The key record of a client, or ``None`` if goalpath never stored data for them."""
        return self._find(self.client_ref(client_id))

    def erase(self, client_id: str) -> UUID:
        """Destroy a client's key; return its id. Erasing twice is refused.

        A key row whose keyed hash does not match (its lookup swapped with
        another client's, say) is refused too, before anything is destroyed:
        erasing through it could destroy someone else's key.
        """
        try:
            self._refuse_wrong_master_key()
            ref = self.client_ref(client_id)
            record = self._find(ref)
            if record is None:
                raise ClientErasedError(f"goalpath holds no records of client {client_id}")
            if record.erased_on is not None:
                raise ClientErasedError(
                    f"client {client_id} was already erased on {record.erased_on}"
                )
            self._check_row_seal(record.key_id, ref)
            self._destroy(record.key_id, datetime.now(UTC).isoformat(timespec="seconds"))
        except ErasureIncompleteError:
            raise  # the key is destroyed; its own message says how to finish
        except KEY_NOT_DESTROYED as error:
            raise StoreError(
                f"the key of client {client_id} was not destroyed ({error}); erase the client "
                "again to complete it"
            ) from error
        with self._lock:
            self._cache.pop(record.key_id, None)
        return record.key_id

    def check_not_erased(self, key_id: UUID) -> None:
        """Raise ClientErasedError if the key was destroyed (asking the store, not the cache)."""
        if key_id == SYSTEM_KEY_ID:
            return
        wrapped, erased_on = self._load(key_id)
        if wrapped is None and erased_on is not None:
            with self._lock:
                self._cache.pop(key_id, None)
            raise _erased(erased_on)

    def is_erased(self, key_id: UUID) -> bool:
        """Whether the key with this id was destroyed."""
        if key_id == SYSTEM_KEY_ID:
            return False
        wrapped, erased_on = self._load(key_id)
        return wrapped is None and erased_on is not None

    @abstractmethod
    def _find(self, ref: bytes) -> ClientKeyRecord | None: ...

    @abstractmethod
    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None: ...

    @abstractmethod
    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]: ...

    @abstractmethod
    def _destroy(self, key_id: UUID, erased_on: str) -> None: ...

    def close(self) -> None:  # noqa: B027  # optional for stores without resources
        """Release resources."""

    def purge(self) -> None:  # noqa: B027  # only stores that keep files need it
        """Make sure destroyed keys no longer sit in the store's files (SQLite log, dead rows)."""


class MemoryClientKeyStore(ClientKeyStore):
    """Client keys in memory, for the in-memory store."""

    def __init__(self, master: MasterKey) -> None:
        super().__init__(master)
        self._by_ref: dict[bytes, UUID] = {}
        self._rows: dict[UUID, tuple[bytes | None, str | None]] = {}
        self._seals: dict[UUID, bytes] = {}

    def _find(self, ref: bytes) -> ClientKeyRecord | None:
        key_id = self._by_ref.get(ref)
        if key_id is None:
            return None
        return ClientKeyRecord(key_id, self._rows[key_id][1])

    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None:
        with self._lock:
            if ref not in self._by_ref:
                self._by_ref[ref] = key_id
                self._rows[key_id] = (wrapped, None)
                self._seals[key_id] = self.row_seal(key_id, ref, None)

    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]:
        return self._rows.get(key_id, (None, None))

    def _destroy(self, key_id: UUID, erased_on: str) -> None:
        with self._lock:
            self._rows[key_id] = (None, erased_on)
            ref = next(ref for ref, known in self._by_ref.items() if known == key_id)
            self._seals[key_id] = self.row_seal(key_id, ref, erased_on)

    def stored_rows(self) -> list[StoredKeyRow]:
        """Every key row with its seal."""
        with self._lock:
            return [
                StoredKeyRow(
                    key_id,
                    ref,
                    self._rows[key_id][0] is None,
                    self._rows[key_id][1],
                    self._seals.get(key_id),
                )
                for ref, key_id in self._by_ref.items()
            ]


class SQLiteClientKeyStore(ClientKeyStore):
    """Client keys in a table of the SQLite store, beside the events.

    ``secure_delete`` is on, so a destroyed key's bytes are overwritten in
    the file, and the write-ahead log is truncated after an erasure. Every
    statement and transaction borrows a connection of its own from a
    :class:`~goalpath.core.storage.sqlite_pool.SQLiteConnectionPool`: a
    key insert waiting for the file's write lock (held, say, by a read-model
    batch that is decrypting events) never holds up the key lookups of other
    threads, which that batch may be waiting for.
    """

    TABLE: Final = "goalpath_client_keys"

    def __init__(self, master: MasterKey, path: str, timeout_seconds: float = 10.0) -> None:
        super().__init__(master)
        self._path = path
        self._pool = SQLiteConnectionPool(
            path, timeout_seconds=timeout_seconds, setup=_prepare_key_connection, error=StoreError
        )
        with self._pool.connection() as connection:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {self.TABLE} ("
                "key_id TEXT PRIMARY KEY, client_ref BLOB NOT NULL UNIQUE, "
                "wrapped_key BLOB, erased_on TEXT)"
            )
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {KEY_CHECK_TABLE} ("
                "id INTEGER PRIMARY KEY CHECK (id = 1), value BLOB NOT NULL)"
            )
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {KEY_SEALS_TABLE} ("
                "key_id TEXT PRIMARY KEY, mac BLOB NOT NULL)"
            )
        self._check_master_key()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, on a connection of its own (autocommit otherwise)."""
        with self._pool.connection() as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreError(
                    f"the client-key table of {self._path} stayed locked by another writer: "
                    f"{error}; try again when it has finished"
                ) from None
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def _stored_key_check(self) -> bytes | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                f"SELECT value FROM {KEY_CHECK_TABLE} WHERE id = 1"  # noqa: S608
            ).fetchone()
        return None if row is None else bytes(row[0])

    def _any_wrapped_key(self) -> tuple[UUID, bytes] | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                f"SELECT key_id, wrapped_key FROM {self.TABLE} "  # noqa: S608
                "WHERE wrapped_key IS NOT NULL LIMIT 1"
            ).fetchone()
        return None if row is None else (UUID(row[0]), bytes(row[1]))

    def _record_key_check(self, value: bytes) -> None:
        with self._transaction() as connection:
            connection.execute(
                f"INSERT OR IGNORE INTO {KEY_CHECK_TABLE} (id, value) VALUES (1, ?)",  # noqa: S608
                (value,),
            )
            if connection.execute(f"SELECT 1 FROM {KEY_SEALS_TABLE} LIMIT 1").fetchone():  # noqa: S608
                return  # seals exist: a missing one is a deleted one, never made up again
            unsealed = connection.execute(
                f"SELECT key_id, client_ref, erased_on FROM {self.TABLE}"  # noqa: S608
            ).fetchall()
            connection.executemany(
                f"INSERT INTO {KEY_SEALS_TABLE} (key_id, mac) VALUES (?, ?)",  # noqa: S608
                [
                    (key_id, self.row_seal(UUID(key_id), bytes(ref), erased_on))
                    for key_id, ref, erased_on in unsealed
                ],
            )

    def stored_rows(self) -> list[StoredKeyRow]:
        """Every key row with its seal."""
        with self._pool.connection() as connection:
            rows = connection.execute(
                f"SELECT k.key_id, k.client_ref, k.wrapped_key IS NULL, k.erased_on, s.mac "  # noqa: S608
                f"FROM {self.TABLE} k LEFT JOIN {KEY_SEALS_TABLE} s ON s.key_id = k.key_id"
            ).fetchall()
            orphans = connection.execute(
                f"SELECT s.key_id FROM {KEY_SEALS_TABLE} s LEFT JOIN {self.TABLE} k "  # noqa: S608
                "ON k.key_id = s.key_id WHERE k.key_id IS NULL"
            ).fetchall()
        found = [
            StoredKeyRow(
                UUID(key_id),
                bytes(ref),
                bool(destroyed),
                erased_on,
                None if mac is None else bytes(mac),
            )
            for key_id, ref, destroyed, erased_on, mac in rows
        ]
        # A seal whose row is gone: the row was deleted.
        found.extend(
            StoredKeyRow(UUID(key_id), b"", destroyed=True, erased_on=None, seal=None)
            for (key_id,) in orphans
        )
        return found

    def _find(self, ref: bytes) -> ClientKeyRecord | None:
        with self._pool.connection() as connection:
            row = connection.execute(
                f"SELECT key_id, erased_on FROM {self.TABLE} WHERE client_ref = ?",  # noqa: S608
                (ref,),
            ).fetchone()
        return None if row is None else ClientKeyRecord(UUID(row[0]), row[1])

    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None:
        with self._transaction() as connection:
            # A racing writer may have created this client's key: keep theirs.
            inserted = connection.execute(
                f"INSERT OR IGNORE INTO {self.TABLE} (key_id, client_ref, wrapped_key) "  # noqa: S608
                "VALUES (?, ?, ?)",
                (str(key_id), ref, wrapped),
            ).rowcount
            if inserted:
                connection.execute(
                    f"INSERT OR REPLACE INTO {KEY_SEALS_TABLE} (key_id, mac) VALUES (?, ?)",  # noqa: S608
                    (str(key_id), self.row_seal(key_id, ref, None)),
                )

    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]:
        with self._pool.connection() as connection:
            row = connection.execute(
                f"SELECT wrapped_key, erased_on FROM {self.TABLE} WHERE key_id = ?",  # noqa: S608
                (str(key_id),),
            ).fetchone()
        return (None, None) if row is None else (row[0], row[1])

    def _destroy(self, key_id: UUID, erased_on: str) -> None:
        with self._transaction() as connection:
            connection.execute(
                f"UPDATE {self.TABLE} SET wrapped_key = NULL, erased_on = ? "  # noqa: S608
                "WHERE key_id = ?",
                (erased_on, str(key_id)),
            )
            (ref,) = connection.execute(
                f"SELECT client_ref FROM {self.TABLE} WHERE key_id = ?",  # noqa: S608
                (str(key_id),),
            ).fetchone()
            connection.execute(
                f"INSERT OR REPLACE INTO {KEY_SEALS_TABLE} (key_id, mac) VALUES (?, ?)",  # noqa: S608
                (str(key_id), self.row_seal(key_id, bytes(ref), erased_on)),
            )
        self.truncate_log()

    def purge(self) -> None:
        """Empty the write-ahead log, which still holds the pages of destroyed keys."""
        self.truncate_log()

    def truncate_log(self) -> None:
        """Copy the write-ahead log into the database and empty it, so old pages are gone.

        Raises ErasureIncompleteError if another connection keeps old pages alive.
        """
        with self._pool.connection() as connection:
            truncate_write_ahead_log(connection, self._path)

    def close(self) -> None:
        """Close the key table's connections."""
        self._pool.close()


def _prepare_key_connection(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA secure_delete = ON")
    connection.execute("PRAGMA journal_mode = WAL")


class PostgresClientKeyStore(ClientKeyStore):
    """Client keys in a table of the tenant's PostgreSQL schema, beside the events."""

    TABLE: Final = "goalpath_client_keys"

    def __init__(self, master: MasterKey, conninfo: str, schema: str) -> None:
        super().__init__(master)
        from psycopg import sql  # noqa: PLC0415

        self._sql = sql
        self._pool = _key_store_pool(conninfo, schema)
        self._table = sql.Identifier(schema, self.TABLE)
        self._check_table = sql.Identifier(schema, KEY_CHECK_TABLE)
        self._seals = sql.Identifier(schema, KEY_SEALS_TABLE)
        with self._pool.connection() as connection:
            self._create_tables(connection)
        self._check_master_key()

    def _create_tables(self, connection: Any) -> None:
        sql = self._sql
        connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key_id text PRIMARY KEY, "
                "client_ref bytea NOT NULL UNIQUE, wrapped_key bytea, erased_on text)"
            ).format(self._table)
        )
        connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY CHECK (id = 1), "
                "value bytea NOT NULL)"
            ).format(self._check_table)
        )
        connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key_id text PRIMARY KEY, mac bytea NOT NULL)"
            ).format(self._seals)
        )

    def _rows_of(self, text: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Every row of a statement; ``{table}``, ``{check}``, ``{seals}`` name the tables."""
        statement = self._sql.SQL(text).format(
            table=self._table, check=self._check_table, seals=self._seals
        )
        with self._lock, self._pool.connection() as connection:
            rows: list[tuple[Any, ...]] = connection.execute(statement, parameters).fetchall()
            return rows

    def _stored_key_check(self) -> bytes | None:
        rows = self._rows_of("SELECT value FROM {check} WHERE id = 1")
        return bytes(rows[0][0]) if rows else None

    def _any_wrapped_key(self) -> tuple[UUID, bytes] | None:
        rows = self._rows_of(
            "SELECT key_id, wrapped_key FROM {table} WHERE wrapped_key IS NOT NULL LIMIT 1"
        )
        return (UUID(str(rows[0][0])), bytes(rows[0][1])) if rows else None

    def _record_key_check(self, value: bytes) -> None:
        sql = self._sql
        names = {"table": self._table, "check": self._check_table, "seals": self._seals}
        with self._lock, self._pool.connection() as connection, connection.transaction():
            connection.execute(sql.SQL("LOCK TABLE {table} IN EXCLUSIVE MODE").format(**names))
            connection.execute(
                sql.SQL(
                    "INSERT INTO {check} (id, value) VALUES (1, %s) ON CONFLICT (id) DO NOTHING"
                ).format(**names),
                (value,),
            )
            if connection.execute(
                sql.SQL("SELECT 1 FROM {seals} LIMIT 1").format(**names)
            ).fetchone():
                return  # seals exist: a missing one is a deleted one, never made up again
            rows = connection.execute(
                sql.SQL("SELECT key_id, client_ref, erased_on FROM {table}").format(**names)
            ).fetchall()
            for key_id, ref, erased_on in rows:
                connection.execute(
                    sql.SQL("INSERT INTO {seals} (key_id, mac) VALUES (%s, %s)").format(**names),
                    (key_id, self.row_seal(UUID(str(key_id)), bytes(ref), _text(erased_on))),
                )

    def stored_rows(self) -> list[StoredKeyRow]:
        """Every key row with its seal."""
        rows = self._rows_of(
            "SELECT k.key_id, k.client_ref, k.wrapped_key IS NULL, k.erased_on, s.mac "
            "FROM {table} k LEFT JOIN {seals} s ON s.key_id = k.key_id"
        )
        orphans = self._rows_of(
            "SELECT s.key_id FROM {seals} s LEFT JOIN {table} k ON k.key_id = s.key_id "
            "WHERE k.key_id IS NULL"
        )
        found = [
            StoredKeyRow(
                UUID(str(key_id)),
                bytes(ref),
                bool(destroyed),
                _text(erased_on),
                None if mac is None else bytes(mac),
            )
            for key_id, ref, destroyed, erased_on, mac in rows
        ]
        found.extend(
            StoredKeyRow(UUID(str(key_id)), b"", destroyed=True, erased_on=None, seal=None)
            for (key_id,) in orphans
        )
        return found

    def _query(self, text: str, parameters: tuple[object, ...]) -> tuple[object, ...] | None:
        with self._lock, self._pool.connection() as connection:
            cursor = connection.execute(
                self._sql.SQL(text).format(self._table),
                parameters,
            )
            return cursor.fetchone() if cursor.description else None

    def _find(self, ref: bytes) -> ClientKeyRecord | None:
        row = self._query("SELECT key_id, erased_on FROM {} WHERE client_ref = %s", (ref,))
        return None if row is None else ClientKeyRecord(UUID(str(row[0])), _text(row[1]))

    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None:
        sql = self._sql
        with self._lock, self._pool.connection() as connection, connection.transaction():
            inserted = connection.execute(
                sql.SQL(
                    "INSERT INTO {} (key_id, client_ref, wrapped_key) VALUES (%s, %s, %s) "
                    "ON CONFLICT (client_ref) DO NOTHING"
                ).format(self._table),
                (str(key_id), ref, wrapped),
            ).rowcount
            if inserted:
                connection.execute(
                    sql.SQL(
                        "INSERT INTO {} (key_id, mac) VALUES (%s, %s) "
                        "ON CONFLICT (key_id) DO UPDATE SET mac = excluded.mac"
                    ).format(self._seals),
                    (str(key_id), self.row_seal(key_id, ref, None)),
                )

    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]:
        row = self._query("SELECT wrapped_key, erased_on FROM {} WHERE key_id = %s", (str(key_id),))
        if row is None:
            return None, None
        wrapped = row[0]
        if wrapped is not None and not isinstance(wrapped, bytes | memoryview):
            raise StoreError(f"client key {key_id} is stored in an unexpected form")
        return (bytes(wrapped) if wrapped is not None else None), _text(row[1])

    def _destroy(self, key_id: UUID, erased_on: str) -> None:
        sql = self._sql
        with self._lock, self._pool.connection() as connection, connection.transaction():
            row = connection.execute(
                sql.SQL(
                    "UPDATE {} SET wrapped_key = NULL, erased_on = %s WHERE key_id = %s "
                    "RETURNING client_ref"
                ).format(self._table),
                (erased_on, str(key_id)),
            ).fetchone()
            if row is not None:
                connection.execute(
                    sql.SQL(
                        "INSERT INTO {} (key_id, mac) VALUES (%s, %s) "
                        "ON CONFLICT (key_id) DO UPDATE SET mac = excluded.mac"
                    ).format(self._seals),
                    (str(key_id), self.row_seal(key_id, bytes(row[0]), erased_on)),
                )
        try:
            self.purge()
        except DRIVER_ERRORS as error:
            raise ErasureIncompleteError(
                f"the key is destroyed but the key table could not be rewritten ({error}), so "
                "its old row version may still be in the data file; run 'goalpath audit purge'"
            ) from error

    def purge(self) -> None:
        """Rewrite the key table, so the destroyed key's old row version leaves its data file.

        PostgreSQL keeps an updated row's old version until a vacuum; ``VACUUM
        FULL`` rewrites the table without it. Its write-ahead log and base
        backups are the database administrator's to expire.
        """
        with self._lock, self._pool.connection() as connection:
            connection.execute(self._sql.SQL("VACUUM FULL {}").format(self._table))

    def close(self) -> None:
        """Close the key table's connections."""
        self._pool.close()


KEY_STORE_CONNECT_TIMEOUT: Final = 10.0
"""Seconds a key-store command waits for a working connection to the server."""


def _key_store_pool(conninfo: str, schema: str) -> Any:
    """The key store's pool: one connection, checked before each use and replaced if broken.

    A connection the server dropped (a restart, ``pg_terminate_backend``, a
    network cut) is replaced on the next command instead of failing every
    later one.
    """
    import psycopg  # noqa: PLC0415  # PostgreSQL support is needed only for PostgreSQL stores
    from psycopg_pool import ConnectionPool, PoolTimeout  # noqa: PLC0415

    pool: Any = ConnectionPool(
        conninfo,
        min_size=1,
        max_size=1,
        kwargs={"autocommit": True},
        check=ConnectionPool.check_connection,
        timeout=KEY_STORE_CONNECT_TIMEOUT,
        name=f"goalpath client keys {schema}",
        open=False,
    )
    try:
        pool.open(wait=True, timeout=KEY_STORE_CONNECT_TIMEOUT)
    except (PoolTimeout, psycopg.Error) as error:
        pool.close()
        raise StoreError(
            f"cannot connect to the client-key store (schema {schema}): {error}"
        ) from None
    return pool


KEY_NOT_DESTROYED: Final[tuple[type[BaseException], ...]] = (StoreError, *DRIVER_ERRORS)
"""What may stop an erasure from destroying its key; erasing again then completes it."""


_WRONG_MASTER_KEY: Final = (
    "the configured master key is not this store's (its key-check value differs): the "
    "wrong key file or GOALPATH_KEY is configured; nothing was read or written with it"
)


def _erased(erased_on: str) -> ClientErasedError:
    return ClientErasedError(
        f"the client's data was erased on {erased_on} (crypto-shredding); "
        "the record's structure remains for the audit but its content cannot be read"
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
