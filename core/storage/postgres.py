"""PostgreSQL specifics: connection settings and a tenant's schema, with clear errors."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from goalpath.core.errors import StoreError
from goalpath.core.storage.locations import StoreSpec, redact_url, scrub_password

__all__ = ["postgres_conninfo", "prepare_postgres_schema", "setup_lock"]


def postgres_conninfo(spec: StoreSpec) -> str:
    """A psycopg connection string for a PostgreSQL store."""
    from psycopg.conninfo import make_conninfo  # noqa: PLC0415  # only PostgreSQL stores need it

    env = spec.env
    return make_conninfo(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        connect_timeout=env["POSTGRES_CONNECT_TIMEOUT"],
    )


def prepare_postgres_schema(spec: StoreSpec) -> None:
    """Check the server answers and create the tenant's schema if it does not exist yet.

    An unreachable server, refused credentials or a missing database become a
    :class:`StoreError` whose message never contains the password.
    """
    try:
        import psycopg  # noqa: PLC0415
        from psycopg import sql  # noqa: PLC0415
    except ImportError as error:  # pragma: no cover - psycopg is a dependency
        raise StoreError(
            "PostgreSQL stores need psycopg: pip install 'goalpath[postgres]'"
        ) from error
    try:
        with psycopg.connect(postgres_conninfo(spec), autocommit=True) as connection:
            if spec.schema and spec.schema != "public":
                connection.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(spec.schema))
                )
    except psycopg.OperationalError as error:
        raise StoreError(_explain(spec, error)) from None


def postgres_store_exists(spec: StoreSpec) -> bool:
    """Whether the store's tenant has its schema (the default tenant's, ``public``, always does)."""
    import psycopg  # noqa: PLC0415  # an optional driver, imported where it is needed

    try:
        with psycopg.connect(postgres_conninfo(spec), autocommit=True) as connection:
            row = connection.execute(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s",
                (spec.schema,),
            ).fetchone()
    except psycopg.OperationalError as error:
        raise StoreError(_explain(spec, error)) from None
    return bool(row and row[0])


def _explain(spec: StoreSpec, error: Exception) -> str:
    text = scrub_password(spec, str(error))
    where = redact_url(spec.location)
    lowered = text.lower()
    if "does not exist" in lowered and "database" in lowered:
        reason = f"the database {spec.env['POSTGRES_DBNAME']} does not exist on that server"
    elif "authentication" in lowered or ("role" in lowered and "does not exist" in lowered):
        reason = f"the server refused the credentials of user {spec.env['POSTGRES_USER']}"
    elif "connection refused" in lowered or "timeout" in lowered or "could not" in lowered:
        reason = "no PostgreSQL server answers there"
    else:
        reason = "the server refused the connection"
    return f"cannot open the goalpath store at {where}: {reason} ({text.strip()})"


@contextmanager
def setup_lock(spec: StoreSpec) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while a tenant's tables are created.

    ``CREATE TABLE IF NOT EXISTS`` is not safe against itself: two processes
    opening a new tenant at once can fail with "tuple concurrently updated".
    """
    import psycopg  # noqa: PLC0415

    key = int.from_bytes(hashlib.sha256(f"goalpath-setup:{spec.schema}".encode()).digest()[:8])
    key -= 1 << 63  # advisory lock keys are signed 64-bit integers
    try:
        connection = psycopg.connect(postgres_conninfo(spec), autocommit=True)
    except psycopg.OperationalError as error:
        raise StoreError(_explain(spec, error)) from None
    with connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (key,))
