"""Tamper evidence on a SQLite file: verify detects altered, deleted, reordered, forged records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from goalpath.cli.main import cli
from goalpath.core import Actor, GoalpathApp, draft_definition
from goalpath.core.errors import TamperedError
from tests.postgres_support import PostgresTenant, postgres_tenant

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, UUID]:
    path = tmp_path / "tamper.db"
    with GoalpathApp(path, today=lambda: TODAY, snapshot_interval=0) as app:
        episode = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            concerns=["panic attacks"],
            opened_on=TODAY - timedelta(weeks=8),
            actor=THERAPIST,
        )
        definition = draft_definition(
            "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
            "by practising daily breathing exercises",
            TODAY - timedelta(weeks=7),
        )
        goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)
        for week in range(5):
            app.record_measurement(
                goal, 3 - week * 0.5, observed_on=TODAY - timedelta(weeks=6 - week), actor=THERAPIST
            )
    return path, goal


def verify_cli(path: Path) -> tuple[int, str, dict[str, object]]:
    result = CliRunner().invoke(cli, ["--db", str(path), "audit", "verify", "--json"])
    return result.exit_code, result.stderr, json.loads(result.stdout)


def test_an_untouched_store_verifies(store: tuple[Path, UUID]) -> None:
    path, _goal = store
    code, _stderr, report = verify_cli(path)
    assert code == 0
    assert report["ok"] is True
    assert report["records_checked"] == 8  # episode: opened, goal added; goal: created, 5 measured
    table = CliRunner().invoke(cli, ["--db", str(path), "audit", "verify"])
    assert table.exit_code == 0
    assert "verified" in table.stdout


def _execute(path: Path, statement: str, parameters: tuple[object, ...] = ()) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement, parameters)


def test_altering_one_byte_is_detected_and_named(store: tuple[Path, UUID]) -> None:
    path, goal = store
    with sqlite3.connect(path) as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 4",
            (goal.hex,),
        ).fetchone()
        altered = bytearray(state)
        altered[-5] ^= 0x01
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 4",
            (bytes(altered), goal.hex),
        )
    code, stderr, report = verify_cli(path)
    assert code == 1
    first = report["first_problem"]
    assert isinstance(first, dict)
    assert first["stream_id"] == str(goal)
    assert first["version"] == 4
    assert first["kind"] == "altered"
    assert str(goal) in stderr
    assert "version 4" in stderr
    with GoalpathApp(path) as app, pytest.raises(TamperedError, match="version 4"):
        app.get_goal(goal)


def test_deleting_an_event_row_is_detected(store: tuple[Path, UUID]) -> None:
    path, goal = store
    _execute(
        path,
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 5",
        (goal.hex,),
    )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    kinds = {(p["stream_id"], p["version"], p["kind"]) for p in report["problems"]}  # type: ignore[attr-defined]
    assert (str(goal), 5, "missing") in kinds


def test_swapping_two_events_versions_is_detected(store: tuple[Path, UUID]) -> None:
    path, goal = store
    with sqlite3.connect(path) as connection:
        for old, new in ((5, -1), (6, 5), (-1, 6)):
            connection.execute(
                "UPDATE stored_events SET originator_version = ? "
                "WHERE originator_id = ? AND originator_version = ?",
                (new, goal.hex, old),
            )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    first = report["first_problem"]
    assert isinstance(first, dict)
    assert first["stream_id"] == str(goal)
    assert first["version"] == 5


def test_a_forged_event_is_detected(store: tuple[Path, UUID]) -> None:
    path, goal = store
    with sqlite3.connect(path) as connection:
        (state, topic) = connection.execute(
            "SELECT state, topic FROM stored_events WHERE originator_id = ? "
            "AND originator_version = 6",
            (goal.hex,),
        ).fetchone()
        # A plausible forgery: a copy of a real sealed record, appended as the next version.
        connection.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, 7, ?, ?)",
            (goal.hex, topic, state),
        )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    first = report["first_problem"]
    assert isinstance(first, dict)
    assert (first["stream_id"], first["version"], first["kind"]) == (str(goal), 7, "altered")


def test_a_record_moved_to_another_stream_does_not_decrypt(store: tuple[Path, UUID]) -> None:
    path, goal = store
    with sqlite3.connect(path) as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_id = ? AND originator_version = 6",
            (goal.hex,),
        ).fetchone()
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ? AND originator_version = 5",
            (state, goal.hex),
        )
    with GoalpathApp(path) as app, pytest.raises(TamperedError, match="does not authenticate"):
        app.get_goal(goal)
    code, _stderr, _report = verify_cli(path)
    assert code == 1


def test_snapshots_are_not_trusted_by_verify(tmp_path: Path) -> None:
    path = tmp_path / "snap.db"
    with GoalpathApp(path, today=lambda: TODAY, snapshot_interval=2) as app:
        episode = app.open_episode(
            client_id="client-2",
            therapist_ids=["therapist-7"],
            opened_on=TODAY - timedelta(weeks=2),
            actor=THERAPIST,
        )
        definition = draft_definition(
            "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
            "by practising daily breathing exercises",
            TODAY - timedelta(weeks=2),
        )
        goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)
        app.record_measurement(goal, 2, observed_on=TODAY, actor=THERAPIST)
        app.record_session(episode, held_on=TODAY, actor=THERAPIST)
    _execute(path, "DELETE FROM stored_snapshots")
    code, _stderr, report = verify_cli(path)
    assert code == 0
    assert report["ok"] is True
    _execute(
        path,
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 2",
        (goal.hex,),
    )
    code, _stderr, _report = verify_cli(path)
    assert code == 1


def test_deleting_the_newest_event_of_a_stream_shows_as_a_gap(store: tuple[Path, UUID]) -> None:
    """The newest event of a stream has no successor in its chain; the gap it leaves in the
    store's positions gives it away (unless it is the newest record of the whole store)."""
    path, goal = store
    with GoalpathApp(path, today=lambda: TODAY) as app:
        episode = app.get_goal(goal).episode_id
        app.record_session(episode, held_on=TODAY, actor=THERAPIST)
    _execute(
        path,
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 6",
        (goal.hex,),
    )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    first = report["first_problem"]
    assert isinstance(first, dict)
    assert first["kind"] == "deleted-notification"


