"""The read-model store contract, run against every ReadModelStore goalpath ships."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from goalpath.projections.postgres_read_model_store import PostgresReadModelStore
from goalpath.projections.read_model_store import MEMORY, ReadModelStore, SQLiteReadModelStore
from goalpath.projections.read_model_store_contract import ReadModelStoreContract
from tests.postgres_support import PostgresTenant, postgres_tenant


class TestSQLiteMemoryReadModelStore(ReadModelStoreContract):
    def make_store(self) -> ReadModelStore:
        return SQLiteReadModelStore(MEMORY)


class TestSQLiteFileReadModelStore(ReadModelStoreContract):
    @pytest.fixture(autouse=True)
    def _location(self, tmp_path: Path) -> None:
        self.path = str(tmp_path / "read-models.db")

    def make_store(self) -> ReadModelStore:
        return SQLiteReadModelStore(self.path)

    def reopen_store(self, store: ReadModelStore) -> ReadModelStore:  # noqa: ARG002  # the location is the test's
        return SQLiteReadModelStore(self.path)


class TestPostgresReadModelStore(ReadModelStoreContract):
    @pytest.fixture(autouse=True)
    def _tenant(self) -> Iterator[None]:
        for tenant in postgres_tenant():
            self.tenant: PostgresTenant = tenant
            yield

    def make_store(self) -> ReadModelStore:
        return PostgresReadModelStore(self.tenant.url, self.tenant.schema)

    def reopen_store(self, store: ReadModelStore) -> ReadModelStore:  # noqa: ARG002  # the location is the test's
        return self.make_store()
