"""goalpath on PostgreSQL against bare eventsourcing on the same server, and tenants in parallel.

Three comparisons, each measured side by side in one run:

- appends: recording one measurement per command (load the goal, one
  event, save) through :class:`GoalpathApp` (validation, hash chain,
  encryption) against a plain ``eventsourcing.application.Application``
  with ``PERSISTENCE_MODULE=eventsourcing.postgres`` storing the same
  aggregate's events in a schema of its own, interleaved in rounds;
- projection catch-up: goalpath's batched runner (audit log and state
  tables, one transaction per batch) against eventsourcing's own
  ``ProjectionRunner`` with a one-row-per-event view (one transaction per
  event, as the library's projections commit), on logs of the same events;
- tenants: the write throughput of 4 processes each writing to its own
  tenant, against 1 process writing to 1 tenant; for contrast, 4 processes
  writing to one tenant (whose events table is locked per write).

The server is ``GOALPATH_BENCH_DATABASE_URL`` (default: the test server);
every schema the benchmark creates is dropped afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from functools import singledispatchmethod
from typing import Any, Final
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import JSONTranscoder, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import Environment, EnvType
from psycopg import sql

from benchmarks import Result
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.core.storage.keys import MasterKey
from goalpath.core.storage.locations import store_spec
from goalpath.core.storage.transcodings import register_goalpath_transcodings
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.projections import Projections

__all__ = ["NAME", "run"]

NAME: Final = "postgres"
URL: Final = os.environ.get("GOALPATH_BENCH_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
KEY: Final = MasterKey(bytes(range(32)))

TODAY: Final = date(2026, 1, 1)
START: Final = date(2025, 1, 6)
THERAPIST: Final = Actor("therapist-1", "therapist")
DEFINITION: Final = GoalDefinition(
    statement=(
        "I will reduce my panic attacks from 6 to 1 per week within 40 weeks "
        "by practising daily breathing exercises"
    ),
    start_on=START,
    measure=Measure(
        name="panic attacks", unit="per week", direction="decrease", minimum=0, maximum=50
    ),
    target=Target(baseline=6, value=1, due_on=START + timedelta(weeks=40)),
    area="symptom-relief",
    practices=("daily breathing exercises",),
)
GOALS: Final = 10
"""Goals written to in turn by the append benchmark."""

APPEND_TARGET: Final = 1.5
"""goalpath's time per append at most this many times bare eventsourcing's (issue 7's
SQLite target for the same operation, applied to PostgreSQL)."""
CATCH_UP_TARGET: Final = 1.0
"""goalpath's batched catch-up at least as fast as eventsourcing's own runner."""
TENANT_TARGET: Final = 1.3
"""4 tenants written in parallel give at least 1.3 times the throughput of 1 (2 cores)."""


def _day(index: int) -> date:
    return START + timedelta(days=(index * 3) % 350)


def _ratio_text(ratios: Sequence[float]) -> str:
    return f"{min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)}"


# -- the baseline: eventsourcing on the same server, its own schema ------------------


def _bare_env(schema: str) -> dict[str, str]:
    """The library's own PostgreSQL settings: the server's connection, nothing of goalpath's."""
    connection = ("DBNAME", "HOST", "PORT", "USER", "PASSWORD", "CONNECT_TIMEOUT", "LOCK_TIMEOUT")
    env = {f"POSTGRES_{name}": store_spec(URL).env[f"POSTGRES_{name}"] for name in connection}
    env["PERSISTENCE_MODULE"] = "eventsourcing.postgres"
    env["POSTGRES_SCHEMA"] = schema
    env["IS_SNAPSHOTTING_ENABLED"] = "y"
    return env


class BarePostgresApp(Application[UUID]):
    """Plain eventsourcing on PostgreSQL: goalpath's aggregates, the library's default mapper."""

    name = "bare"
    snapshotting_intervals: Final = {Goal: 50}  # type: ignore[misc]  # as goalpath's default

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings."""
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus goalpath's value objects."""
        super().register_transcodings(transcoder)
        register_goalpath_transcodings(transcoder)

    def record_measurement(self, goal_id: UUID, value: float, observed_on: date) -> None:
        """Load the goal, trigger one event, save: the bare form of goalpath's command."""
        goal: Goal = self.repository.get(goal_id)
        goal.measure(value, observed_on=observed_on, actor=THERAPIST, today=TODAY)
        self.save(goal)


