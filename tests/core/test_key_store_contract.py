"""The client-key store contract, run against every ClientKeyStore goalpath ships."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from goalpath.core.storage.key_store_contract import ClientKeyStoreContract
from goalpath.core.storage.keys import (
    ClientKeyStore,
    MasterKey,
    MemoryClientKeyStore,
    PostgresClientKeyStore,
    SQLiteClientKeyStore,
)
from tests.postgres_support import PostgresTenant, postgres_tenant


class TestMemoryClientKeyStore(ClientKeyStoreContract):
    def make_store(self) -> ClientKeyStore:
        return MemoryClientKeyStore(MasterKey.generate())


class TestSQLiteClientKeyStore(ClientKeyStoreContract):
    @pytest.fixture(autouse=True)
    def _location(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "keys.db")
        self.master_key = MasterKey.generate()

    def make_store(self) -> ClientKeyStore:
        return SQLiteClientKeyStore(self.master_key, self.path)

    def reopen_store(self, store: ClientKeyStore) -> ClientKeyStore:  # noqa: ARG002  # the location is the test's
        return SQLiteClientKeyStore(self.master_key, self.path)


class TestPostgresClientKeyStore(ClientKeyStoreContract):
    @pytest.fixture(autouse=True)
    def _tenant(self) -> Iterator[None]:
        for tenant in postgres_tenant():
            with psycopg.connect(tenant.url, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(tenant.schema))
                )
            self.tenant: PostgresTenant = tenant
            yield

    def make_store(self) -> ClientKeyStore:
        tenant = self.tenant
        return PostgresClientKeyStore(tenant.master_key, tenant.url, tenant.schema)

    def reopen_store(self, store: ClientKeyStore) -> ClientKeyStore:  # noqa: ARG002  # the location is the test's
        return self.make_store()
