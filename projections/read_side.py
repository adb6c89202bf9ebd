"""``Projections``: the read side of one goalpath application, in one object.

>>> from goalpath.core.application import GoalpathApp
>>> with GoalpathApp() as app, Projections(app) as projections:
...     projections.status().lag
0

In the embedded mode (the default) every read catches up first, so a
measurement recorded a moment ago is in the plan shown now.

This module is a little over 500 lines because it is the whole read API in
one class, each read with the checks of its filters: splitting it would
scatter that surface without separating a concept.
"""

# ruff: noqa: S608  # table names and WHERE clauses are goalpath's own; values are parameters

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final, Literal
from uuid import UUID

import attrs

from goalpath.core.application.goalpath_app import GoalpathApp, engine_of
from goalpath.core.errors import NotFoundError
from goalpath.core.goal import REVIEWABLE_STATUSES
from goalpath.core.inputs import check_filter, check_identity, check_moment
from goalpath.core.storage.locations import StoreSpec, redact_url
from goalpath.core.values import as_uuid
from goalpath.modalities.manager import Plugins
from goalpath.projections.audit_log import (
    AuditEntry,
    AuditFilter,
    AuditLogProjector,
    search_audit_log,
)
from goalpath.projections.caseload import CaseloadOutcomes, build_caseload_outcomes
from goalpath.projections.current_state import StateProjector, load_episodes, load_goals
from goalpath.projections.outcomes import Conventions, conventions_of, installed_conventions
from goalpath.projections.plan import Plan, build_plan
from goalpath.projections.progress import ProgressReport, assess_progress
from goalpath.projections.read_model_store import MEMORY, ReadModelStore, SQLiteReadModelStore
from goalpath.projections.records import EpisodeRecord, GoalRecord
from goalpath.projections.review_queue import DEFAULT_WITHIN_DAYS, ReviewDue, build_review_queue
from goalpath.projections.runner import (
    DEFAULT_BATCH_SIZE,
    CatchUpResult,
    ProgressCallback,
    ProjectionRunner,
    Projector,
)
from goalpath.projections.timetravel import goal_record_at, plan_as_of

__all__ = [
    "SCHEMA_VERSION",
    "ProjectionStatus",
    "Projections",
    "ReadModelCheck",
    "default_projectors",
    "default_store",
]

SCHEMA_VERSION: Final = 4
"""Bump when a read-model table changes shape or meaning: stores at another version are rebuilt.

4: ``latest_achievement`` by review date (it followed recording order).
"""

_REVIEWABLE_SQL: Final = ", ".join(f"'{status}'" for status in REVIEWABLE_STATUSES)


_IN_THERAPISTS_EPISODES: Final = (
    "{column} IN (SELECT episode_id FROM gp_episode_therapists WHERE therapist_id = ?)"
)


def _filters(*criteria: tuple[str, object | None]) -> tuple[str, list[object]]:
    """A ``WHERE`` clause of the criteria given a value (all of them), and its parameters."""
    given = [(clause, value) for clause, value in criteria if value is not None]
    where = " AND ".join(clause for clause, _ in given) or "1 = 1"
    return where, [value for _, value in given]


def _row_differences(
    table: str, live: list[tuple[Any, ...]], rebuilt: list[tuple[Any, ...]]
) -> list[str]:
    """The rows of one table that the read models and the rebuild do not share."""
    problems: list[str] = []
    for rows, kind in (
        (sorted(set(live) - set(rebuilt), key=repr), "changed or added"),
        (sorted(set(rebuilt) - set(live), key=repr), "changed or removed"),
    ):
        problems += [f"{table}: row {kind}: {row!r}" for row in rows[:_SHOWN_ROWS]]
        if len(rows) > _SHOWN_ROWS:
            problems.append(f"{table}: {len(rows) - _SHOWN_ROWS} more rows {kind}")
    return problems


def default_projectors() -> list[Projector]:
    """Goalpath's projectors, in the order they must run (audit reads the state before it moves)."""
    return [AuditLogProjector(), StateProjector()]


@attrs.frozen
class ProjectionStatus:
    """Where the read models stand against the event log."""

    store: str
    position: int
    head: int
    batch_size: int
    rows: dict[str, int]

    @property
    def lag(self) -> int:
        """How many notification ids the read models are behind the log."""
        return max(self.head - self.position, 0)


