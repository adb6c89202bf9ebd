"""After the commit, best effort: a snapshot that fails never reports a stored write as failed.

Issue 17 ("stored, but reported failed"): the automatic snapshot is taken
after the events commit. A failure there (here the snapshot store refuses
with the library's ``OperationalError``, as a lock timeout or a full disk
does) is logged and owed to the goal's next save; the command returns as
the stored write deserves, on every store.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any, Final
from uuid import UUID

import pytest
from eventsourcing.persistence import OperationalError

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.values import Actor
from tests.conftest import AppFactory
from tests.strategies import PANIC_FROM_FOUR as DEFINITION

THERAPIST: Final = Actor("therapist-7", "therapist")
INTERVAL: Final = 3


def _goal(app: GoalpathApp) -> UUID:
    episode = app.open_episode(
        client_id="client-1", therapist_ids=["therapist-7"], actor=THERAPIST,
        opened_on=date(2026, 3, 1),
    )  # fmt: skip
    return app.create_goal(episode, DEFINITION, actor=THERAPIST, activate=True)  # version 1


def _snapshot_versions(app: GoalpathApp, goal_id: UUID) -> list[int]:
    stored = engine_of(app).snapshots
    assert stored is not None
    return [snapshot.originator_version for snapshot in stored.get(goal_id)]


class _FailingSnapshots:
    """The snapshot store's recorder, refusing its next ``failures`` writes."""

    def __init__(self, app: GoalpathApp, failures: int) -> None:
        stored = engine_of(app).snapshots
        assert stored is not None
        self.recorder: Any = stored.recorder
        self.insert = self.recorder.insert_events
        self.insert_inner = getattr(self.recorder, "_insert_events", None)
        self.failures = failures

    def insert_events(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise OperationalError("database is locked")
        return self.insert(*args, **kwargs)

    def insert_within(self, *args: Any, **kwargs: Any) -> Any:
        """The insert inside another transaction (an import's snapshots on SQLite)."""
        if self.failures:
            self.failures -= 1
            raise OperationalError("disk I/O error")
        assert self.insert_inner is not None
        return self.insert_inner(*args, **kwargs)


def test_a_failed_snapshot_leaves_the_measurement_stored_and_reported_so(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(snapshot_interval=INTERVAL)
    goal_id = _goal(app)
    app.record_measurement(goal_id, 4, observed_on=date(2026, 3, 2), actor=THERAPIST)
    failing = _FailingSnapshots(app, failures=1)
    monkeypatch.setattr(failing.recorder, "insert_events", failing.insert_events)
    with caplog.at_level(logging.WARNING, logger="goalpath"):
        number = app.record_measurement(
            goal_id, 3, observed_on=date(2026, 3, 9), actor=THERAPIST
        )  # version 3: a snapshot is due, and it fails
    assert number == 2
    assert app.get_goal(goal_id).version == INTERVAL
    assert _snapshot_versions(app, goal_id) == []
    [warning] = [r for r in caplog.records if r.name == "goalpath"]
    assert str(goal_id) in warning.getMessage()
    assert "the events are stored" in warning.getMessage()
    # The next save takes the owed snapshot, though it crosses no interval.
    app.record_measurement(goal_id, 2, observed_on=date(2026, 3, 16), actor=THERAPIST)
    assert _snapshot_versions(app, goal_id) == [INTERVAL]
    # And the goal replays the same from its snapshot as from its events.
    assert [m.value for m in app.goal_measurements(goal_id)] == [4, 3, 2]


def test_a_failed_snapshot_after_an_import_leaves_the_import_stored(
    app_factory: AppFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = app_factory(snapshot_interval=INTERVAL)
    goal_id = _goal(app)
    failing = _FailingSnapshots(app, failures=1)
    monkeypatch.setattr(failing.recorder, "insert_events", failing.insert_events)
    monkeypatch.setattr(failing.recorder, "_insert_events", failing.insert_within, raising=False)
    rows = [(float(value), date(2026, 3, 3 + value), None) for value in range(5)]
    with caplog.at_level(logging.WARNING, logger="goalpath"):
        numbers = app.import_measurements_of_goals({goal_id: rows}, actor=THERAPIST)
    assert numbers[goal_id] == range(1, 6)
    assert len(app.goal_measurements(goal_id)) == 5
    assert _snapshot_versions(app, goal_id) == []
    assert any(r.name == "goalpath" for r in caplog.records)
    app.record_measurement(goal_id, 1, observed_on=date(2026, 3, 20), actor=THERAPIST)
    assert _snapshot_versions(app, goal_id) == [6]  # owed at version 6, taken at 7


def test_a_snapshot_that_works_is_taken_at_the_interval_as_before(
    app_factory: AppFactory,
) -> None:
    app = app_factory(snapshot_interval=INTERVAL)
    goal_id = _goal(app)
    for day in (9, 10, 11):
        app.record_measurement(goal_id, 3, observed_on=date(2026, 3, day), actor=THERAPIST)
    assert _snapshot_versions(app, goal_id) == [INTERVAL]  # at 3, not yet at 4
