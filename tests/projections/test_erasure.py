"""Erasing a client: the read models drop their rows, and no plaintext of theirs remains."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.values import Actor, GoalDefinition
from goalpath.projections import Projections, SQLiteReadModelStore
from tests.conftest import fixed_today
from tests.projections.stores import ProjectionStore
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, THERAPIST

PRIVATE_STATEMENT = "Visit my sister Quillonia in Zarkesh every fortnight by train"
PRIVATE_CONCERN = "estrangement from Quillonia"


def _files_contain(db: Path, text: str) -> bool:
    needle = text.encode()
    return any(
        needle in Path(f"{db}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{db}{suffix}").exists()
    )


def test_an_erased_client_leaves_no_rows_and_no_plaintext(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    with GoalpathApp(db, today=fixed_today) as app, Projections(app) as projections:
        secret = app.open_episode(
            client_id="client-secret",
            therapist_ids=["therapist-7"],
            concerns=[PRIVATE_CONCERN],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        goal_id = app.create_goal(
            secret,
            GoalDefinition(statement=PRIVATE_STATEMENT, start_on=GOAL_START),
            actor=THERAPIST,
        )
        other = app.open_episode(
            client_id="client-other",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        kept = app.create_goal(other, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
        assert projections.plan_for_episode(secret).goals[0].record.goal_id == goal_id
        assert _files_contain(db, PRIVATE_STATEMENT)

        app.erase_client("client-secret", reason="request 42", actor=Actor("sup-1", "supervisor"))
        projections.catch_up()

        assert projections.episode_ids_of_client("client-secret") == []
        assert projections.audit_log(goal_id=goal_id) == []
        [erasure] = projections.audit_log(client_id="client-secret")
        assert (erasure.stream_type, erasure.actor_id, erasure.reason) == (
            "erasure",
            "sup-1",
            "request 42",
        )
        assert [g.goal_id for g in projections.plan_for_episode(other).goals] == [kept]
        assert projections.dump() == _rebuilt(app)
        assert not _files_contain(db, PRIVATE_STATEMENT)
        assert not _files_contain(db, PRIVATE_CONCERN)


def test_a_rebuild_after_an_erasure_skips_the_unreadable_events(tmp_path: Path) -> None:
    with GoalpathApp(tmp_path / "store.db", today=fixed_today) as app:
        episode = app.open_episode(
            client_id="client-gone",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        app.create_goal(episode, CATALOG["vague"].definition, actor=THERAPIST)
        app.erase_client("client-gone", reason="retention", actor=Actor("system", "system"))
        with Projections(app) as projections:
            result = projections.rebuild()
            assert result.position == engine_of(app).recorder.max_notification_id()
            assert projections.status().rows["gp_goals"] == 0
            assert [e.stream_type for e in projections.audit_log()] == ["erasure"]


def _rebuilt(app: GoalpathApp) -> object:
    with Projections(app, store=SQLiteReadModelStore(":memory:")) as fresh:
        fresh.catch_up()
        return fresh.dump()


def _server_files_of(store: ProjectionStore) -> dict[str, bytes] | None:
    """The data files of the store's schema, by table, after a checkpoint; None if unreadable."""
    with psycopg.connect(store.location, autocommit=True) as connection:
        try:
            connection.execute("CHECKPOINT")
        except psycopg.Error:
            return None
        data_directory = Path(connection.execute("SHOW data_directory").fetchone()[0])  # type: ignore[index]
        files: dict[str, bytes] = {}
        for table, relative in connection.execute(
            "SELECT tablename, pg_relation_filepath(format('%%I.%%I', schemaname, tablename)) "
            "FROM pg_tables WHERE schemaname = %s",
            (store.schema,),
        ).fetchall():
            try:
                files[table] = b"".join(
                    path.read_bytes() for path in sorted(data_directory.glob(f"{relative}*"))
                )
            except OSError:
                return None
        return files


def test_an_erased_client_leaves_no_rows_and_no_plaintext_in_the_server_tables(
    postgres_store: ProjectionStore,
) -> None:
    with postgres_store.app(today=fixed_today) as app, Projections(app) as projections:
        secret = app.open_episode(
            client_id="client-secret",
            therapist_ids=["therapist-7"],
            concerns=[PRIVATE_CONCERN],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        goal_id = app.create_goal(
            secret,
            GoalDefinition(statement=PRIVATE_STATEMENT, start_on=GOAL_START),
            actor=THERAPIST,
        )
        other = app.open_episode(
            client_id="client-other",
            therapist_ids=["therapist-7"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        kept = app.create_goal(other, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
        assert projections.plan_for_episode(secret).goals[0].record.goal_id == goal_id
        keys_before = _wrapped_keys(postgres_store)
        assert len(keys_before) == 2
        before = _server_files_of(postgres_store)
        if before is None:
            pytest.skip("the server's data files are not readable by this user")
        assert any(PRIVATE_STATEMENT.encode() in data for data in before.values())

        app.erase_client("client-secret", reason="request 42", actor=Actor("sup-1", "supervisor"))
        projections.catch_up()

        assert projections.episode_ids_of_client("client-secret") == []
        assert projections.audit_log(goal_id=goal_id) == []
        assert [e.stream_type for e in projections.audit_log(client_id="client-secret")] == [
            "erasure"
        ]
        assert [g.goal_id for g in projections.plan_for_episode(other).goals] == [kept]
        assert projections.dump() == _rebuilt(app)
        after = _server_files_of(postgres_store)
        assert after is not None
        for table, data in after.items():
            if table.startswith("gp_"):
                assert PRIVATE_STATEMENT.encode() not in data, table
                assert PRIVATE_CONCERN.encode() not in data, table
        [destroyed] = keys_before - _wrapped_keys(postgres_store)
        assert destroyed not in after["goalpath_client_keys"]


def _wrapped_keys(store: ProjectionStore) -> set[bytes]:
    return {
        bytes(wrapped)
        for (wrapped,) in store.query(
            "SELECT wrapped_key FROM goalpath_client_keys WHERE wrapped_key IS NOT NULL"
        )
    }