class AuditView(PostgresTrackingRecorder):
    """A one-row-per-event view: position, stream, version, event type, with its tracking."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = sql.Identifier(datastore.schema, "bare_audit")
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (position bigint PRIMARY KEY, "
                "originator_id text NOT NULL, originator_version bigint NOT NULL, "
                "event_type text NOT NULL)"
            ).format(self.table)
        )

    def record(self, event: DomainEventProtocol[Any], tracking: Tracking) -> None:
        """Insert the event's row and the tracking position in one transaction."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s)").format(self.table),
                (
                    tracking.notification_id,
                    str(event.originator_id),
                    event.originator_version,
                    type(event).__name__,
                ),
            )
            self._insert_tracking(cursor, tracking)


class AuditProjection(Projection[AuditView]):
    """eventsourcing's projection pattern: one event in, one row and its tracking out."""

    name = "bare_audit"

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """Record every event."""
        self.view.record(domain_event, tracking)


# -- schemas ----------------------------------------------------------------------------


def _drop_schemas(names: Sequence[str]) -> None:
    with psycopg.connect(URL, autocommit=True) as connection:
        for name in names:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
            )


def _create_schema(name: str) -> None:
    with psycopg.connect(URL, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(name)))


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


# -- appends ----------------------------------------------------------------------------


def _goalpath_goals(app: GoalpathApp) -> list[UUID]:
    episode_id = app.open_episode(
        client_id="client-append",
        therapist_ids=[THERAPIST.id],
        concerns=["panic attacks"],
        opened_on=START,
        actor=THERAPIST,
    )
    return [
        app.create_goal(episode_id, DEFINITION, actor=THERAPIST, activate=True)
        for _ in range(GOALS)
    ]


def _bare_goals(app: BarePostgresApp) -> list[UUID]:
    episode = Episode.open(
        client_id="client-append",
        therapist_ids=(THERAPIST.id,),
        concerns=("panic attacks",),
        opened_on=START,
        actor=THERAPIST,
        today=TODAY,
    )
    goals = [
        Goal.state(
            episode_id=episode.id,
            client_id=episode.client_id,
            definition=DEFINITION,
            actor=THERAPIST,
            concerns=("panic attacks",),
            activate=True,
        )
        for _ in range(GOALS)
    ]
    app.save(episode, *goals)
    return [goal.id for goal in goals]


def _appends(quick: bool) -> Result:
    rounds, per_round = (3, 60) if quick else (5, 400)
    tenant = f"bench_{_suffix()}"
    bare_schema = f"bench_bare_{_suffix()}"
    _create_schema(bare_schema)
    goalpath_times: list[float] = []
    bare_times: list[float] = []
    try:
        with (
            GoalpathApp(URL, tenant=tenant, master_key=KEY, today=lambda: TODAY) as app,
            BarePostgresApp(env=_bare_env(bare_schema)) as bare,
        ):
            goalpath_goals, bare_goals = _goalpath_goals(app), _bare_goals(bare)

            def goalpath_side(offset: int) -> None:
                for index in range(offset, offset + per_round):
                    app.record_measurement(
                        goalpath_goals[index % GOALS],
                        float(6 - index % 6),
                        actor=THERAPIST,
                        observed_on=_day(index),
                    )

            def bare_side(offset: int) -> None:
                for index in range(offset, offset + per_round):
                    bare.record_measurement(
                        bare_goals[index % GOALS], float(6 - index % 6), _day(index)
                    )

            sides: list[tuple[Callable[[int], None], list[float]]] = [
                (goalpath_side, goalpath_times),
                (bare_side, bare_times),
            ]
            for number in range(rounds):
                for side, times in sides if number % 2 else sides[::-1]:
                    started = time.perf_counter()
                    side(number * per_round)
                    times.append(time.perf_counter() - started)
    finally:
        _drop_schemas([f"goalpath_{tenant}", bare_schema])
    ratios = [mine / theirs for mine, theirs in zip(goalpath_times, bare_times, strict=True)]
    ratio = statistics.median(ratios)
    events = rounds * per_round
    return Result(
        NAME,
        "append: one measurement per command",
        events,
        sum(goalpath_times),
        {"rounds": rounds, "commands per round": per_round},
        goalpath=f"{events / sum(goalpath_times):,.0f} events/s",
        baseline=f"{events / sum(bare_times):,.0f} events/s (bare eventsourcing)",
        ratio=ratio,
        spread=_ratio_text(ratios),
        target=f"<= {APPEND_TARGET}x bare's time",
        holds=ratio <= APPEND_TARGET,
    )


