"""Units of work: several commands, one transaction, all or nothing (on every store).

"Nothing" is checked on what the store holds, byte for byte: on SQLite the
bytes of the store's files (the events, the heads and seal, the client keys
and the key file; not the ``-shm`` index, which readers update), on
PostgreSQL every row of every table of the tenant's schema, in memory every
stored record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.episode import Episode
from goalpath.core.errors import (
    ConflictError,
    InvalidCommandError,
    InvalidValueError,
    NotAuthorizedError,
    NotSmartError,
)
from goalpath.core.storage.sealed_recorders import SealedPostgresApplicationRecorder
from goalpath.core.values import Actor, GoalDefinition, Target
from tests.conftest import fixed_today
from tests.postgres_support import PostgresTenant, postgres_tenant
from tests.strategies import CATALOG, CONCERNS, GOAL_START, OPENED_ON, THERAPIST, TODAY

Contents = object


def store_contents(app: GoalpathApp) -> Contents:
    """Everything the application's store holds, as comparable values."""
    if app.store.kind == "sqlite":
        folder = Path(app.store_location).parent
        name = Path(app.store_location).name
        return {
            path.name: path.read_bytes()
            for path in sorted(folder.iterdir())
            if path.name.startswith(name) and not path.name.endswith("-shm")
        }
    if app.store.kind == "postgres":
        assert app.store.schema is not None
        return schema_contents(app.store_location, app.store.schema)
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in engine_of(app).recorder.select_notifications(start=1, limit=10**9)
    ]


