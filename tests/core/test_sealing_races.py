"""Sealed heads under races: found by review, kept fixed by these tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalpath.core import Actor, GoalpathApp, draft_definition
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import ClientErasedError, ConflictError
from goalpath.core.storage import sealed_recorders
from goalpath.core.storage.keys import MasterKey
from tests.postgres_support import PostgresTenant, postgres_tenant

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")


def _goal(app: GoalpathApp, client: str = "client-1") -> UUID:
    episode = app.open_episode(
        client_id=client,
        therapist_ids=["therapist-7"],
        opened_on=TODAY - timedelta(weeks=2),
        actor=THERAPIST,
    )
    definition = draft_definition(
        "I will reduce my panic attacks from 3 to 1 per week within 6 weeks by practising "
        "daily breathing exercises",
        TODAY - timedelta(weeks=2),
    )
    return app.create_goal(episode, definition, actor=THERAPIST, activate=True)


def test_a_failed_save_never_lends_its_hash_to_another_threads_save(tmp_path: Path) -> None:
    """B's save is doomed (a stale version); while it waits, C saves the next version on the
    same application. C must chain to the stored record, not to B's unstored one."""
    key = MasterKey.generate()
    path = tmp_path / "race.db"
    with (
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as shared,
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as other,
    ):
        goal_id = _goal(shared)
        goal_b = shared.get_goal(goal_id)
        loaded_b = goal_b.version
        other.record_measurement(goal_id, 2, observed_on=TODAY, actor=THERAPIST)
        goal_c = shared.get_goal(goal_id)
        loaded_c = goal_c.version
        sealed, release = threading.Event(), threading.Event()
        real_insert = engine_of(shared).recorder.insert_events

        def insert(stored: Any, **kwargs: Any) -> Any:
            if threading.current_thread().name == "B":
                sealed.set()
                release.wait(10)
            return real_insert(stored, **kwargs)

        engine_of(shared).recorder.insert_events = insert  # type: ignore[method-assign,assignment]
        outcome: list[BaseException] = []

        def save_b() -> None:
            goal_b.measure(3, observed_on=TODAY, actor=THERAPIST, today=TODAY)
            try:
                engine_of(shared)._save(goal_b, based_on={goal_id: loaded_b})
            except ConflictError as error:
                outcome.append(error)

        thread = threading.Thread(target=save_b, name="B")
        thread.start()
        assert sealed.wait(10)
        goal_c.measure(4, observed_on=TODAY, actor=THERAPIST, today=TODAY)
        engine_of(shared)._save(goal_c, based_on={goal_id: loaded_c})
        release.set()
        thread.join()
        assert len(outcome) == 1
        assert isinstance(outcome[0], ConflictError)
        report = other.verify()
        assert report.ok, report.problems


def test_verify_raises_no_false_alarm_when_records_land_during_the_check(
    tmp_path: Path,
) -> None:
    """Another application writes each time verify reads a batch: the check covers the
    store as its snapshot saw it and reports nothing; the next check covers the rest."""
    key = MasterKey.generate()
    path = tmp_path / "live.db"
    with (
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as writer,
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as auditor,
    ):
        goal_id = _goal(writer)
        before = auditor.verify().records_checked
        real_select = engine_of(auditor).recorder.select_notifications
        landed: list[int] = []

        def select_while_writing(*args: Any, **kwargs: Any) -> Any:
            landed.append(writer.record_measurement(goal_id, 2, observed_on=TODAY, actor=THERAPIST))
            return real_select(*args, **kwargs)

        engine_of(auditor).recorder.select_notifications = select_while_writing  # type: ignore[method-assign]
        during = auditor.verify()
        engine_of(auditor).recorder.select_notifications = real_select  # type: ignore[method-assign]
        assert landed, "records landed while the check ran"
        assert during.ok, during.problems
        assert during.records_checked == before
        after = auditor.verify()
        assert after.ok
        assert after.records_checked == before + len(landed)


def test_reads_of_events_refuse_a_client_erased_by_another_application(tmp_path: Path) -> None:
    path = tmp_path / "erased.db"
    key = MasterKey.generate()
    with (
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as host,
        GoalpathApp(path, master_key=key, today=lambda: TODAY) as worker,
    ):
        goal_id = _goal(host, "client-alice")
        host.record_measurement(goal_id, 2, observed_on=TODAY, note="alice's note", actor=THERAPIST)
        assert worker.goal_events(goal_id)  # the worker caches the key
        assert any(getattr(e, "note", None) for _p, e in worker.iter_events())
        host.erase_client("client-alice", reason="request", actor=Actor("s", "supervisor"))
        with pytest.raises(ClientErasedError):
            worker.goal_events(goal_id)
        assert not any(getattr(e, "note", None) for _p, e in worker.iter_events())


@pytest.fixture
def pg_tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_an_error_in_the_postgresql_sealing_hook_rolls_the_events_back(
    pg_tenant: PostgresTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GoalpathApp(
        pg_tenant.url, tenant=pg_tenant.tenant, master_key=pg_tenant.master_key,
        today=lambda: TODAY,
    ) as app:  # fmt: skip
        goal_id = _goal(app)
        before = len(app.goal_events(goal_id))

        def failing(*_args: object) -> bytes:
            raise MemoryError("simulated failure inside the sealing hook")

        monkeypatch.setattr(sealed_recorders, "head_mac", failing)
        with pytest.raises(MemoryError):
            app.record_measurement(goal_id, 2, observed_on=TODAY, actor=THERAPIST)
        monkeypatch.undo()
        assert len(app.goal_events(goal_id)) == before
        assert app.verify().ok
        app.record_measurement(goal_id, 2, observed_on=TODAY, actor=THERAPIST)
        assert app.verify().ok
