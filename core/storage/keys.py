"""Keys: the master key from configuration, and per-client keys stored wrapped by it.

One master key (32 random bytes) is configured per store. From it, HKDF
derives three independent keys: one to wrap (encrypt) client keys, one to
compute the tamper-evident hash chain, and one to turn a client id into an
opaque lookup value, so the key table never holds a client id in clear.

Client keys are random AES-256 keys, one per client, stored wrapped. Erasing
a client destroys its key (crypto-shredding): what was encrypted under it
can no longer be read by anyone.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Final
from uuid import UUID, uuid4

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from goalpath.core.errors import ClientErasedError, StoreError
from goalpath.core.storage.sqlite_files import truncate_write_ahead_log

__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "PRODUCTION_ENV",
    "SYSTEM_KEY_ID",
    "ClientKeyStore",
    "KeyConfigurationError",
    "MasterKey",
    "MemoryClientKeyStore",
    "PostgresClientKeyStore",
    "SQLiteClientKeyStore",
    "resolve_master_key",
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


class ClientKeyStore(ABC):
    """Per-client keys, stored wrapped by the master key."""

    def __init__(self, master: MasterKey) -> None:
        self._wrapping = AESGCM(master.derive("wrap-client-keys"))
        self._lookup_key = master.derive("client-lookup")
        self._system_key = master.derive("system-records")
        self._cache: dict[UUID, bytes] = {}
        self._lock = threading.Lock()

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
        """Destroy a client's key; return its id. Erasing twice is refused."""
        record = self.lookup(client_id)
        if record is None:
            raise ClientErasedError(f"goalpath holds no records of client {client_id}")
        if record.erased_on is not None:
            raise ClientErasedError(f"client {client_id} was already erased on {record.erased_on}")
        self._destroy(record.key_id, datetime.now(UTC).isoformat(timespec="seconds"))
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

    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]:
        return self._rows.get(key_id, (None, None))

    def _destroy(self, key_id: UUID, erased_on: str) -> None:
        self._rows[key_id] = (None, erased_on)


class SQLiteClientKeyStore(ClientKeyStore):
    """Client keys in a table of the SQLite store, beside the events.

    ``secure_delete`` is on, so a destroyed key's bytes are overwritten in
    the file, and the write-ahead log is truncated after an erasure.
    """

    TABLE: Final = "goalpath_client_keys"

    def __init__(self, master: MasterKey, path: str, timeout_seconds: float = 10.0) -> None:
        super().__init__(master)
        self._path = path
        self._connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=timeout_seconds
        )
        self._connection.execute("PRAGMA secure_delete = ON")
        self._connection.execute("PRAGMA journal_mode = WAL")
        self._connection.execute(
            f"CREATE TABLE IF NOT EXISTS {self.TABLE} ("
            "key_id TEXT PRIMARY KEY, client_ref BLOB NOT NULL UNIQUE, "
            "wrapped_key BLOB, erased_on TEXT)"
        )

    def _find(self, ref: bytes) -> ClientKeyRecord | None:
        with self._lock:
            row = self._connection.execute(
                f"SELECT key_id, erased_on FROM {self.TABLE} WHERE client_ref = ?",  # noqa: S608
                (ref,),
            ).fetchone()
        return None if row is None else ClientKeyRecord(UUID(row[0]), row[1])

    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None:
        with self._lock:
            # A racing writer may have created this client's key: keep theirs.
            self._connection.execute(
                f"INSERT OR IGNORE INTO {self.TABLE} (key_id, client_ref, wrapped_key) "  # noqa: S608
                "VALUES (?, ?, ?)",
                (str(key_id), ref, wrapped),
            )

    def _load(self, key_id: UUID) -> tuple[bytes | None, str | None]:
        with self._lock:
            row = self._connection.execute(
                f"SELECT wrapped_key, erased_on FROM {self.TABLE} WHERE key_id = ?",  # noqa: S608
                (str(key_id),),
            ).fetchone()
        return (None, None) if row is None else (row[0], row[1])

    def _destroy(self, key_id: UUID, erased_on: str) -> None:
        with self._lock:
            self._connection.execute(
                f"UPDATE {self.TABLE} SET wrapped_key = NULL, erased_on = ? "  # noqa: S608
                "WHERE key_id = ?",
                (erased_on, str(key_id)),
            )
        self.truncate_log()

    def purge(self) -> None:
        """Empty the write-ahead log, which still holds the pages of destroyed keys."""
        self.truncate_log()

    def truncate_log(self) -> None:
        """Copy the write-ahead log into the database and empty it, so old pages are gone.

        Raises ErasureIncompleteError if another connection keeps old pages alive.
        """
        with self._lock:
            truncate_write_ahead_log(self._connection, self._path)

    def close(self) -> None:
        """Close the key table's connection."""
        with self._lock:
            self._connection.close()


class PostgresClientKeyStore(ClientKeyStore):
    """Client keys in a table of the tenant's PostgreSQL schema, beside the events."""

    TABLE: Final = "goalpath_client_keys"

    def __init__(self, master: MasterKey, conninfo: str, schema: str) -> None:
        super().__init__(master)
        import psycopg  # noqa: PLC0415  # PostgreSQL support is needed only for PostgreSQL stores
        from psycopg import sql  # noqa: PLC0415

        self._sql = sql
        self._connection = psycopg.connect(conninfo, autocommit=True)
        self._table = sql.Identifier(schema, self.TABLE)
        self._connection.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (key_id text PRIMARY KEY, "
                "client_ref bytea NOT NULL UNIQUE, wrapped_key bytea, erased_on text)"
            ).format(self._table)
        )

    def _query(self, text: str, parameters: tuple[object, ...]) -> tuple[object, ...] | None:
        with self._lock:
            cursor = self._connection.execute(
                self._sql.SQL(text).format(self._table),
                parameters,
            )
            return cursor.fetchone() if cursor.description else None

    def _find(self, ref: bytes) -> ClientKeyRecord | None:
        row = self._query("SELECT key_id, erased_on FROM {} WHERE client_ref = %s", (ref,))
        return None if row is None else ClientKeyRecord(UUID(str(row[0])), _text(row[1]))

    def _insert(self, key_id: UUID, ref: bytes, wrapped: bytes) -> None:
        self._query(
            "INSERT INTO {} (key_id, client_ref, wrapped_key) VALUES (%s, %s, %s) "
            "ON CONFLICT (client_ref) DO NOTHING",
            (str(key_id), ref, wrapped),
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
        self._query(
            "UPDATE {} SET wrapped_key = NULL, erased_on = %s WHERE key_id = %s",
            (erased_on, str(key_id)),
        )
        self.purge()

    def purge(self) -> None:
        """Rewrite the key table, so the destroyed key's old row version leaves its data file.

        PostgreSQL keeps an updated row's old version until a vacuum; ``VACUUM
        FULL`` rewrites the table without it. Its write-ahead log and base
        backups are the database administrator's to expire.
        """
        with self._lock:
            self._connection.execute(self._sql.SQL("VACUUM FULL {}").format(self._table))

    def close(self) -> None:
        """Close the key table's connection."""
        with self._lock:
            self._connection.close()


def _erased(erased_on: str) -> ClientErasedError:
    return ClientErasedError(
        f"the client's data was erased on {erased_on} (crypto-shredding); "
        "the record's structure remains for the audit but its content cannot be read"
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)
