"""Encryption at rest per client, and erasure by crypto-shredding, on a real SQLite file."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.core import Actor, GoalpathApp, draft_definition
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import (
    ClientErasedError,
    InvalidCommandError,
    InvalidValueError,
    NotAuthorizedError,
    NotFoundError,
)
from goalpath.core.storage.keys import KeyConfigurationError, MasterKey, resolve_master_key
from goalpath.core.storage.sqlite_files import ErasureIncompleteError
from goalpath.projections import Projections

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")
SUPERVISOR = Actor("supervisor-1", "supervisor")

SECRETS_A = (
    "ZEBRA-STATEMENT practise walking past the bakery on Quince Street",
    "ZEBRA-NOTE the client's sister visited",
    "ZEBRA-REASON typed in the wrong box",
)
SECRETS_B = (
    "OKAPI-STATEMENT practise calling my brother",
    "OKAPI-NOTE attended with a friend",
)


def build(app: GoalpathApp, client: str, statement: str, note: str, reason: str | None) -> UUID:
    episode = app.open_episode(
        client_id=client,
        therapist_ids=["therapist-7"],
        concerns=["panic attacks"],
        opened_on=TODAY - timedelta(weeks=8),
        actor=THERAPIST,
    )
    definition = draft_definition(
        f"I will reduce my panic attacks from 3 to 1 per week within 6 weeks; {statement}",
        TODAY - timedelta(weeks=7),
    )
    goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)
    app.record_measurement(
        goal, 3, observed_on=TODAY - timedelta(weeks=6), actor=THERAPIST, note=note
    )
    app.record_measurement(goal, 2, observed_on=TODAY - timedelta(weeks=5), actor=THERAPIST)
    if reason is not None:
        app.correct_measurement(goal, 2, value=1, reason=reason, actor=THERAPIST)
    return goal


def file_bytes(path: Path) -> bytes:
    found = b""
    for suffix in ("", "-wal", "-shm"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            found += candidate.read_bytes()
    return found


def test_stored_rows_hold_no_personal_content(tmp_path: Path) -> None:
    path = tmp_path / "sealed.db"
    with GoalpathApp(path, today=lambda: TODAY) as app:
        build(app, "client-ZEBRA", *SECRETS_A)
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT originator_id, topic, state FROM stored_events"
        ).fetchall()
    assert rows
    raw = b"".join(bytes(state) for _id, _topic, state in rows)
    for secret in (*SECRETS_A, "client-ZEBRA", "therapist-7", "panic attacks", "2026-"):
        assert secret.encode() not in raw, secret
    topics = {topic for _id, topic, _state in rows}
    assert "goalpath.core.goal:Goal.Measured" in topics, "topics stay readable for the store"


def test_erasure_leaves_no_plaintext_and_other_clients_work(tmp_path: Path) -> None:
    path = tmp_path / "erase.db"
    with GoalpathApp(path, today=lambda: TODAY) as app, Projections(app) as projections:
        goal_a = build(app, "client-ZEBRA", *SECRETS_A)
        goal_b = build(app, "client-OKAPI", SECRETS_B[0], SECRETS_B[1], None)
        projections.catch_up()
        assert any(SECRETS_A[2] == entry.reason for entry in projections.audit_log())
        assert SECRETS_A[0].encode() in file_bytes(path), "the read models hold plaintext"
        record = app.erase_client(
            "client-ZEBRA", reason="erasure request 2026-17", actor=SUPERVISOR
        )
        projections.catch_up()
        assert projections.audit_log(goal_id=goal_a) == []
        assert projections.plan_for_episode(app.get_goal(goal_b).episode_id).goals
        with pytest.raises(ClientErasedError, match="erased"):
            app.get_goal(goal_a)
        assert app.get_goal(goal_b).latest_measurement is not None
        report = app.verify()
        assert report.ok
        assert report.erased_streams == 2  # the erased client's episode and goal
        erasures = app.erasures()
        assert [e.id for e in erasures] == [record]
        assert erasures[0].client_id == "client-ZEBRA"
        assert erasures[0].erased_by == SUPERVISOR
        assert erasures[0].reason == "erasure request 2026-17"
        app.record_measurement(goal_b, 1, observed_on=TODAY, actor=THERAPIST)
        with pytest.raises(ClientErasedError):
            app.open_episode(
                client_id="client-ZEBRA",
                therapist_ids=["therapist-7"],
                actor=THERAPIST,
                opened_on=TODAY,
            )
        stored = file_bytes(path)
        for secret in SECRETS_A:
            assert secret.encode() not in stored, secret
    for secret in SECRETS_A:
        assert secret.encode() not in file_bytes(path), secret
    with GoalpathApp(path, today=lambda: TODAY) as reopened:
        assert reopened.get_goal(goal_b).definition.statement.endswith(SECRETS_B[0])
        with pytest.raises(ClientErasedError):
            reopened.get_goal(goal_a)


def test_erasure_needs_an_authorised_role_and_a_reason(tmp_path: Path) -> None:
    with GoalpathApp(tmp_path / "r.db", today=lambda: TODAY) as app:
        goal = build(app, "client-1", "x", "y", None)
        events_before = len(app.goal_events(goal))
        with pytest.raises(NotAuthorizedError, match="supervisor"):
            app.erase_client("client-1", reason="asked", actor=THERAPIST)
        for reason in ("", "   "):
            with pytest.raises(InvalidValueError, match="reason"):
                app.erase_client("client-1", reason=reason, actor=SUPERVISOR)
        with pytest.raises(NotFoundError):
            app.erase_client("client-unknown", reason="asked", actor=SUPERVISOR)
        assert len(app.goal_events(goal)) == events_before
        app.erase_client("client-1", reason="asked", actor=SUPERVISOR)
        with pytest.raises(InvalidCommandError, match="already erased"):
            app.erase_client("client-1", reason="asked", actor=SUPERVISOR)


def test_cli_erase_and_export_show_the_erasure(tmp_path: Path) -> None:
    path = tmp_path / "cli.db"
    with GoalpathApp(path, today=lambda: TODAY) as app:
        build(app, "client-ZEBRA", *SECRETS_A)
    runner = CliRunner()
    refused = runner.invoke(
        cli, ["--db", str(path), "client", "erase", "client-ZEBRA", "--reason", "r",
              "--actor", "t1", "--role", "therapist"],
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "supervisor" in refused.stderr
    erased = runner.invoke(
        cli, ["--db", str(path), "client", "erase", "client-ZEBRA", "--reason", "request 17",
              "--actor", "s1", "--role", "supervisor", "--json"],
    )  # fmt: skip
    assert erased.exit_code == 0, erased.output
    assert json.loads(erased.stdout)["erased"] is True
    export = runner.invoke(cli, ["--db", str(path), "audit", "export", "--client", "client-ZEBRA"])
    every = [json.loads(line) for line in export.stdout.splitlines()]
    rows = [row for row in every if row["stream_type"] != "access"]  # reads stay readable
    assert [row["erased"] for row in rows[:-1]] == [True] * (len(rows) - 1)
    assert rows[-1]["event_type"] == "Recorded"
    assert rows[-1]["reason"] == "request 17"
    assert rows[-1]["actor_id"] == "s1"
    for secret in SECRETS_A:
        assert secret not in export.stdout
    verified = runner.invoke(cli, ["--db", str(path), "audit", "verify"])
    assert verified.exit_code == 0


def test_keys_come_from_configuration(tmp_path: Path) -> None:
    key = MasterKey.generate()
    assert resolve_master_key("x.db", {"GOALPATH_KEY": key.to_text()}) == key
    key_file = tmp_path / "k"
    key_file.write_text(key.to_text())
    assert resolve_master_key("x.db", {"GOALPATH_KEY_FILE": str(key_file)}) == key
    with pytest.raises(KeyConfigurationError, match="production"):
        resolve_master_key(str(tmp_path / "p.db"), {"GOALPATH_ENV": "production"})
    with pytest.raises(KeyConfigurationError, match="base64"):
        resolve_master_key("x.db", {"GOALPATH_KEY": "not base64!"})
    with pytest.raises(KeyConfigurationError, match="32 bytes"):
        resolve_master_key("x.db", {"GOALPATH_KEY": "c2hvcnQ="})
    store = tmp_path / "s.db"
    created = resolve_master_key(str(store), {})
    assert (tmp_path / "s.db.key").read_text().strip() == created.to_text()
    assert oct((tmp_path / "s.db.key").stat().st_mode & 0o777) == "0o600"
    assert "secret" not in repr(created).replace("<secret>", "")


def test_a_store_without_its_key_file_refuses_to_start(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    with GoalpathApp(path, today=lambda: TODAY) as app:
        build(app, "client-1", "x", "y", None)
    Path(f"{path}.key").unlink()
    with pytest.raises(KeyConfigurationError, match="key file"):
        GoalpathApp(path)


def test_the_wrong_master_key_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    with GoalpathApp(path, today=lambda: TODAY) as app:
        goal = build(app, "client-1", "x", "y", None)
    with (
        GoalpathApp(path, master_key=MasterKey.generate()) as wrong,
        pytest.raises(KeyConfigurationError, match="master key"),
    ):
        wrong.get_goal(goal)


def test_an_erasure_reaches_applications_that_cached_the_key(tmp_path: Path) -> None:
    """A second application (another process) that read the client before the erasure
    can neither read nor write their goals afterwards."""
    path = tmp_path / "two.db"
    with (
        GoalpathApp(path, today=lambda: TODAY) as host,
        GoalpathApp(path, today=lambda: TODAY) as worker,
    ):
        goal = build(host, "client-ZEBRA", *SECRETS_A)
        assert worker.get_goal(goal).latest_measurement is not None  # the worker caches the key
        events_before = len(host.goal_events(goal))
        host.erase_client("client-ZEBRA", reason="request", actor=SUPERVISOR)
        with pytest.raises(ClientErasedError):
            worker.get_goal(goal)
        with pytest.raises(ClientErasedError):
            worker.record_measurement(goal, 1, observed_on=TODAY, actor=THERAPIST)
        with pytest.raises(ClientErasedError):
            worker.get_goal(goal, version=1)
        assert len(engine_of(host).recorder.select_events(goal)) == events_before


def test_an_erasure_blocked_by_a_reader_says_so_and_purge_completes_it(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    with GoalpathApp(path, today=lambda: TODAY, lock_timeout_seconds=1) as app:
        build(app, "client-ZEBRA", *SECRETS_A)
        reader = sqlite3.connect(path)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM stored_events").fetchone()  # holds a snapshot
        with pytest.raises(ErasureIncompleteError, match="audit purge"):
            app.erase_client("client-ZEBRA", reason="request", actor=SUPERVISOR)
        reader.rollback()
        reader.close()
        app.purge()
        with sqlite3.connect(path) as check:
            (wrapped,) = check.execute(
                "SELECT count(*) FROM goalpath_client_keys WHERE wrapped_key IS NOT NULL"
            ).fetchone()
        assert wrapped == 0
        assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
