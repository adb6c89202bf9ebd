"""Where a goalpath store lives: in memory, a SQLite file, or a PostgreSQL schema per tenant.

A store location is ``":memory:"``, a file path (SQLite, the embedded
default), or a ``postgresql://user:password@host:port/dbname`` URL. A tenant
(an organisation) gets a store of its own: its own SQLite file beside the
given one, or its own PostgreSQL schema, each with its own events, keys and
read models, so nothing of one tenant is visible through another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

import attrs

from goalpath.core.errors import StoreError
from goalpath.core.inputs import check_tenant

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_DB_PATH",
    "MEMORY",
    "TENANT_ENV",
    "StoreSpec",
    "check_tenant",
    "redact_url",
    "resolve_location",
    "scrub_password",
    "store_spec",
]

MEMORY: Final = ":memory:"
DEFAULT_DB_PATH: Final = "goalpath.db"
DATABASE_URL_ENV: Final = "GOALPATH_DATABASE_URL"
DB_ENV: Final = "GOALPATH_DB"
TENANT_ENV: Final = "GOALPATH_TENANT"

SQLITE_RECORDER: Final = "goalpath.core.storage.sealed_recorders:SealedSQLiteApplicationRecorder"
POSTGRES_RECORDER: Final = (
    "goalpath.core.storage.sealed_recorders:SealedPostgresApplicationRecorder"
)

StoreKind = Literal["memory", "sqlite", "postgres"]


@attrs.frozen
class StoreSpec:
    """A resolved store: its kind, the library settings, and a printable description."""

    kind: StoreKind
    location: str
    tenant: str | None
    env: dict[str, str] = attrs.field(repr=False)
    description: str
    schema: str | None = None

    @property
    def key_location(self) -> str:
        """Where the default key file of this store would be (SQLite), else the location."""
        return self.location


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``, safe to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def scrub_password(spec: StoreSpec, text: str) -> str:
    """``text`` (an error message, say) with the store's password replaced by ``***``."""
    password = spec.env.get("POSTGRES_PASSWORD")
    return text.replace(password, "***") if password else text


def redact_url_safely(url: str) -> str:
    """Like :func:`redact_url`, for a URL that may not even parse: drop everything before '@'."""
    try:
        return redact_url(url)
    except ValueError:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.rpartition('@')[2]}" if "@" in rest else url


def resolve_location(db: str | os.PathLike[str] | None) -> str:
    """The store to use.

    ``db`` if given, else ``GOALPATH_DATABASE_URL``, else ``GOALPATH_DB``, else ``./goalpath.db``.
    """
    if db is not None:
        return os.fspath(db)
    return os.environ.get(DATABASE_URL_ENV) or os.environ.get(DB_ENV) or DEFAULT_DB_PATH


def store_spec(
    location: str, tenant: str | None = None, lock_timeout_seconds: int = 10
) -> StoreSpec:
    """Work out the kind of store and the eventsourcing settings for a location."""
    if tenant is not None:
        check_tenant(tenant)
    if location == MEMORY:
        return StoreSpec("memory", MEMORY, tenant, {}, "in memory")
    if location.startswith(("postgresql://", "postgres://")):
        return _postgres_spec(location, tenant, lock_timeout_seconds)
    if "://" in location:
        raise StoreError(
            f"unknown store {redact_url(location)}: give a SQLite file path, "
            "':memory:' or a postgresql:// URL"
        )
    path = Path(location)
    if tenant is not None:
        path = path.with_name(f"{path.stem}.{tenant}{path.suffix or '.db'}")
    if path.is_dir():
        raise StoreError(f"{path} is a folder; give a file path for the goalpath store")
    if not path.parent.exists():
        raise StoreError(
            f"cannot create the goalpath store {path}: folder {path.parent} does not exist"
        )
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "APPLICATION_RECORDER_TOPIC": SQLITE_RECORDER,
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": str(lock_timeout_seconds),
    }
    return StoreSpec("sqlite", str(path), tenant, env, f"SQLite file {path}")


def _postgres_spec(url: str, tenant: str | None, lock_timeout_seconds: int) -> StoreSpec:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise StoreError(
            f"the PostgreSQL URL {redact_url_safely(url)} is malformed ({error}); expected "
            "postgresql://user:password@host:port/dbname"
        ) from None
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise StoreError(f"the PostgreSQL URL {redact_url(url)} names no database (…/DBNAME)")
    schema = f"goalpath_{tenant}" if tenant else "public"
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "APPLICATION_RECORDER_TOPIC": POSTGRES_RECORDER,
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        "POSTGRES_DBNAME": dbname,
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_LOCK_TIMEOUT": str(lock_timeout_seconds),
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
        # Check each pooled connection before use, so one the server dropped is replaced.
        "POSTGRES_PRE_PING": "y",
    }
    tenant_text = f", tenant {tenant}" if tenant else ""
    return StoreSpec(
        "postgres",
        url,
        tenant,
        env,
        f"PostgreSQL {redact_url(url)}{tenant_text}",
        schema=schema,
    )
