"""Read models in PostgreSQL: tables in the tenant's schema, beside its events.

The projectors write the portable SQL described in
:mod:`goalpath.projections.read_model_store`; this store translates it (``?`` becomes
``%s``, ``INTEGER`` columns become ``BIGINT``, since log positions are
``bigint``). Every write transaction takes a transaction-scoped advisory
lock of the schema first, so two runners never apply the same batch and
two processes never create the tables at once; a read transaction sees one
snapshot (``REPEATABLE READ``).

PostgreSQL has no ``secure_delete``, and a plain ``VACUUM`` leaves the
bytes of removed rows in the free space of their pages. After an erasure
the store therefore runs ``VACUUM FULL`` on the read-model tables and the
client-key table: each is rewritten into new files holding only live rows
(a short exclusive lock per table). See ``docs/postgres.md`` for what can
remain elsewhere (write-ahead log segments, backups, replicas).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from goalpath.core.storage.locations import StoreSpec, redact_url
from goalpath.core.storage.postgres import postgres_conninfo
from goalpath.projections.errors import ProjectionError
from goalpath.projections.read_model_store import ReadModelStore, Row, StoreTransaction

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "KEY_TABLE",
    "NUL_STAND_IN",
    "READ_MODEL_PREFIX",
    "PostgresReadModelStore",
    "translate_sql",
]

READ_MODEL_PREFIX: Final = "gp_"
"""Read-model tables (and the tracking table) are the schema's tables with this prefix."""

KEY_TABLE: Final = "goalpath_client_keys"
"""The client-key table of a tenant (see
:class:`goalpath.core.storage.keys.PostgresClientKeyStore`), rewritten after an
erasure so a destroyed key's old row version does not linger."""

DEFAULT_MAX_CONNECTIONS: Final = 10
"""Connections a read-model store opens to the server at most (one per concurrent transaction)."""

_INTEGER: Final = re.compile(r"\bINTEGER\b")


@lru_cache(maxsize=512)
def translate_sql(statement: str) -> str:
    """Turn goalpath's portable SQL into PostgreSQL's: ``%s`` placeholders, ``BIGINT`` columns.

    >>> translate_sql("SELECT a FROM t WHERE b = ? AND c LIKE 'x%'")
    "SELECT a FROM t WHERE b = %s AND c LIKE 'x%%'"
    """
    text = statement.replace("%", "%%").replace("?", "%s")
    if text.lstrip().upper().startswith("CREATE TABLE"):
        text = _INTEGER.sub("BIGINT", text)
    return text


NUL_STAND_IN: Final = "\ufffd"
"""PostgreSQL text cannot hold NUL characters; read-model rows show U+FFFD in their place
(the events themselves keep the original text)."""


