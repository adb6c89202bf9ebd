"""The key table under verification: every key row sealed, every erasure recorded.

Tampers with the key table, as someone with access to the database would
make them, are each reported by ``audit verify``: a deleted key row, a key
destroyed with no erasure record, two clients' lookups swapped, a destroyed
key put back. A store opened with a wrong (but well-formed) master key
refuses every write before anything is written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from goalpath.core import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import TamperedError
from goalpath.core.storage.keys import KeyConfigurationError, MasterKey
from tests.core.history_support import SUPERVISOR, TODAY, add_client, execute, measure
from tests.postgres_support import PostgresTenant, postgres_tenant

KEYS = "goalpath_client_keys"


def _kinds(app: GoalpathApp) -> set[tuple[str, str]]:
    return {(problem.stream_id, problem.kind) for problem in app.verify().problems}


def _two_clients(db: Path) -> tuple[list[str], list[object]]:
    with GoalpathApp(db, today=lambda: TODAY) as app:
        goals: list[object] = [add_client(app, "client-a"), add_client(app, "client-b")]
        assert app.verify().ok
    with sqlite3.connect(db) as connection:
        rows = connection.execute(f"SELECT key_id FROM {KEYS} ORDER BY rowid")  # noqa: S608
        key_ids = [row[0] for row in rows]
    return key_ids, goals


def test_deleting_a_key_row_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "deleted.db"
    key_ids, _goals = _two_clients(db)
    execute(db, (f"DELETE FROM {KEYS} WHERE key_id = ?", (key_ids[0],)))  # noqa: S608
    with GoalpathApp(db, today=lambda: TODAY) as app:
        report = app.verify()
    kinds = {problem.kind for problem in report.problems}
    assert kinds == {"key-missing"}
    assert any(key_ids[0] in problem.detail for problem in report.problems)


def test_a_faked_erasure_is_reported(tmp_path: Path) -> None:
    """A key destroyed in the table, with no erasure record: the row's seal and the log disagree."""
    db = tmp_path / "faked.db"
    key_ids, _goals = _two_clients(db)
    execute(
        db,
        (
            f"UPDATE {KEYS} SET wrapped_key = NULL, erased_on = '2026-05-01' WHERE key_id = ?",  # noqa: S608
            (key_ids[1],),
        ),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        assert _kinds(app) == {("key-table", "key-altered"), ("key-table", "erasure-unrecorded")}


def test_swapped_lookups_are_reported_before_and_after_an_erasure(tmp_path: Path) -> None:
    db = tmp_path / "swapped.db"
    key_ids, _goals = _two_clients(db)
    with sqlite3.connect(db) as connection:
        refs = dict(connection.execute(f"SELECT key_id, client_ref FROM {KEYS}").fetchall())  # noqa: S608
    swap = f"UPDATE {KEYS} SET client_ref = ? WHERE key_id = ?"  # noqa: S608
    execute(
        db,
        (swap, (b"\x00", key_ids[0])),
        (swap, (refs[key_ids[0]], key_ids[1])),
        (swap, (refs[key_ids[1]], key_ids[0])),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        problems = app.verify().problems
        assert [problem.kind for problem in problems] == ["key-altered", "key-altered"]
        # Erasing client-b through the swapped row would destroy client-a's key: refused.
        with pytest.raises(TamperedError, match="could destroy another client's key"):
            app.erase_client("client-b", reason="request 7", actor=SUPERVISOR)
        assert not engine_of(app).keys.is_erased(UUID(key_ids[0]))
        assert not engine_of(app).keys.is_erased(UUID(key_ids[1]))


def test_a_destroyed_key_put_back_is_reported(tmp_path: Path) -> None:
    """Copying an erased client's key row back from a backup 'un-erases' them: reported."""
    db = tmp_path / "restored.db"
    key_ids, _goals = _two_clients(db)
    with sqlite3.connect(db) as connection:
        saved_key = connection.execute(
            f"SELECT * FROM {KEYS} WHERE key_id = ?",  # noqa: S608
            (key_ids[0],),
        ).fetchone()
        saved_seal = connection.execute(
            "SELECT * FROM goalpath_key_seals WHERE key_id = ?", (key_ids[0],)
        ).fetchone()
    with GoalpathApp(db, today=lambda: TODAY) as app:
        app.erase_client("client-a", reason="request 8", actor=SUPERVISOR)
        assert app.verify().ok
    execute(
        db,
        (f"DELETE FROM {KEYS} WHERE key_id = ?", (key_ids[0],)),  # noqa: S608
        (f"INSERT INTO {KEYS} VALUES (?, ?, ?, ?)", saved_key),  # noqa: S608
        ("INSERT OR REPLACE INTO goalpath_key_seals VALUES (?, ?)", saved_seal),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        kinds = {kind for _stream, kind in _kinds(app)}
    assert kinds == {"erasure-undone"}


def _row_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in tables
        }


def test_a_wrong_master_key_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "wrong.db"
    _key_ids, goals = _two_clients(db)
    before = _row_counts(db)
    with GoalpathApp(db, today=lambda: TODAY, master_key=MasterKey.generate()) as wrong:
        with pytest.raises(KeyConfigurationError, match="key-check value"):
            add_client(wrong, "client-new")
        with pytest.raises(KeyConfigurationError, match="key-check value"):
            measure(wrong, goals[0], 2)  # type: ignore[arg-type]
        report = wrong.verify()
        assert report.problems[0].kind == "wrong-master-key"
    assert _row_counts(db) == before
    with GoalpathApp(db, today=lambda: TODAY) as right:
        assert right.verify().ok


def test_an_old_store_gets_its_key_check_and_seals_on_first_open_with_the_right_key(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    _two_clients(db)
    execute(db, ("DROP TABLE goalpath_key_check", ()), ("DROP TABLE goalpath_key_seals", ()))
    with GoalpathApp(db, today=lambda: TODAY, master_key=MasterKey.generate()) as wrong:
        assert engine_of(wrong).keys.master_key_problem is not None
    assert _row_counts(db)["goalpath_key_check"] == 0  # a wrong key records nothing
    with GoalpathApp(db, today=lambda: TODAY) as right:
        assert right.verify().ok
    counts = _row_counts(db)
    assert (counts["goalpath_key_check"], counts["goalpath_key_seals"]) == (1, 2)


def test_a_deleted_seal_is_never_made_up_again(tmp_path: Path) -> None:
    """Deleting the key check and one row's seal does not get that row sealed anew."""
    db = tmp_path / "reseal.db"
    key_ids, _goals = _two_clients(db)
    execute(
        db,
        ("DELETE FROM goalpath_key_check", ()),
        ("DELETE FROM goalpath_key_seals WHERE key_id = ?", (key_ids[0],)),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        assert _kinds(app) == {("key-table", "key-altered")}


@pytest.fixture
def pg_tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_postgresql_key_table_tampers_and_a_wrong_key(pg_tenant: PostgresTenant) -> None:
    def app(key: MasterKey = pg_tenant.master_key) -> GoalpathApp:
        return GoalpathApp(
            pg_tenant.url, tenant=pg_tenant.tenant, master_key=key, today=lambda: TODAY
        )

    with app() as store:
        add_client(store, "client-a")
        add_client(store, "client-b")
        store.erase_client("client-b", reason="request 9", actor=SUPERVISOR)
        assert store.verify().ok
    table = sql.Identifier(pg_tenant.schema, KEYS)
    with psycopg.connect(pg_tenant.url, autocommit=True) as connection:
        (events,) = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(pg_tenant.schema, "goalpath_events")
            )
        ).fetchone()  # type: ignore[misc]
    with app(MasterKey.generate()) as wrong:
        with pytest.raises(KeyConfigurationError, match="key-check value"):
            add_client(wrong, "client-c")
        assert wrong.verify().problems[0].kind == "wrong-master-key"
    with psycopg.connect(pg_tenant.url, autocommit=True) as connection:
        (after,) = connection.execute(
            sql.SQL("SELECT count(*) FROM {}").format(
                sql.Identifier(pg_tenant.schema, "goalpath_events")
            )
        ).fetchone()  # type: ignore[misc]
        assert after == events
        connection.execute(
            sql.SQL(
                "UPDATE {} SET wrapped_key = NULL, erased_on = 'faked' WHERE erased_on IS NULL"
            ).format(table)
        )
    with app() as store:
        kinds = {problem.kind for problem in store.verify().problems}
    assert kinds == {"key-altered", "erasure-unrecorded"}
    with psycopg.connect(pg_tenant.url, autocommit=True) as connection:
        connection.execute(sql.SQL("DELETE FROM {}").format(table))
    with app() as store:
        kinds = {problem.kind for problem in store.verify().problems}
    assert "key-missing" in kinds
