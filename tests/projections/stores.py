"""The stores the read-model tests run on: a SQLite file, and a PostgreSQL tenant schema.

:class:`ProjectionStore` hides the difference: it opens applications,
invokes the CLI, and queries the read-model tables over a connection of
its own (to see what was committed, not what one connection holds).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any, Final

import psycopg
from click.testing import CliRunner, Result
from psycopg import sql

from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.core.storage.keys import MasterKey
from tests.postgres_support import PostgresTenant, require_postgres

__all__ = ["STORE_KINDS", "ProjectionStore", "open_store"]

STORE_KINDS: Final = ("sqlite", "postgres")
"""Where read models can live beside the events."""


class ProjectionStore:
    """One store under test: a SQLite file or a fresh tenant of the test PostgreSQL server."""

    def __init__(
        self,
        kind: str,
        location: str,
        *,
        tenant: str | None = None,
        master_key: MasterKey | None = None,
        schema: str | None = None,
    ) -> None:
        self.kind = kind
        self.location = location
        self.tenant = tenant
        self.master_key = master_key
        self.schema = schema

    def app(self, **options: Any) -> GoalpathApp:
        """A new application on this store (close it, or use it as a context manager)."""
        if self.kind == "postgres":
            options.setdefault("tenant", self.tenant)
            options.setdefault("master_key", self.master_key)
        return GoalpathApp(self.location, **options)

    @property
    def cli_args(self) -> list[str]:
        """The root options that select this store."""
        tenant = ["--tenant", self.tenant] if self.tenant else []
        return ["--db", self.location, *tenant]

    @property
    def env(self) -> dict[str, str]:
        """Environment a process on this store needs (the master key of a server store)."""
        return {"GOALPATH_KEY": self.master_key.to_text()} if self.master_key else {}

    def cli(self, *args: str) -> Result:
        """Run a ``goalpath`` command on this store, in-process."""
        return CliRunner().invoke(
            cli,
            [*self.cli_args, *args],
            env={"COLUMNS": "160", **self.env},
            catch_exceptions=False,
        )

    def process_env(self) -> dict[str, str]:
        """The environment of a child process on this store."""
        return {**os.environ, **self.env}

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        """Run one statement on a connection of its own and commit; rows if it returns any."""
        if self.kind == "sqlite":
            with closing(sqlite3.connect(self.location)) as connection, connection:
                return connection.execute(statement).fetchall()
        assert self.schema is not None
        with psycopg.connect(self.location, autocommit=True) as server:
            server.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            cursor = server.execute(statement)
            return cursor.fetchall() if cursor.description else []


def open_store(kind: str, tmp_path: Path, name: str = "store.db") -> Iterator[ProjectionStore]:
    """Yield a fresh store of ``kind`` (use as a fixture body); a server tenant is dropped after."""
    if kind == "sqlite":
        yield ProjectionStore("sqlite", str(tmp_path / name))
        return
    tenant = PostgresTenant(require_postgres())
    try:
        yield ProjectionStore(
            "postgres",
            tenant.url,
            tenant=tenant.tenant,
            master_key=tenant.master_key,
            schema=tenant.schema,
        )
    finally:
        tenant.drop()