def _text_safe(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(
        value.replace("\x00", NUL_STAND_IN) if isinstance(value, str) and "\x00" in value else value
        for value in params
    )


def _lock_key(schema: str) -> int:
    digest = hashlib.sha256(f"goalpath-read-models:{schema}".encode()).digest()
    return int.from_bytes(digest[:8]) - (1 << 63)  # advisory keys are signed 64-bit integers


class _PostgresTransaction(StoreTransaction):
    def __init__(self, connection: Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._connection.execute(translate_sql(sql), _text_safe(params))
        except psycopg.Error as error:
            raise ProjectionError(f"a read-model statement failed: {error}") from error

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [_text_safe(row) for row in rows]
        if not batch:
            return
        try:
            with self._connection.cursor() as cursor:
                cursor.executemany(translate_sql(sql), batch)
        except psycopg.Error as error:
            raise ProjectionError(f"a read-model statement failed: {error}") from error

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._connection.execute(translate_sql(sql), _text_safe(params)).fetchall()
        except psycopg.Error as error:
            raise ProjectionError(f"a read-model query failed: {error}") from error


class PostgresReadModelStore(ReadModelStore):
    """Read models in one schema of a PostgreSQL database, on a pool of connections of their own.

    ``conninfo`` is a psycopg connection string; ``schema`` the tenant's
    schema (created if missing); ``where`` a printable description for
    messages (never the password). Use :meth:`for_store` to open the read
    models of a goalpath PostgreSQL store.

    Safe to share between threads: every transaction borrows a connection
    of its own from a ``psycopg_pool.ConnectionPool`` of at most
    ``max_connections`` (a borrower waits up to the lock timeout for one to
    come free). A connection the server dropped is replaced on its next use.
    """

    def __init__(
        self,
        conninfo: str,
        schema: str,
        *,
        where: str = "PostgreSQL",
        lock_timeout_seconds: float = 10,
        secret: str | None = None,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.schema = schema
        self.location = f"{where}, schema {schema}"
        self._conninfo = conninfo
        self._secret = secret
        self._lock_timeout_seconds = lock_timeout_seconds
        self._lock_timeout_ms = max(int(lock_timeout_seconds * 1000), 1)
        self._lock_key = _lock_key(schema)
        self._create_schema()
        self._pool: ConnectionPool[Connection[Any]] = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max(max_connections, 1),
            kwargs={"autocommit": True},
            configure=self._configure,
            check=ConnectionPool.check_connection,
            timeout=lock_timeout_seconds,
            name=f"goalpath read models {schema}",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=lock_timeout_seconds)
        except psycopg.Error as error:
            self._pool.close()
            raise ProjectionError(
                f"cannot open the read models at {self.location}: {self._redacted(error)}"
            ) from None

    @classmethod
    def for_store(cls, spec: StoreSpec, *, schema: str | None = None) -> PostgresReadModelStore:
        """The read models of a goalpath PostgreSQL store (``app.store``), in its schema.

        ``schema`` puts them in another schema of the same database (for
        example a second build to compare against).
        """
        if spec.kind != "postgres" or spec.schema is None:
            raise ProjectionError(
                f"{spec.description} is not a PostgreSQL store; give a postgresql:// URL"
            )
        return cls(
            postgres_conninfo(spec),
            schema or spec.schema,
            where=f"PostgreSQL {redact_url(spec.location)}",
            lock_timeout_seconds=float(spec.env.get("POSTGRES_LOCK_TIMEOUT", "10")),
            secret=spec.env.get("POSTGRES_PASSWORD") or None,
        )

    def _redacted(self, error: BaseException) -> str:
        text = str(error).strip()
        if self._secret:
            text = text.replace(self._secret, "***")
        return text

    def _create_schema(self) -> None:
        # On a connection of its own, so a server that cannot be used is refused with its reason.
        try:
            connection = psycopg.connect(self._conninfo, autocommit=True)
        except psycopg.Error as error:
            raise ProjectionError(
                f"cannot open the read models at {self.location}: {self._redacted(error)}"
            ) from None
        try:
            exists = connection.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchall()
            if not exists:
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                )
        except psycopg.Error as error:
            raise ProjectionError(
                f"cannot prepare the read models at {self.location}: {self._redacted(error)}"
            ) from None
        finally:
            connection.close()

    def _configure(self, connection: Connection[Any]) -> None:
        """Set up each new connection of the pool: the schema, and how long to wait for a lock."""
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
        connection.execute(
            sql.SQL("SET lock_timeout = {}").format(sql.Literal(self._lock_timeout_ms))
        )

    @contextmanager
    def _connection(self) -> Iterator[Connection[Any]]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except PoolClosed:
            raise ProjectionError(f"the read models at {self.location} were closed") from None
        except PoolTimeout as error:
            raise ProjectionError(
                f"no connection to the read models at {self.location} came free within "
                f"{self._lock_timeout_seconds:g} s: {self._redacted(error)}; try again, or "
                "give the store more connections (max_connections)"
            ) from None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTransaction]:
        """Open a transaction (a write takes the schema's advisory lock); commit or roll back."""
        with self._connection() as connection:
            try:
                if write:
                    connection.execute("BEGIN")
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
                else:
                    connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            except psycopg.errors.LockNotAvailable as error:
                self._rollback(connection)
                raise ProjectionError(
                    f"the read models at {self.location} are locked by another writer: "
                    f"{self._redacted(error)}; try again when it has finished"
                ) from None
            except psycopg.Error as error:
                self._rollback(connection)
                raise ProjectionError(
                    f"cannot use the read models at {self.location}: {self._redacted(error)}"
                ) from None
            try:
                yield _PostgresTransaction(connection)
            except BaseException:
                self._rollback(connection)
                raise
            try:
                connection.execute("COMMIT")
            except psycopg.Error as error:
                self._rollback(connection)
                raise ProjectionError(
                    f"the read models could not be saved: {self._redacted(error)}"
                ) from None

    @staticmethod
    def _rollback(connection: Connection[Any]) -> None:
        if connection.closed or connection.broken:
            return  # the server rolls back a transaction whose connection is gone
        try:
            connection.execute("ROLLBACK")
        except psycopg.Error:
            connection.close()  # unusable: the next transaction reconnects

    def purge_deleted(self) -> None:
        """``VACUUM FULL`` the read-model tables and the key table, then ``ANALYZE`` them.

        Waits (up to the lock timeout) for transactions reading those tables
        to end; the rewritten files hold no trace of the deleted rows, and the
        planner's statistics are taken again from the rows that remain.
        """
        with self._connection() as connection:
            self._vacuum(connection)

    def _vacuum(self, connection: Connection[Any]) -> None:
        try:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                    "AND (starts_with(tablename, %s) OR tablename = %s) ORDER BY tablename",
                    (self.schema, READ_MODEL_PREFIX, KEY_TABLE),
                ).fetchall()
            ]
            if tables:
                names = sql.SQL(", ").join(sql.Identifier(self.schema, name) for name in tables)
                connection.execute(sql.SQL("VACUUM FULL {}").format(names))
                # The planner's statistics (pg_statistic, shown in pg_stats) keep sampled
                # values of every column: analysing again replaces them with values of the
                # rows that remain, so no erased client's text or key stays there.
                connection.execute(sql.SQL("ANALYZE {}").format(names))
        except psycopg.Error as error:
            raise ProjectionError(
                f"the read models at {self.location} could not be rewritten after an erasure: "
                f"{self._redacted(error)}; run VACUUM FULL on the schema's gp_ tables and "
                f"{KEY_TABLE}"
            ) from None

    def close(self) -> None:
        """Close the pool's connections (one in use closes when its transaction ends)."""
        self._pool.close()
