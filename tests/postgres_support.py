"""PostgreSQL for tests: the server on this machine, a fresh tenant schema per test.

PostgreSQL tests run whenever a server answers. In CI (``CI=true``) a
missing server fails them instead of skipping: CI must never pass without
having run them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Final

import psycopg
import pytest
from psycopg import sql

from goalpath.core.storage.keys import MasterKey

__all__ = ["POSTGRES_URL", "PostgresTenant", "postgres_tenant", "require_postgres"]

POSTGRES_URL: Final = os.environ.get(
    "GOALPATH_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test"
)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def require_postgres() -> str:
    """The test server's URL; skip (or, in CI, fail) when no server answers."""
    if _answers(POSTGRES_URL):
        return POSTGRES_URL
    message = f"no PostgreSQL server answers at {POSTGRES_URL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message}; CI must run the PostgreSQL tests")
    pytest.skip(message)
    raise AssertionError  # pragma: no cover - skip raises


class PostgresTenant:
    """A tenant schema of its own for one test, with a master key, dropped afterwards."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tenant = f"t{uuid.uuid4().hex[:16]}"
        self.schema = f"goalpath_{self.tenant}"
        self.master_key = MasterKey.generate()

    def drop(self) -> None:
        """Remove the tenant's schema and everything in it."""
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )


def postgres_tenant() -> Iterator[PostgresTenant]:
    """Yield a fresh tenant on the test server (use as a fixture body)."""
    tenant = PostgresTenant(require_postgres())
    try:
        yield tenant
    finally:
        tenant.drop()
