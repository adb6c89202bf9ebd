"""Client keys kept apart from the events: a backup restored after an erasure cannot undo it.

Done-when of the verifiable-history issue: with the external key store, a
backup of the database taken before an erasure, restored after it, cannot
decrypt the erased client. Beside it, the same steps with the keys in the
event store do bring the client back: the reason for the option.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import ClientErasedError, InvalidValueError
from goalpath.core.values import Actor
from tests.strategies import CATALOG, OPENED_ON, THERAPIST, TODAY

SUPERVISOR = Actor("supervisor-1", "supervisor")


def _record(app: GoalpathApp, client_id: str) -> UUID:
    episode = app.open_episode(
        client_id=client_id, therapist_ids=["therapist-7"], opened_on=OPENED_ON, actor=THERAPIST
    )
    return app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST)


def _backup_erase_restore(events: Path, key_store: Path | None) -> tuple[UUID, UUID]:
    with GoalpathApp(events, today=lambda: TODAY, key_store=key_store) as app:
        erased, kept = _record(app, "client-erased"), _record(app, "client-kept")
    backup = events.with_name("backup.db")
    shutil.copyfile(events, backup)  # the database, as a nightly backup takes it
    with GoalpathApp(events, today=lambda: TODAY, key_store=key_store) as app:
        app.erase_client("client-erased", reason="erasure request 12", actor=SUPERVISOR)
        with pytest.raises(ClientErasedError):
            app.get_goal(erased)
    shutil.copyfile(backup, events)  # restored after the erasure
    return erased, kept


def test_with_keys_apart_a_restored_backup_cannot_read_the_erased_client(tmp_path: Path) -> None:
    events, keys = tmp_path / "events.db", tmp_path / "keys" / "client-keys.db"
    keys.parent.mkdir()
    erased, kept = _backup_erase_restore(events, keys)
    with GoalpathApp(events, today=lambda: TODAY, key_store=keys) as app:
        with pytest.raises(ClientErasedError):
            app.get_goal(erased)
        assert app.get_goal(kept).client_id == "client-kept"
    assert keys.stat().st_mode & 0o077 == 0  # the key file is the owner's alone


def test_with_keys_beside_the_events_a_restored_backup_brings_the_client_back(
    tmp_path: Path,
) -> None:
    erased, _kept = _backup_erase_restore(tmp_path / "events.db", None)
    with GoalpathApp(tmp_path / "events.db", today=lambda: TODAY) as app:
        assert app.get_goal(erased).client_id == "client-erased"  # the erasure is undone


def test_the_key_store_is_named_by_the_environment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "env-keys.db"
    monkeypatch.setenv("GOALPATH_KEY_STORE", str(keys))
    with GoalpathApp(tmp_path / "events.db", today=lambda: TODAY) as app:
        _record(app, "client-1")
    assert keys.exists()


def test_the_event_store_is_refused_as_its_own_key_store(tmp_path: Path) -> None:
    events = tmp_path / "events.db"
    with pytest.raises(InvalidValueError, match="the event store itself"):
        GoalpathApp(events, key_store=events)
