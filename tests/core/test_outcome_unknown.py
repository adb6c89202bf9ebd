"""A connection lost while saving on PostgreSQL: the caller is told the outcome is unknown.

Issue 17: an error that leaves the outcome unknown is a distinct typed error
(``OutcomeUnknownError``, code ``outcome-unknown``), whether the commit
happened before the connection broke or not; reading the goal again tells
which. A lock timeout is not a lost connection: nothing was stored, and it
is a plain ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Final

import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import OutcomeUnknownError, StoreError
from goalpath.core.values import Actor
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.strategies import PANIC_FROM_FOUR as DEFINITION

THERAPIST: Final = Actor("therapist-7", "therapist")


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def _app(tenant: PostgresTenant) -> GoalpathApp:
    return GoalpathApp(
        tenant.url, tenant=tenant.tenant, master_key=tenant.master_key, snapshot_interval=0
    )


def _goal(app: GoalpathApp) -> Any:
    episode = app.open_episode(
        client_id="client-1",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=date(2026, 3, 1),
    )
    return app.create_goal(episode, DEFINITION, actor=THERAPIST, activate=True)


def _failing_insert(
    app: GoalpathApp, monkeypatch: pytest.MonkeyPatch, cause: Exception, *, after: bool
) -> None:
    """The recorder's next insert fails with ``cause``, before or after it commits."""
    recorder: Any = engine_of(app).recorder
    insert = recorder.insert_events

    def failing(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(recorder, "insert_events", insert)  # once
        if after:
            insert(*args, **kwargs)
        raise OperationalError(str(cause)) from cause

    monkeypatch.setattr(recorder, "insert_events", failing)


@pytest.mark.parametrize("after", [True, False], ids=["after the commit", "before it"])
def test_a_connection_lost_while_saving_is_an_unknown_outcome(
    tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch, after: bool
) -> None:
    with _app(tenant) as app:
        goal_id = _goal(app)
        lost = psycopg.OperationalError("server closed the connection unexpectedly")
        _failing_insert(app, monkeypatch, lost, after=after)
        with pytest.raises(OutcomeUnknownError) as unknown:
            app.record_measurement(goal_id, 3, observed_on=date(2026, 3, 9), actor=THERAPIST)
        assert unknown.value.code == "outcome-unknown"
        assert "may or may not be stored" in str(unknown.value)
        assert "read the goal again" in str(unknown.value)
        # Reading the goal again tells which it was.
        stored = [m.value for m in app.goal_measurements(goal_id)]
    assert stored == ([3] if after else [])


def test_a_terminated_backend_is_a_lost_connection(
    tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _app(tenant) as app:
        goal_id = _goal(app)
        _failing_insert(app, monkeypatch, psycopg.errors.AdminShutdown("terminated"), after=False)
        with pytest.raises(OutcomeUnknownError):
            app.record_measurement(goal_id, 3, observed_on=date(2026, 3, 9), actor=THERAPIST)


def test_a_lock_timeout_while_saving_stored_nothing_and_says_so(
    tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _app(tenant) as app:
        goal_id = _goal(app)
        timeout = psycopg.errors.LockNotAvailable("canceling statement due to lock timeout")
        _failing_insert(app, monkeypatch, timeout, after=False)
        with pytest.raises(StoreError) as refused:
            app.record_measurement(goal_id, 3, observed_on=date(2026, 3, 9), actor=THERAPIST)
        assert not isinstance(refused.value, OutcomeUnknownError)
        assert app.goal_measurements(goal_id) == []