@attrs.frozen
class ReadModelCheck:
    """The read models compared with a rebuild from the events (``projections verify``).

    ``problems`` names a tracking position past the log's end, and every row
    that is in the read models but not in the rebuild (``changed or added``)
    or in the rebuild but not in the read models (``changed or removed``).
    """

    position: int
    head: int
    rows_checked: int
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """Whether the read models are exactly what the events give."""
        return not self.problems


_SHOWN_ROWS: Final = 5
"""Rows named per table and kind of difference; the rest are counted."""


def default_store(app: GoalpathApp) -> ReadModelStore:
    """The read-model store beside an application's events.

    The tenant's schema for a PostgreSQL store, the events' file for a
    SQLite store, an in-memory SQLite database for an in-memory app.
    """
    spec = getattr(app, "store", None)
    if isinstance(spec, StoreSpec) and spec.kind == "postgres":
        from goalpath.projections.postgres_read_model_store import (  # noqa: PLC0415  # psycopg only when needed
            PostgresReadModelStore,
        )

        return PostgresReadModelStore.for_store(spec)
    location = app.store_location
    return SQLiteReadModelStore(MEMORY if location == MEMORY else location)


class Projections:
    """The read models of a :class:`~goalpath.core.application.GoalpathApp`.

    They live beside the events: in the same SQLite file for a file store
    (on connections of their own), in the tenant's schema for a PostgreSQL
    store, in an in-memory SQLite database for an in-memory app, or in the
    ``store`` given. With ``catch_up_on_read``
    (the default) every read first applies the events recorded since the
    last one. Standardised instruments (for reliable change, caseness and
    caseload outcomes) come from ``plugins``, by default the installed ones.

    One object serves every thread of a process: each read runs in a
    transaction on a connection of its own, and catching up applies one
    batch at a time (see "Threads and processes" in docs/embedding.md). A
    process opens its own after it starts, never one inherited across
    ``fork()``.
    """

    def __init__(
        self,
        app: GoalpathApp,
        *,
        store: ReadModelStore | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        catch_up_on_read: bool = True,
        projectors: list[Projector] | None = None,
        plugins: Plugins | None = None,
    ) -> None:
        self.app = app
        self.instruments: Conventions = (
            installed_conventions() if plugins is None else conventions_of(plugins.instruments())
        )
        if store is None:
            store = default_store(app)
        self.store = store
        self.catch_up_on_read = catch_up_on_read
        self.runner = ProjectionRunner(
            engine_of(app),  # the notification log and the mapper
            store,
            default_projectors() if projectors is None else projectors,
            schema_version=SCHEMA_VERSION,
            batch_size=batch_size,
        )

    def __enter__(self) -> Projections:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the read-model store's connections (after every thread has finished with it)."""
        self.store.close()

    # -- keeping up -------------------------------------------------------------

    def catch_up(self, progress_callback: ProgressCallback | None = None) -> CatchUpResult:
        """Apply the events recorded since the last catch-up."""
        return self.runner.catch_up(progress=progress_callback)

    def rebuild(self, progress_callback: ProgressCallback | None = None) -> CatchUpResult:
        """Empty the read models and apply every event again."""
        return self.runner.rebuild(progress=progress_callback)

    def status(self) -> ProjectionStatus:
        """Position, head of the log and row counts (does not catch up)."""
        position = self.runner.position()
        with self.store.transaction(write=False) as transaction:
            rows = {
                table: int(transaction.query(f"SELECT COUNT(*) FROM {table}")[0][0])
                for table in self.runner.tables
            }
        return ProjectionStatus(
            store=redact_url(self.app.store_location),
            position=position,
            head=self.runner.head(),
            batch_size=self.runner.batch_size,
            rows=rows,
        )

    def _fresh(self) -> None:
        """Apply the events recorded before this read began (not those recorded since)."""
        if self.catch_up_on_read:
            self.runner.catch_up(through=self.runner.head())

    def _read(self, reader: Callable[[Any], Any]) -> Any:
        self._fresh()
        with self.store.transaction(write=False) as transaction:
            return reader(transaction)

    def _today(self, today: date | None) -> date:
        return self.app.today() if today is None else today

    # -- reads --------------------------------------------------------------------

    def plan_for_episode(
        self,
        episode_id: UUID,
        *,
        today: date | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
    ) -> Plan:
        """An episode's current plan (from the read models), or a past one (from the events).

        ``as_of`` (recorded time): the plan as the store knew it at that
        moment. ``effective_on`` (effective time): the plan in force on that
        day, by the events' own dates (a goal entered today with an earlier
        start date is in it). Both: in force then, as known at ``as_of``.
        """
        episode_id = as_uuid(episode_id, "episode")
        if as_of is not None or effective_on is not None:
            return plan_as_of(self.app, episode_id, as_of, effective_on=effective_on)
        day = self._today(today)

        def read(transaction: Any) -> Plan:
            episodes = load_episodes(transaction, "gp_episodes.episode_id = ?", (episode_id.hex,))
            if episode_id not in episodes:
                raise NotFoundError("episode", episode_id)
            goals = load_goals(
                transaction, "gp_goals.episode_id = ?", (episode_id.hex,), measurements="latest"
            )
            return build_plan(episodes[episode_id], goals, day)

        plan: Plan = self._read(read)
        return plan

    def episode_ids_of_client(self, client_id: str) -> list[UUID]:
        """The client's episodes, oldest first (from the read models)."""
        client_id = check_identity("client id", client_id)

        def read(transaction: Any) -> list[UUID]:
            return list(load_episodes(transaction, "gp_episodes.client_id = ?", (client_id,)))

        ids: list[UUID] = self._read(read)
        return ids

    def episodes(
        self, *, client_id: str | None = None, therapist_id: str | None = None
    ) -> list[EpisodeRecord]:
        """The episodes of a client and/or a therapist (every one without either), oldest first."""
        client_id = check_filter("client id", client_id)
        therapist_id = check_filter("therapist id", therapist_id)
        clauses, params = _filters(
            ("gp_episodes.client_id = ?", client_id),
            (_IN_THERAPISTS_EPISODES.format(column="gp_episodes.episode_id"), therapist_id),
        )
        records: dict[UUID, EpisodeRecord] = self._read(
            lambda transaction: load_episodes(transaction, clauses, params)
        )
        return list(records.values())

    def goals(
        self,
        *,
        client_id: str | None = None,
        therapist_id: str | None = None,
        status: str | None = None,
    ) -> list[GoalRecord]:
        """The goals of a client and/or a therapist's episodes, of one status or all, as stated."""
        client_id = check_filter("client id", client_id)
        therapist_id = check_filter("therapist id", therapist_id)
        clauses, params = _filters(
            ("gp_goals.client_id = ?", client_id),
            (_IN_THERAPISTS_EPISODES.format(column="gp_goals.episode_id"), therapist_id),
            ("gp_goals.status = ?", status),
        )
        goals: list[GoalRecord] = self._read(
            lambda transaction: load_goals(transaction, clauses, params, measurements="none")
        )
        return goals

    def ids_starting_with(self, kind: Literal["goal", "episode"], prefix: str) -> list[UUID]:
        """The ids of the goals (or episodes) that start with ``prefix`` (hex; dashes ignored)."""
        digits = prefix.replace("-", "").lower()
        if not digits or any(char not in "0123456789abcdef" for char in digits):
            return []
        table, column = ("gp_goals", "goal_id") if kind == "goal" else ("gp_episodes", "episode_id")
        rows: list[tuple[Any, ...]] = self._read(
            lambda transaction: transaction.query(
                f"SELECT {column} FROM {table} WHERE {column} LIKE ? ORDER BY {column}",
                (f"{digits}%",),
            )
        )
        return [UUID(row[0]) for row in rows]

    def plan_for_client(
        self,
        client_id: str,
        *,
        today: date | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
    ) -> list[Plan]:
        """The plans of every episode of a client, oldest first, now or at a past time.

        ``as_of`` and ``effective_on`` as for :meth:`plan_for_episode`; an
        episode not yet recorded at ``as_of``, or not yet opened on
        ``effective_on``, is left out.
        """
        episode_ids = self.episode_ids_of_client(client_id)
        if not episode_ids:
            raise NotFoundError("client", client_id)
        plans: list[Plan] = []
        for episode_id in episode_ids:
            try:
                plans.append(
                    self.plan_for_episode(
                        episode_id, today=today, as_of=as_of, effective_on=effective_on
                    )
                )
            except NotFoundError:
                if as_of is None and effective_on is None:
                    raise
        return plans

    def progress(
        self,
        goal_id: UUID,
        *,
        today: date | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
    ) -> ProgressReport:
        """A goal's progress: series, percentage, trend, trajectory, status, outcome.

        Now, from the read models; or from the events, ``as_of`` (recorded
        time) as the store knew it then, ``effective_on`` (effective time)
        with the measurements observed by that day, assessed on that day.
        """
        goal_id = as_uuid(goal_id, "goal")
        if as_of is not None or effective_on is not None:
            record = goal_record_at(self.app, goal_id, as_of=as_of, effective_on=effective_on)
            on = effective_on if effective_on is not None else as_of.date() if as_of else None
            return assess_progress(record, today or on or self.app.today(), self.instruments)
        goals = self._read(
            lambda transaction: load_goals(transaction, "gp_goals.goal_id = ?", (goal_id.hex,))
        )
        if not goals:
            raise NotFoundError("goal", goal_id)
        return assess_progress(goals[0], self._today(today), self.instruments)

    def reviews_due(
        self,
        therapist_id: str | None = None,
        *,
        today: date | None = None,
        within_days: int = DEFAULT_WITHIN_DAYS,
    ) -> list[ReviewDue]:
        """Goals whose review is overdue or due within ``within_days``, the most overdue first."""
        therapist_id = check_filter("therapist id", therapist_id)
        day = self._today(today)
        open_episodes = "gp_episodes.closed_on IS NULL"
        params: tuple[Any, ...] = ()
        if therapist_id is not None:
            open_episodes += (
                " AND gp_episodes.episode_id IN "
                "(SELECT episode_id FROM gp_episode_therapists WHERE therapist_id = ?)"
            )
            params = (therapist_id,)

        def read(transaction: Any) -> list[ReviewDue]:
            episodes = load_episodes(transaction, open_episodes, params)
            goals = load_goals(
                transaction,
                f"gp_goals.status IN ({_REVIEWABLE_SQL}) AND gp_goals.episode_id IN "
                f"(SELECT episode_id FROM gp_episodes WHERE {open_episodes})",
                params,
                measurements="none",
            )
            return build_review_queue(episodes, goals, day, within_days=within_days)

        queue: list[ReviewDue] = self._read(read)
        return queue

    def audit_log(
        self,
        *,
        actor_id: str | None = None,
        client_id: str | None = None,
        goal_id: UUID | None = None,
        episode_id: UUID | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        after: int | None = None,
    ) -> list[AuditEntry]:
        """Audit rows matching every given criterion, oldest first.

        ``after`` keeps the rows after that log position only (the change
        feed's cursor: the ``position`` of the last row a reader has seen).
        """
        for name, moment in (("since", since), ("until", until)):
            if moment is not None:
                check_moment(name, moment)
        criteria = AuditFilter(
            actor_id=check_filter("actor id", actor_id),
            client_id=check_filter("client id", client_id),
            goal_id=None if goal_id is None else as_uuid(goal_id, "goal"),
            episode_id=None if episode_id is None else as_uuid(episode_id, "episode"),
            since=since,
            until=until,
            limit=limit,
            after=after,
        )
        entries: list[AuditEntry] = self._read(
            lambda transaction: search_audit_log(transaction, criteria)
        )
        return entries

    def caseload_outcomes(self, therapist_id: str | None = None) -> CaseloadOutcomes:
        """Reliable improvement, deterioration and recovery, per therapist and overall."""
        therapist_id = check_filter("therapist id", therapist_id)

        def read(transaction: Any) -> CaseloadOutcomes:
            episodes = load_episodes(transaction)
            goals = load_goals(transaction, "gp_goals.instrument IS NOT NULL", ())
            return build_caseload_outcomes(
                episodes, goals, therapist_id=therapist_id, conventions=self.instruments
            )

        outcomes: CaseloadOutcomes = self._read(read)
        return outcomes

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row, sorted (does not catch up): for comparing builds."""
        return self.runner.dump()

    def verify(self) -> ReadModelCheck:
        """Compare the read models with a rebuild from the events in a scratch store.

        The read models are caught up first (unless their tracking position
        is already past the log's end, which is itself reported); then every
        row is compared with an in-memory rebuild. Nothing is changed.
        """
        position, head = self.runner.position(), self.runner.head()
        problems: list[str] = []
        if position > head:
            problems.append(
                f"the tracking position {position} is past the end of the event log ({head}): "
                "events after the real end would never be applied"
            )
        else:
            self.runner.catch_up()
            position = self.runner.position()
        live = self.runner.dump()
        with Projections(self.app, store=SQLiteReadModelStore(MEMORY)) as scratch:
            scratch.runner.catch_up()
            rebuilt = scratch.runner.dump()
        for table in sorted(set(live) | set(rebuilt)):
            problems += _row_differences(table, live.get(table, []), rebuilt.get(table, []))
        return ReadModelCheck(
            position=position,
            head=head,
            rows_checked=sum(len(rows) for rows in live.values()),
            problems=tuple(problems),
        )