def schema_contents(url: str, schema: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a PostgreSQL schema, sorted."""
    with psycopg.connect(url, autocommit=True) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (schema,),
            )
        ]
        assert tables  # the events, heads, seal and key tables at least
        return {
            table: sorted(
                connection.execute(
                    sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table))
                ).fetchall(),
                key=repr,
            )
            for table in tables
        }


def open_episode_with_goals(work: GoalpathApp, *second: str, client_id: str = "client-2") -> UUID:
    """An episode and a SMART goal, then a goal for each catalog name in ``second``."""
    episode = work.open_episode(
        client_id=client_id,
        therapist_ids=["therapist-7"],
        concerns=CONCERNS,
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )
    work.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    for name in second:
        work.create_goal(episode, CATALOG[name].definition, actor=THERAPIST, activate=True)
    return episode


@pytest.fixture
def existing(app: GoalpathApp) -> UUID:
    """A goal written before the unit of work, so the store is not empty."""
    return open_episode_with_goals(app, client_id="client-1")


@pytest.mark.usefixtures("existing")
def test_a_unit_failing_at_the_second_goal_leaves_the_store_byte_identical(
    app: GoalpathApp,
) -> None:
    before = store_contents(app)
    with pytest.raises(NotSmartError), app.unit_of_work() as work:
        open_episode_with_goals(work, "vague")  # episode, goal, then a goal that is not SMART
    assert store_contents(app) == before


@pytest.mark.usefixtures("existing")
def test_a_unit_writes_every_command_in_one_transaction(app: GoalpathApp) -> None:
    head = int(engine_of(app).recorder.max_notification_id() or 0)
    with app.unit_of_work() as work:
        episode = open_episode_with_goals(work, "panic-slower")
        assert engine_of(app).recorder.max_notification_id() == head  # nothing written yet
    goals = app.list_goals(episode)
    assert [g.definition for g in goals] == [
        CATALOG["panic"].definition,
        CATALOG["panic-slower"].definition,
    ]
    assert all(g.status == "active" for g in goals)
    # episode opened, two goals created, two goals added to the episode
    assert int(engine_of(app).recorder.max_notification_id() or 0) == head + 5
    assert app.verify().ok


def test_commands_in_a_unit_see_the_units_changes_and_are_checked_as_outside(
    app: GoalpathApp, existing: UUID
) -> None:
    (goal,) = app.list_goals(existing)
    before = store_contents(app)
    colleague = Actor("therapist-8", "therapist")
    with pytest.raises(NotAuthorizedError), app.unit_of_work() as work:  # noqa: PT012
        work.record_measurement(goal.id, 2, observed_on=TODAY, actor=THERAPIST)
        assert len(work.goal_measurements(goal.id)) == 1  # the unit sees its own change
        assert app.goal_measurements(goal.id) == []  # the store does not, yet
        work.record_measurement(goal.id, 1, observed_on=TODAY, actor=colleague)
    assert store_contents(app) == before
    with pytest.raises(InvalidValueError, match="finite"), app.unit_of_work() as work:
        work.record_measurement(goal.id, float("nan"), observed_on=TODAY, actor=THERAPIST)
    assert store_contents(app) == before


def test_another_writers_change_meanwhile_is_a_conflict_and_nothing_is_written(
    app: GoalpathApp, existing: UUID
) -> None:
    (goal,) = app.list_goals(existing)
    with pytest.raises(ConflictError), app.unit_of_work() as work:  # noqa: PT012
        # client-1 has a key already: a new client's key is made as their first record is
        # sealed, and stays (unused) when the write is then refused.
        open_episode_with_goals(work, client_id="client-1")
        work.record_measurement(goal.id, 2, observed_on=TODAY, actor=THERAPIST)
        app.record_measurement(goal.id, 1, observed_on=TODAY, actor=THERAPIST)  # meanwhile
        before = store_contents(app)
    assert store_contents(app) == before
    assert [m.value for m in app.goal_measurements(goal.id)] == [1]


@pytest.mark.usefixtures("existing")
def test_a_unit_refuses_erasure_nesting_and_use_after_its_block(app: GoalpathApp) -> None:
    with app.unit_of_work() as work:
        with pytest.raises(InvalidCommandError, match="nest"), work.unit_of_work():
            pass
        with pytest.raises(InvalidCommandError, match="erasure"):
            work.erase_client("client-1", reason="asked", actor=Actor("supervisor-1", "supervisor"))
    with pytest.raises(InvalidCommandError, match="ended"):
        open_episode_with_goals(work)
    with (
        pytest.raises(InvalidValueError, match="connection"),
        app.unit_of_work(connection=object()),
    ):
        pass


# -- the law -----------------------------------------------------------------------

Command = Callable[[GoalpathApp, UUID, UUID], object]


def _other_target(app: GoalpathApp, goal: UUID) -> Target | None:
    """The target of the other SMART panic goal of the catalog than the goal has now."""
    slower, panic = CATALOG["panic-slower"].definition.target, CATALOG["panic"].definition.target
    return panic if app.get_goal(goal).definition.target == slower else slower


COMMANDS: dict[str, Command] = {
    "measure": lambda app, _episode, goal: app.record_measurement(
        goal, 2, observed_on=TODAY, actor=THERAPIST
    ),
    "session": lambda app, episode, _goal: app.record_session(
        episode, held_on=TODAY, actor=THERAPIST
    ),
    "review": lambda app, _episode, goal: app.review_goal(
        goal, achievement="improving", decision="continue", attainment=1, actor=THERAPIST
    ),
    "refine": lambda app, _episode, goal: app.refine_goal(
        goal, reason="the other pace", target=_other_target(app, goal), actor=THERAPIST
    ),
    "second goal": lambda app, episode, _goal: app.create_goal(
        episode, CATALOG["panic-slower"].definition, actor=THERAPIST, goal_id=uuid4()
    ),
}
FAILURE: Command = lambda app, _episode, goal: app.record_measurement(  # noqa: E731
    goal, -1, observed_on=GOAL_START, actor=THERAPIST
)


def _state(app: GoalpathApp, episode: UUID) -> object:
    """What the episode and its goals hold, apart from ids and recording times."""
    record = app.get_episode(episode)
    return (
        len(record.sessions),
        [
            (g.status, g.definition,
             [(m.value, m.observed_on) for m in app.goal_measurements(g.id)],
             [(r.attainment, r.decision) for r in g.reviews])
            for g in app.list_goals(episode)
        ],
    )  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.sampled_from(sorted(COMMANDS)), min_size=1, max_size=6),
    failing_at=st.none() | st.integers(min_value=0, max_value=6),
)
def test_law_a_unit_is_all_or_nothing_and_the_same_as_its_commands_one_by_one(
    names: list[str], failing_at: int | None
) -> None:
    one_by_one, in_a_unit = (GoalpathApp(":memory:", today=fixed_today) for _ in range(2))
    try:
        subjects = []
        for app in (one_by_one, in_a_unit):
            episode = open_episode_with_goals(app)
            subjects.append((episode, app.list_goals(episode)[0].id))
        commands = [COMMANDS[name] for name in names]
        if failing_at is not None:
            commands.insert(min(failing_at, len(commands)), FAILURE)
        before = store_contents(in_a_unit)
        try:
            with in_a_unit.unit_of_work() as work:
                for command in commands:
                    command(work, *subjects[1])
        except InvalidValueError:
            assert failing_at is not None
            assert store_contents(in_a_unit) == before
            return
        assert failing_at is None
        for command in commands:
            command(one_by_one, *subjects[0])
        assert _state(in_a_unit, subjects[1][0]) == _state(one_by_one, subjects[0][0])
    finally:
        one_by_one.close()
        in_a_unit.close()


# -- inside a host's PostgreSQL transaction --------------------------------------


@pytest.fixture
def tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


@pytest.fixture
def pg_app(tenant: PostgresTenant) -> Iterator[GoalpathApp]:
    app = GoalpathApp(
        tenant.url, tenant=tenant.tenant, master_key=tenant.master_key, today=fixed_today
    )
    open_episode_with_goals(app, client_id="client-1")
    yield app
    app.close()


def test_a_unit_in_a_hosts_transaction_rolls_back_with_it(
    pg_app: GoalpathApp, tenant: PostgresTenant
) -> None:
    before = schema_contents(tenant.url, tenant.schema)
    with psycopg.connect(tenant.url) as host:
        host.execute("CREATE TEMPORARY TABLE host_orders (id int)")  # the host's own write
        with pg_app.unit_of_work(connection=host) as work:
            episode = open_episode_with_goals(work, "panic-slower", client_id="client-1")
        recorder = engine_of(pg_app).recorder
        assert isinstance(recorder, SealedPostgresApplicationRecorder)
        table = sql.Identifier(tenant.schema, recorder.events_table_name)
        in_host = host.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        host.rollback()
    assert in_host == (len(before[recorder.events_table_name]) + 5,)  # the host saw them
    assert schema_contents(tenant.url, tenant.schema) == before
    # The application goes on as if the unit had never been: chains and heads are intact.
    again = open_episode_with_goals(pg_app, client_id="client-1")
    assert episode != again
    assert pg_app.verify().ok


def test_a_unit_in_a_hosts_transaction_is_stored_when_the_host_commits(
    pg_app: GoalpathApp, tenant: PostgresTenant
) -> None:
    with psycopg.connect(tenant.url) as host, host.transaction():
        with pg_app.unit_of_work(connection=host) as work:
            episode = open_episode_with_goals(work, "panic-slower", client_id="client-3")
        assert host.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
    assert len(pg_app.list_goals(episode)) == 2
    assert pg_app.verify().ok


def test_a_failing_unit_in_a_hosts_transaction_leaves_the_host_transaction_usable(
    pg_app: GoalpathApp, tenant: PostgresTenant
) -> None:
    with psycopg.connect(tenant.url) as host:
        with (
            pytest.raises(InvalidValueError, match="not inside a transaction"),
            pg_app.unit_of_work(connection=host),
        ):
            pass
        host.execute("SELECT 1")
        with pytest.raises(NotSmartError), pg_app.unit_of_work(connection=host) as work:
            open_episode_with_goals(work, "vague", client_id="client-1")
        assert host.execute("SELECT 2").fetchone() == (2,)
        host.rollback()


def _doc_record_intake() -> Callable[..., None]:
    """docs/embedding.md's ``record_intake``, as the doc defines it."""
    doc = Path(__file__).parents[2] / "docs" / "embedding.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
    [block] = [block for block in blocks if "def record_intake" in block]
    namespace: dict[str, Any] = {
        "GoalpathApp": GoalpathApp,
        "GoalDefinition": GoalDefinition,
        "therapist": THERAPIST,
    }
    exec(compile(block, str(doc), "exec"), namespace)  # noqa: S102  # the doc's own code
    function: Callable[..., None] = namespace["record_intake"]
    return function


def test_the_docs_host_intake_commits_and_rolls_back_with_the_host(
    pg_app: GoalpathApp, tenant: PostgresTenant
) -> None:
    record_intake = _doc_record_intake()
    with psycopg.connect(tenant.url) as host:
        host.execute("CREATE TEMPORARY TABLE intake_forms (client_id text)")
        host.commit()
        record_intake(pg_app, host, "client-1", CATALOG["panic"].definition)
        before = schema_contents(tenant.url, tenant.schema)
        with pytest.raises(NotSmartError):
            record_intake(pg_app, host, "client-1", CATALOG["vague"].definition)
        forms = host.execute("SELECT client_id FROM intake_forms").fetchall()
    assert forms == [("client-1",)]  # the host's row of the refused intake is gone too
    assert schema_contents(tenant.url, tenant.schema) == before
    opened = [
        event
        for _position, event in pg_app.iter_events()
        if isinstance(event, Episode.Opened) and event.client_id == "client-1"
    ]
    assert len(opened) == 2  # the fixture's episode and the committed intake's
    assert pg_app.verify().ok
