"""The projection runner: a pull loop over the application's notification log.

Each batch of notifications is applied by every projector and the tracking
position is advanced, all in one store transaction: a batch is applied
exactly once, or not at all. A crash (or any exception) inside a batch
rolls the whole batch back; the next catch-up starts again from the last
committed position. Two runners on one store serialise on the store's
write lock, and a runner that finds the position moved under it drops its
batch and reads again, so no notification is applied twice.

One runner may be shared by many threads (every read of a shared
``Projections`` catches up): its batches are applied one at a time (the
projectors buffer a batch's rows, so two batches must not interleave in
them), and a thread that waited for another's batch finds the position
moved and reads on from there. Every failure is a
:class:`~goalpath.projections.errors.ProjectionError` or another
:class:`~goalpath.core.errors.GoalpathError`.

Events of an erased client cannot be read: they are skipped, and the
erasure record itself makes every projector drop the client's rows, after
which the store purges what deleted rows left behind (so an incremental
build and a rebuild still agree).

eventsourcing's own ``ProjectionRunner`` needs a recorder that can
``subscribe()``, which SQLite cannot; this loop only needs
``select_notifications``, which every recorder has.
"""

# ruff: noqa: S608  # table names and WHERE clauses are goalpath's own; values are parameters

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import PersistenceError, Tracking

from goalpath.core.erasure import ClientErasure
from goalpath.core.errors import ClientErasedError
from goalpath.projections.errors import ProjectionError
from goalpath.projections.read_model_store import ReadModelStore, StoreTransaction

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "TRACKING_SCHEMA",
    "CatchUpResult",
    "ProgressCallback",
    "ProjectionRunner",
    "Projector",
]

DEFAULT_BATCH_SIZE: Final = 1000
"""Notifications applied per transaction unless told otherwise."""

TRACKING_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS gp_projection_tracking ("
        "name TEXT PRIMARY KEY, position INTEGER NOT NULL, schema_version INTEGER NOT NULL)"
    ),
)

ProgressCallback = Callable[[int, int], None]
"""Called after each batch with (position reached, head of the log)."""


class Projector(Protocol):
    """Something that turns events into read-model rows."""

    @property
    def name(self) -> str:
        """The projector's name."""

    @property
    def schema(self) -> Sequence[str]:
        """DDL statements creating its tables (``IF NOT EXISTS``)."""

    @property
    def tables(self) -> Sequence[str]:
        """The tables it writes."""

    def start_batch(self) -> None:
        """A batch begins: drop anything buffered from a batch that failed."""

    def apply(self, transaction: StoreTransaction, position: int, event: Any) -> None:
        """Apply one event at notification ``position`` inside ``transaction``."""

    def finish_batch(self, transaction: StoreTransaction) -> None:
        """The batch's events are applied: write anything buffered, in ``transaction``."""


@attrs.frozen
class CatchUpResult:
    """What one catch-up did."""

    start_position: int
    position: int
    applied: int
    batches: int