def test_deleting_the_newest_record_of_the_whole_store_is_detected(
    store: tuple[Path, UUID],
) -> None:
    """No gap and no broken link: the stream's sealed head and the store's seal give it away."""
    path, goal = store
    _execute(
        path,
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 6",
        (goal.hex,),
    )
    code, stderr, report = verify_cli(path)
    assert code == 1
    kinds = {(p["stream_id"], p["version"], p["kind"]) for p in report["problems"]}  # type: ignore[attr-defined]
    assert (str(goal), 6, "truncated") in kinds
    assert str(goal) in stderr


def test_deleting_newest_records_and_renumbering_positions_is_detected(
    store: tuple[Path, UUID],
) -> None:
    path, goal = store
    with GoalpathApp(path, today=lambda: TODAY) as app:
        episode = app.get_goal(goal).episode_id
        app.record_session(episode, held_on=TODAY, actor=THERAPIST)
    with sqlite3.connect(path) as connection:
        (position,) = connection.execute(
            "SELECT rowid FROM stored_events WHERE originator_id = ? AND originator_version = 6",
            (goal.hex,),
        ).fetchone()
        connection.execute("DELETE FROM stored_events WHERE rowid = ?", (position,))
        connection.execute(
            "UPDATE stored_events SET rowid = rowid - 1 WHERE rowid > ?", (position,)
        )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    kinds = {(p["stream_id"], p["kind"]) for p in report["problems"]}  # type: ignore[attr-defined]
    assert (str(goal), "truncated") in kinds
    assert ("store", "truncated") in kinds


def test_a_forged_stream_head_is_detected(store: tuple[Path, UUID]) -> None:
    path, goal = store
    _execute(
        path,
        "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 6",
        (goal.hex,),
    )
    with sqlite3.connect(path) as connection:
        (chain,) = connection.execute(
            "SELECT substr(state, 18, 32) FROM stored_events "
            "WHERE originator_id = ? AND originator_version = 5",
            (goal.hex,),
        ).fetchone()
        connection.execute(
            "UPDATE goalpath_stream_heads SET version = 5, chain = ? WHERE stream_id = ?",
            (chain, str(goal)),
        )
    code, _stderr, report = verify_cli(path)
    assert code == 1
    kinds = {(p["stream_id"], p["kind"]) for p in report["problems"]}  # type: ignore[attr-defined]
    assert (str(goal), "altered") in kinds


@pytest.fixture
def pg_tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_postgresql_deletions_are_detected_without_position_gaps(pg_tenant: PostgresTenant) -> None:
    """PostgreSQL positions may skip on rollback, so heads and the seal carry the check."""
    with GoalpathApp(
        pg_tenant.url, tenant=pg_tenant.tenant, master_key=pg_tenant.master_key, today=lambda: TODAY
    ) as app:
        episode = app.open_episode(
            client_id="client-pg", therapist_ids=["therapist-7"], opened_on=TODAY, actor=THERAPIST
        )
        definition = draft_definition(
            "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
            "by practising daily breathing exercises",
            TODAY,
        )
        goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)
        app.record_measurement(goal, 2, observed_on=TODAY, actor=THERAPIST)
        app.retire_goal(
            goal, reason_code="entered-in-error", reason="wrong client", actor=THERAPIST
        )
        assert app.verify().ok
        with psycopg.connect(pg_tenant.url, autocommit=True) as connection:
            connection.execute(
                sql.SQL(
                    "DELETE FROM {} WHERE originator_id = %s AND originator_version = 3"
                ).format(sql.Identifier(pg_tenant.schema, "goalpath_events")),
                (goal,),
            )
        report = app.verify()
        assert not report.ok
        first = report.first_problem
        assert first is not None
        assert (first.stream_id, first.version, first.kind) == (str(goal), 3, "truncated")


def test_verify_at_least_reports_a_store_with_fewer_records_than_before(
    store: tuple[Path, UUID],
) -> None:
    path, _goal = store
    ok = CliRunner().invoke(cli, ["--db", str(path), "audit", "verify", "--at-least", "8"])
    assert ok.exit_code == 0
    rolled_back = CliRunner().invoke(
        cli, ["--db", str(path), "audit", "verify", "--at-least", "9", "--json"]
    )
    assert rolled_back.exit_code == 1
    assert "fewer than the 9" in rolled_back.stderr
