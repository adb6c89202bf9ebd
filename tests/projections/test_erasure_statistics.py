"""On PostgreSQL, the planner's statistics keep no erased client's text (pg_stats).

Done-when of the verifiable-history issue: after an erasure plus ANALYZE,
pg_stats holds none of the client's text. ANALYZE before the erasure puts
the text there (checked first, so the test can fail); the erasure's purge
analyses the tables again.
"""

from __future__ import annotations

from datetime import timedelta

import psycopg

from goalpath.core.values import Actor, GoalDefinition
from goalpath.projections import Projections
from tests.projections.stores import ProjectionStore
from tests.strategies import OPENED_ON, THERAPIST, TODAY

SECRET = "zanzibar-phrase"  # noqa: S105  # only the erased client says it, not a password
SUPERVISOR = Actor("supervisor-1", "supervisor")


def _stats_mentioning(store: ProjectionStore, text: str) -> list[tuple[str, str]]:
    with psycopg.connect(store.location, autocommit=True) as server:
        rows = server.execute(
            "SELECT tablename, attname FROM pg_stats WHERE schemaname = %s AND "
            "(most_common_vals::text LIKE %s OR histogram_bounds::text LIKE %s)",
            (store.schema, f"%{text}%", f"%{text}%"),
        ).fetchall()
    return [(str(table), str(column)) for table, column in rows]


def _analyse(store: ProjectionStore) -> None:
    store.query("ANALYZE")


def test_after_an_erasure_pg_stats_holds_none_of_the_clients_text(
    postgres_store: ProjectionStore,
) -> None:
    with postgres_store.app(today=lambda: TODAY) as app, Projections(app) as projections:
        for number in range(6):  # the same words many times: ANALYZE keeps common values
            client = "client-erased" if number % 2 else f"client-{number}"
            episode = app.open_episode(
                client_id=client,
                therapist_ids=["therapist-7"],
                concerns=[SECRET] if client == "client-erased" else ["panic attacks"],
                opened_on=OPENED_ON,
                actor=THERAPIST,
            )
            statement = (
                f"I want to talk about {SECRET}" if client == "client-erased" else "Walk more"
            )
            app.create_goal(
                episode,
                GoalDefinition(statement=statement, start_on=OPENED_ON + timedelta(days=1)),
                actor=THERAPIST,
            )
        projections.catch_up()
        _analyse(postgres_store)
        assert _stats_mentioning(postgres_store, SECRET), "ANALYZE should have sampled the text"
        app.erase_client("client-erased", reason="erasure request 9", actor=SUPERVISOR)
        projections.catch_up()  # applies the erasure and purges the read models
    # (the client's id stays, by design, in the erasure record's own audit row)
    assert _stats_mentioning(postgres_store, SECRET) == []
    _analyse(postgres_store)
    assert _stats_mentioning(postgres_store, SECRET) == []