class ProjectionRunner:
    """Keeps a set of projectors' tables in step with an application's notification log.

    ``name`` identifies the tracking row; ``schema_version`` is stored with
    it, and a store holding another version is rebuilt from zero (read
    models are derived data).
    """

    def __init__(
        self,
        app: Application[Any],
        store: ReadModelStore,
        projectors: Sequence[Projector],
        *,
        name: str = "goalpath",
        schema_version: int = 1,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ProjectionError(f"batch size must be a whole number from 1; got {batch_size!r}")
        self.app = app
        self.store = store
        self.projectors = tuple(projectors)
        self.name = name
        self.schema_version = schema_version
        self.batch_size = batch_size
        # The projectors hold a batch's buffered rows: one batch at a time in this process.
        self._applying = threading.Lock()
        # The position this runner last committed (under _applying): while it is where a
        # thread's catch-up stands, no other thread of this process has moved it.
        self._committed: int | None = None
        self._ensure_schema()

    @property
    def tables(self) -> tuple[str, ...]:
        """Every read-model table the projectors write (not the tracking table)."""
        return tuple(table for projector in self.projectors for table in projector.tables)

    def _ensure_schema(self) -> None:
        with self._write() as transaction:
            for statement in TRACKING_SCHEMA:
                transaction.execute(statement)
            rows = transaction.query(
                "SELECT schema_version FROM gp_projection_tracking WHERE name = ?", (self.name,)
            )
            if rows and rows[0][0] != self.schema_version:
                for table in self.tables:
                    transaction.execute(f"DROP TABLE IF EXISTS {table}")
            for projector in self.projectors:
                for statement in projector.schema:
                    transaction.execute(statement)
            if not rows or rows[0][0] != self.schema_version:
                self._set_position(transaction, 0)

    def _write(self) -> Any:
        return self.store.transaction(write=True)

    def _set_position(self, transaction: StoreTransaction, position: int) -> None:
        transaction.execute(
            "INSERT INTO gp_projection_tracking (name, position, schema_version) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, "
            "schema_version = excluded.schema_version",
            (self.name, position, self.schema_version),
        )

    @staticmethod
    def _read_position(transaction: StoreTransaction, name: str) -> int:
        rows = transaction.query(
            "SELECT position FROM gp_projection_tracking WHERE name = ?", (name,)
        )
        return int(rows[0][0]) if rows else 0

    def tracking(self) -> Tracking:
        """The committed position, as the library's ``Tracking`` value."""
        with self.store.transaction(write=False) as transaction:
            return Tracking(self.name, self._read_position(transaction, self.name))

    def position(self) -> int:
        """The notification id of the last event applied (0 before any)."""
        return self.tracking().notification_id

    def head(self) -> int:
        """The notification id of the newest stored event (0 for an empty log)."""
        with _events_read():
            return int(self.app.recorder.max_notification_id() or 0)

    def catch_up(
        self,
        *,
        limit: int | None = None,
        through: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> CatchUpResult:
        """Apply every notification after the committed position, batch by batch.

        ``limit`` stops after that many notifications (for tests and tools);
        ``through`` stops once the notification of that id is applied, so a
        read that needs the events recorded before it began does not chase
        the ones recorded since (each thread of a busy server would otherwise
        keep applying its neighbours' new writes before it could answer).
        A batch still takes every notification there is (up to the batch
        size), so the threads waiting behind it mostly find their own
        notifications applied and go on without a write.
        """
        start = position = self.position()
        applied = batches = 0
        head = self.head() if progress else 0
        while (limit is None or applied < limit) and (through is None or position < through):
            size = self.batch_size if limit is None else min(self.batch_size, limit - applied)
            with self._applying:
                step = self._step(position, size)
            if step is None:
                break
            position, count = step
            if count:
                applied += count
                batches += 1
                if progress is not None:
                    progress(position, max(head, position))
        return CatchUpResult(start, position, applied, batches)

    def _step(self, position: int, size: int) -> tuple[int, int] | None:
        """Apply the next batch after ``position``: (the position now, notifications applied).

        None when nothing is left. Runs holding ``_applying``: a thread that
        waited for another's batch first reads where it left the position,
        and reads no notifications (and takes no write lock) when that batch
        already covered what it needed.
        """
        if self._committed != position:
            current = self.position()
            if current != position:
                return current, 0  # another thread or runner moved it; read on from there
        with _events_read():
            notifications = self.app.recorder.select_notifications(start=position + 1, limit=size)
        if not notifications:
            return None
        try:
            moved = self._apply_batch_alone(position, notifications)
        except sqlite3.Error as error:
            raise ProjectionError(
                f"a read-model batch failed and was rolled back: {error}"
            ) from error
        if moved is not None:
            return moved, 0  # another runner applied this batch; read on from there
        self._committed = notifications[-1].id
        return notifications[-1].id, len(notifications)

    def _apply_batch_alone(self, expected: int, notifications: Sequence[Any]) -> int | None:
        mapper = self.app.mapper
        with self._write() as transaction:
            current = self._read_position(transaction, self.name)
            if current != expected:
                return current
            erased = False
            for projector in self.projectors:
                projector.start_batch()
            for notification in notifications:
                try:
                    event = mapper.to_domain_event(notification)
                except ClientErasedError:
                    continue  # an erased client's events leave no rows
                erased = erased or isinstance(event, ClientErasure.Recorded)
                for projector in self.projectors:
                    projector.apply(transaction, notification.id, event)
            for projector in self.projectors:
                projector.finish_batch(transaction)
            self._set_position(transaction, notifications[-1].id)
        if erased:
            self.store.purge_deleted()
        return None

    def clear(self) -> None:
        """Empty every read-model table and reset the position to 0, in one transaction."""
        with self._applying:
            self._committed = None
            with self._write() as transaction:
                for table in self.tables:
                    transaction.execute(f"DELETE FROM {table}")
                self._set_position(transaction, 0)

    def rebuild(self, *, progress: ProgressCallback | None = None) -> CatchUpResult:
        """Rebuild every read model from the first event."""
        self.clear()
        return self.catch_up(progress=progress)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every read-model row, table by table, sorted: for comparing two builds."""
        with self.store.transaction(write=False) as transaction:
            return {
                table: sorted(transaction.query(f"SELECT * FROM {table}"), key=repr)
                for table in self.tables
            }


@contextmanager
def _events_read() -> Iterator[None]:
    """Report a failure to read the event log as a typed error."""
    try:
        yield
    except PersistenceError as error:
        raise ProjectionError(
            f"the events could not be read for the read models: {error}"
        ) from error
