"""Idempotency keys and failed writes: a key's record commits with its events or not at all.

A write that fails before it commits stores neither its events nor its key,
so the retry is a first command; on PostgreSQL, a retry with its key after
an unknown outcome (the connection lost before or after the commit) is
stored once (issue 17).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import OutcomeUnknownError, StoreError
from goalpath.core.storage import sealed_recorders
from tests.conftest import AppFactory, fixed_today
from tests.core.idempotency_support import build_world, day, stored_count
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.strategies import THERAPIST


def _fail_once_in_the_transaction(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The next write fails after its events and keys are inserted, before it commits."""
    real = sealed_recorders.seal_mac

    def failing(*_args: Any) -> bytes:
        monkeypatch.setattr(sealed_recorders, "seal_mac", real)
        raise error

    monkeypatch.setattr(sealed_recorders, "seal_mac", failing)


def test_a_key_commits_with_its_events_or_not_at_all(
    shared_app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = shared_app_factory.kind.name
    app = shared_app_factory()
    world = build_world(app)
    stored = stored_count(app)
    disk_full: Exception = (
        sqlite3.OperationalError("database or disk is full")
        if kind == "sqlite"
        else psycopg.errors.DiskFull("could not extend file: No space left on device")
    )
    _fail_once_in_the_transaction(monkeypatch, disk_full)
    with pytest.raises(StoreError) as failed:
        app.record_measurement(
            world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
        )
    assert not isinstance(failed.value, OutcomeUnknownError)
    assert stored_count(app) == stored  # neither the event nor the key
    # So the retry is a first command: stored once.
    number = app.record_measurement(
        world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
    )
    assert stored_count(app) == stored + 1
    assert [m.sequence for m in app.goal_measurements(world.goal)][-1] == number
    assert app.verify().ok


# -- an unknown outcome, retried with its key ------------------------------------


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def _pg_app(tenant: PostgresTenant) -> GoalpathApp:
    return GoalpathApp(
        tenant.url, tenant=tenant.tenant, master_key=tenant.master_key, today=fixed_today
    )


def _lose_the_connection(
    app: GoalpathApp, monkeypatch: pytest.MonkeyPatch, *, after_commit: bool
) -> None:
    """The recorder's next insert loses its connection, before or after it commits."""
    recorder: Any = engine_of(app).recorder
    insert = recorder.insert_events
    lost = psycopg.OperationalError("server closed the connection unexpectedly")

    def failing(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(recorder, "insert_events", insert)  # once
        if after_commit:
            insert(*args, **kwargs)
        raise OperationalError(str(lost)) from lost

    monkeypatch.setattr(recorder, "insert_events", failing)


def test_a_retry_after_an_unknown_outcome_with_its_key_is_stored_once(
    tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _pg_app(tenant) as app:
        world = build_world(app)
        stored = stored_count(app)

        def measure() -> int:
            return app.record_measurement(
                world.goal, 2, observed_on=day(3), actor=THERAPIST, idempotency_key="visit"
            )

        # Lost before the commit: unknown to the caller, and nothing is stored.
        _lose_the_connection(app, monkeypatch, after_commit=False)
        with pytest.raises(OutcomeUnknownError):
            measure()
        assert stored_count(app) == stored
        number = measure()  # the retry, with its key
        assert measure() == number
        assert stored_count(app) == stored + 1
        # Lost after the commit: the key's record tells the command it was stored.
        _lose_the_connection(app, monkeypatch, after_commit=True)
        reviewed = app.review_goal(
            world.goal,
            achievement="improving",
            decision="continue",
            reviewed_on=day(4),
            actor=THERAPIST,
            idempotency_key="review",
        )
        assert reviewed is None
        assert stored_count(app) == stored + 2
        assert len(app.get_goal(world.goal).reviews) == 1
        assert app.verify().ok
