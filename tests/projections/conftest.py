"""Fixtures of the read-model tests: a store of each kind that keeps read models beside events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.projections.stores import STORE_KINDS, ProjectionStore, open_store


@pytest.fixture(params=STORE_KINDS)
def projection_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ProjectionStore]:
    """A fresh SQLite file, then a fresh PostgreSQL tenant schema."""
    yield from open_store(request.param, tmp_path)


@pytest.fixture
def postgres_store(tmp_path: Path) -> Iterator[ProjectionStore]:
    """A fresh PostgreSQL tenant schema (skipped, or failed in CI, when no server answers)."""
    yield from open_store("postgres", tmp_path)