# -- catch-up ---------------------------------------------------------------------------

EVENTS_PER_GOAL: Final = 50
GOALS_PER_EPISODE: Final = 10


def _history(events: int) -> list[list[Any]]:
    """Aggregates to save, a few at a time: episodes of goals, measured and reviewed."""
    saves: list[list[Any]] = []
    goal_count = max(events // (EVENTS_PER_GOAL + 2), 1)
    episode: Episode | None = None
    pending: list[Any] = []
    for index in range(goal_count):
        if index % GOALS_PER_EPISODE == 0:
            if episode is not None:
                saves.append([episode, *pending])
                pending = []
            episode = Episode.open(
                client_id=f"client-{index // GOALS_PER_EPISODE}",
                therapist_ids=(f"therapist-{index % 7}",),
                concerns=("panic attacks",),
                opened_on=START,
                actor=THERAPIST,
                today=TODAY,
            )
        assert episode is not None
        goal = Goal.state(
            episode_id=episode.id,
            client_id=episode.client_id,
            definition=DEFINITION,
            actor=THERAPIST,
            concerns=("panic attacks",),
            activate=True,
        )
        episode.add_goal(goal.id, THERAPIST, stated_at=goal.created_on)
        for step in range(EVENTS_PER_GOAL - 1):
            if step % 10 == 9:
                goal.review(
                    reviewed_on=_day(step),
                    achievement="improving",
                    decision="continue",
                    actor=THERAPIST,
                    today=TODAY,
                    attainment=(step // 10) % 5 - 2,
                )
            else:
                goal.measure(6 - (step % 6), observed_on=_day(step), actor=THERAPIST, today=TODAY)
        pending.append(goal)
        if len(pending) >= 5:
            saves.append(pending)
            pending = []
    if episode is not None:
        saves.append([episode, *pending])
    return saves


def _bare_catch_up(env: dict[str, str], head: int) -> float:
    started = time.perf_counter()
    with ProjectionRunner(
        application_class=BarePostgresApp,
        projection_class=AuditProjection,
        view_class=AuditView,
        env=env,
    ) as runner:
        runner.wait(head, timeout=3600)
    return time.perf_counter() - started


def _catch_up(quick: bool) -> Result:
    events, rounds = (2_000, 2) if quick else (20_000, 3)
    tenant = f"bench_{_suffix()}"
    bare_schema = f"bench_bare_{_suffix()}"
    _create_schema(bare_schema)
    env = _bare_env(bare_schema)
    goalpath_times: list[float] = []
    bare_times: list[float] = []
    try:
        with (
            GoalpathApp(
                URL, tenant=tenant, master_key=KEY, today=lambda: TODAY, snapshot_interval=0
            ) as app,
            BarePostgresApp(env=env) as bare,
        ):
            for aggregates in _history(events):
                engine_of(app).save(*aggregates)
            for aggregates in _history(events):
                bare.save(*aggregates)
            head = int(engine_of(app).recorder.max_notification_id() or 0)
            assert head == int(bare.recorder.max_notification_id() or 0)
            with Projections(app, batch_size=1000, catch_up_on_read=False) as projections:
                for _ in range(rounds):
                    started = time.perf_counter()
                    result = projections.rebuild()
                    goalpath_times.append(time.perf_counter() - started)
                    assert result.applied == head
                    _clear_bare_view(bare_schema)
                    bare_times.append(_bare_catch_up(env, head))
    finally:
        _drop_schemas([f"goalpath_{tenant}", bare_schema])
    ratios = [theirs / mine for mine, theirs in zip(goalpath_times, bare_times, strict=True)]
    ratio = statistics.median(ratios)
    return Result(
        NAME,
        f"catch up {head:,} events from zero",
        head,
        statistics.median(goalpath_times),
        {"goalpath batch size": 1000, "rounds": rounds},
        goalpath=f"{head / statistics.median(goalpath_times):,.0f} events/s",
        baseline=(
            f"{head / statistics.median(bare_times):,.0f} events/s "
            "(eventsourcing ProjectionRunner, one row per event)"
        ),
        ratio=ratio,
        spread=_ratio_text(ratios),
        target=f">= {CATCH_UP_TARGET}x the event rate",
        holds=ratio >= CATCH_UP_TARGET,
    )


def _clear_bare_view(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as connection:
        for table in ("bare_audit", f"{AuditProjection.name}_tracking"):
            connection.execute(
                sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, table))
            )


# -- tenants in parallel ----------------------------------------------------------------


def _tenant_writer(
    tenant: str, commands: int, barrier: Any, results: Any, worker: int
) -> None:  # pragma: no cover - runs in a child process
    with GoalpathApp(URL, tenant=tenant, master_key=KEY, today=lambda: TODAY) as app:
        episode_id = app.open_episode(
            client_id=f"client-{worker}",
            therapist_ids=[THERAPIST.id],
            concerns=["panic attacks"],
            opened_on=START,
            actor=THERAPIST,
        )
        goals = [
            app.create_goal(episode_id, DEFINITION, actor=THERAPIST, activate=True)
            for _ in range(GOALS)
        ]
        barrier.wait()
        started = time.monotonic()
        for index in range(commands):
            app.record_measurement(
                goals[index % GOALS], float(6 - index % 6), actor=THERAPIST, observed_on=_day(index)
            )
        results.put((started, time.monotonic()))


def _parallel(tenants: Sequence[str], commands: int) -> float:
    """Events per second of one writer process per entry of ``tenants``, started together."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(tenants))
    results = context.Queue()
    workers = [
        context.Process(target=_tenant_writer, args=(tenant, commands, barrier, results, worker))
        for worker, tenant in enumerate(tenants)
    ]
    for worker in workers:
        worker.start()
    spans: list[tuple[float, float]] = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0, f"a writer process failed ({worker.exitcode})"
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    return float(len(tenants) * commands / wall)


def _tenants(quick: bool) -> list[Result]:
    rounds, commands = (2, 60) if quick else (3, 300)
    names = [f"bench_{_suffix()}" for _ in range(4)]
    single: list[float] = []
    four: list[float] = []
    shared: list[float] = []
    try:
        for name in names:  # set each tenant up before timing anything
            GoalpathApp(URL, tenant=name, master_key=KEY, today=lambda: TODAY).close()
        for _ in range(rounds):
            single.append(_parallel(names[:1], commands))
            four.append(_parallel(names, commands))
            shared.append(_parallel(names[:1] * 4, commands))
    finally:
        _drop_schemas([f"goalpath_{name}" for name in names])
    ratios = [many / one for many, one in zip(four, single, strict=True)]
    shared_ratios = [many / one for many, one in zip(shared, single, strict=True)]
    ratio = statistics.median(ratios)
    return [
        Result(
            NAME,
            "4 tenants written in parallel",
            4 * commands * rounds,
            4 * commands * rounds / sum(four),
            {"processes": 4, "commands per process": commands, "rounds": rounds},
            goalpath=f"{statistics.median(four):,.0f} events/s (4 processes, 4 tenants)",
            baseline=f"{statistics.median(single):,.0f} events/s (1 process, 1 tenant)",
            ratio=ratio,
            spread=_ratio_text(ratios),
            target=f">= {TENANT_TARGET}x the throughput",
            holds=ratio >= TENANT_TARGET,
        ),
        Result(
            NAME,
            "4 writers in one tenant (contrast)",
            4 * commands * rounds,
            4 * commands * rounds / sum(shared),
            {"processes": 4, "commands per process": commands, "rounds": rounds},
            goalpath=f"{statistics.median(shared):,.0f} events/s (4 processes, 1 tenant)",
            baseline=f"{statistics.median(single):,.0f} events/s (1 process, 1 tenant)",
            ratio=statistics.median(shared_ratios),
            spread=_ratio_text(shared_ratios),
            target="reported",
        ),
    ]


def run(*, quick: bool = False) -> list[Result]:
    """Run the three comparisons; the server must answer (else the error says where)."""
    return [_appends(quick), _catch_up(quick), *_tenants(quick)]
