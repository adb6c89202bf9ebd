"""A cut PostgreSQL connection recovers: after every connection of a running app is terminated
(``pg_terminate_backend``), the next command of each kind succeeds.

Issue 17, done-when 2. The app runs in a database of its own, so the test
terminates only that database's connections, never another test's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from goalpath.cli.projection_process import _StopFlag, _Waker  # the process's own waker
from goalpath.core.application import GoalpathApp
from goalpath.core.storage.keys import MasterKey
from goalpath.core.values import Actor
from goalpath.projections import Projections
from goalpath.projections.postgres_read_model_store import PostgresReadModelStore
from tests.postgres_support import require_postgres
from tests.strategies import PANIC_FROM_FOUR as DEFINITION

TODAY: Final = date(2026, 5, 1)
THERAPIST: Final = Actor("therapist-7", "therapist")
SUPERVISOR: Final = Actor("supervisor-2", "supervisor")
TERMINATION_WAIT_MS: Final = 10_000
"""How long a cut waits for each terminated server process to have exited."""


def _in_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own on the test server; its URL."""
    server = require_postgres()
    name = f"goalpath_cut_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _in_database(server, name)
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def cut_every_connection(url: str) -> int:
    """Terminate every server connection to ``url``'s database; how many there were.

    Each termination is waited for (``pg_terminate_backend``'s timeout, in
    milliseconds): once this returns, every cut socket is closed, so the
    client's next read of it fails at once, however short its own timeout.
    """
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_in_database(url, "postgres"), autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid, %s) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (TERMINATION_WAIT_MS, name),
        ).fetchall()
    return sum(1 for (terminated,) in rows if terminated)


Command = Callable[[GoalpathApp, Projections, dict[str, Any]], object]


def _open(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    ids["episode"] = app.open_episode(
        client_id=f"client-{uuid.uuid4().hex[:6]}",
        therapist_ids=["therapist-7"],
        actor=THERAPIST,
        opened_on=date(2026, 3, 1),
    )
    return ids["episode"]


def _create(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    ids["goal"] = app.create_goal(ids["episode"], DEFINITION, actor=THERAPIST, activate=True)
    return ids["goal"]


def _measure(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    app.record_measurement(ids["goal"], 3, observed_on=date(2026, 3, 9), actor=THERAPIST)
    return None


def _review(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    app.review_goal(
        ids["goal"],
        achievement="improving",
        decision="continue",
        reviewed_on=date(2026, 3, 16),
        actor=THERAPIST,
    )
    return None


def _show(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    return app.get_goal(ids["goal"]).version


def _plan(_app: GoalpathApp, projections: Projections, ids: dict[str, Any]) -> object:
    return len(projections.plan_for_episode(ids["episode"]).goals)


def _verify(app: GoalpathApp, _p: Projections, _ids: dict[str, Any]) -> object:
    return app.verify().ok


def _erase(app: GoalpathApp, _p: Projections, ids: dict[str, Any]) -> object:
    client = app.get_episode(ids["episode"]).client_id
    app.erase_client(client, reason="the client asked to be forgotten", actor=SUPERVISOR)
    return None


COMMANDS: Final[list[tuple[str, Command]]] = [
    ("open an episode", _open),
    ("create a goal", _create),
    ("record a measurement", _measure),
    ("review a goal", _review),
    ("show a goal", _show),
    ("read the plan", _plan),
    ("verify the store", _verify),
    ("erase a client", _erase),
]


def test_after_every_connection_is_cut_the_next_command_of_each_kind_succeeds(
    database: str,
) -> None:
    master_key = MasterKey.generate()
    with GoalpathApp(database, tenant="cut", master_key=master_key, today=lambda: TODAY) as app:
        projections = Projections(app, store=PostgresReadModelStore.for_store(app.store))
        try:
            ids: dict[str, Any] = {}
            for _name, command in COMMANDS[:-1]:
                command(app, projections, ids)  # every kind once, so every connection is open
            failures = []
            assert cut_every_connection(database) > 0
            for name, command in COMMANDS:
                cut_every_connection(database)
                try:
                    command(app, projections, ids)
                except Exception as error:  # each failure is reported below
                    failures.append(f"{name}: {type(error).__name__}: {error}")
            assert failures == []
        finally:
            projections.close()


def test_the_projection_process_listens_again_after_its_connection_is_cut(database: str) -> None:
    with GoalpathApp(database, tenant="cut", master_key=MasterKey.generate()) as app:
        waker = _Waker(app, poll_seconds=0.01, stop=_StopFlag())
        try:
            assert waker.mode == "LISTEN/NOTIFY and polling"
            assert cut_every_connection(database) > 0
            waker.wait()  # the lost listener is noticed: polling meanwhile
            waker.wait()  # and the next wait listens again
            assert waker.mode == "LISTEN/NOTIFY and polling"
            name = urlsplit(database).path.lstrip("/")
            with psycopg.connect(_in_database(database, "postgres"), autocommit=True) as check:
                listening = check.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND query LIKE 'LISTEN%%'",
                    (name,),
                ).fetchone()
            assert listening == (1,)
        finally:
            waker.close()
