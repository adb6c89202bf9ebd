"""The sealed application: how goalpath opens a store and loads and saves aggregates.

The wiring apart from the commands: which key store, recorder and mapper a
store gets (every record encrypted per client and chained by a keyed hash),
how a save is sealed and a refused write becomes a typed error, and how an
aggregate is loaded now, at a version or as it stood at a past time.
:class:`~goalpath.core.application.GoalpathApp` adds the commands and reads.

One application object may be shared by many threads. Its recorders hold a
pool of connections (eventsourcing's), its key store and mapper guard their
caches, and a save's chain hashes are kept per thread until it is stored.
Commands on one aggregate through one application are serialised (a lock
per aggregate, striped), so threads sharing it never conflict with one
another; a conflict comes only from another application or process, and a
command marked :func:`retried_on_conflict` then loads again and retries.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from typing import Any, Final, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, LRUCache
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    JSONTranscoder,
    Mapper,
    OperationalError,
    PersistenceError,
    RecordConflictError,
    StoredEvent,
)
from eventsourcing.utils import Environment, EnvType

from goalpath.core.application.client_index import ClientIndex
from goalpath.core.application.snapshots import BestEffortSnapshots
from goalpath.core.application.time_travel import TimeTravel, kind_name
from goalpath.core.application.unit_of_work import PendingWrites
from goalpath.core.errors import (
    ClientErasedError,
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    InvalidValueError,
    NotFoundError,
    StoreError,
)
from goalpath.core.goal import Goal
from goalpath.core.storage.failures import write_failure
from goalpath.core.storage.idempotency_records import (
    KEY_RECORDS,
    KeyRecord,
    MemoryApplicationRecorder,
)
from goalpath.core.storage.keys import (
    ClientKeyStore,
    MasterKey,
    MemoryClientKeyStore,
    PostgresClientKeyStore,
    SQLiteClientKeyStore,
    resolve_master_key,
)
from goalpath.core.storage.locations import MEMORY, scrub_password, store_spec
from goalpath.core.storage.mapper import GoalpathMapper
from goalpath.core.storage.postgres import postgres_conninfo, prepare_postgres_schema, setup_lock
from goalpath.core.storage.replay import replay
from goalpath.core.storage.sealed_recorders import (
    SealedPostgresApplicationRecorder,
    SealedSQLiteApplicationRecorder,
)
from goalpath.core.storage.sqlite_files import create_private_file
from goalpath.core.storage.transcodings import register_goalpath_transcodings
from goalpath.core.values import as_uuid

__all__ = [
    "AGGREGATE_CACHE_SIZE",
    "DEFAULT_SNAPSHOT_INTERVAL",
    "KEY_STORE_VARIABLE",
    "SEALED_RECORDERS",
    "SealedApplication",
    "local_today",
]

DEFAULT_SNAPSHOT_INTERVAL: Final = 50
"""Take a snapshot of a goal every this many events."""

AGGREGATE_CACHE_SIZE: Final = 1000
"""Aggregates an application on a PostgreSQL store keeps in memory (the library's cache,
least recently used first out). A load of a cached one reads only the events recorded
since, from any process, in one query instead of a snapshot's and the events', and is
handed a copy; loads at a version or a time read the store. A SQLite store keeps none:
reading a snapshot from the local file costs less than copying a cached goal (measured
in docs/performance.md)."""

AGGREGATE_LOCKS: Final = 64
"""Stripes of the per-aggregate command locks of one application (bounded memory)."""

TAggregate = TypeVar("TAggregate", bound=Aggregate)
P = ParamSpec("P")
R = TypeVar("R")

SEALED_RECORDERS: Final = (SealedSQLiteApplicationRecorder, SealedPostgresApplicationRecorder)


KEY_STORE_VARIABLE: Final = "GOALPATH_KEY_STORE"
"""Environment variable naming a SQLite file for the client keys, apart from the events."""


def _key_store_from_env() -> str | None:
    return os.environ.get(KEY_STORE_VARIABLE) or None


def local_today() -> date:
    """Today's date in the machine's local time zone (where the clinician is)."""
    return datetime.now(UTC).astimezone().date()


class SealedApplication(TimeTravel, BestEffortSnapshots, Application[UUID]):
    """The eventsourcing application behind a :class:`GoalpathApp`: goalpath's engine.

    It holds the library's persistence methods (``save``, ``repository``,
    ``take_snapshot``, the recorder and the notification log), which bypass
    every goalpath check; a :class:`~goalpath.core.application.GoalpathApp`
    holds one privately and exposes only goalpath's commands and reads.
    goalpath's own packages reach it through
    :func:`~goalpath.core.application.goalpath_app.engine_of`.
    """

    name = "goalpath"

    _unit: PendingWrites | None = None
    """Set on the copy a unit of work gives its block: saves are kept there until it ends."""

    def __init__(
        self,
        store: str | os.PathLike[str] = MEMORY,
        *,
        tenant: str | None = None,
        today: Callable[[], date] = local_today,
        snapshot_interval: int = DEFAULT_SNAPSHOT_INTERVAL,
        lock_timeout_seconds: int = 10,
        master_key: MasterKey | None = None,
        key_store: ClientKeyStore | str | os.PathLike[str] | None = None,
    ) -> None:
        if isinstance(snapshot_interval, bool) or snapshot_interval < 0:
            raise InvalidValueError(
                f"snapshot interval must be 0 (off) or a positive number; got {snapshot_interval!r}"
            )
        self.store = store_spec(os.fspath(store), tenant, lock_timeout_seconds)
        # Client keys outside the event store: a host's ClientKeyStore, or a SQLite file of
        # their own (GOALPATH_KEY_STORE), so a backup of the events holds no key.
        self._key_store_option = key_store if key_store is not None else _key_store_from_env()
        self.store_location = self.store.location
        self.snapshot_interval = snapshot_interval
        self._snapshots_owed = set()
        self._today = today
        self._aggregate_locks = tuple(threading.Lock() for _ in range(AGGREGATE_LOCKS))
        # The cache's aggregate is brought forward in place and then copied: both under one
        # of these, so no load copies it half brought forward (apart from the command locks,
        # which a command holds while it loads).
        self._cache_locks = tuple(threading.Lock() for _ in range(AGGREGATE_LOCKS))
        if self.store.kind == "postgres":
            prepare_postgres_schema(self.store)
        if self.store.kind == "sqlite":
            create_private_file(self.store_location)
        self.master_key = master_key or resolve_master_key(
            self.store_location, key_file_allowed=self.store.kind != "postgres"
        )
        env = dict(self.store.env)
        env["IS_SNAPSHOTTING_ENABLED"] = "y" if snapshot_interval else "n"
        if self.store.kind == "postgres":
            env["AGGREGATE_CACHE_MAXSIZE"] = str(AGGREGATE_CACHE_SIZE)
        setup = setup_lock(self.store) if self.store.kind == "postgres" else nullcontext()
        try:
            with setup:
                self.keys: ClientKeyStore = self._construct_key_store(lock_timeout_seconds)
                super().__init__(env=env)
        except (PersistenceError, OSError) as error:
            keys = getattr(self, "keys", None)
            if keys is not None:
                keys.close()
            raise StoreError(
                f"cannot open the goalpath store ({self.store.description}): "
                f"{scrub_password(self.store, str(error))}"
            ) from error
        self.sealing.recorder = self.recorder
        self.clients = ClientIndex(self)
        """Each client's episodes, from the event log (shared by a unit of work's copy)."""
        if isinstance(self.recorder, SEALED_RECORDERS):
            self.recorder.seal_key = self.master_key.derive("store-seal")

    def _construct_key_store(self, lock_timeout_seconds: int) -> ClientKeyStore:
        option = self._key_store_option
        if isinstance(option, ClientKeyStore):
            return option
        if option is not None:
            path = os.fspath(option)
            if path == self.store_location:
                raise InvalidValueError(
                    f"the key store {path} is the event store itself; give another file, or "
                    "none to keep the keys beside the events"
                )
            create_private_file(path)
            try:
                return SQLiteClientKeyStore(
                    self.master_key, path, timeout_seconds=lock_timeout_seconds
                )
            except sqlite3.Error as error:
                raise StoreError(f"cannot open the key store {path}: {error}") from error
        if self.store.kind == "memory":
            return MemoryClientKeyStore(self.master_key)
        if self.store.kind == "postgres":
            assert self.store.schema is not None  # noqa: S101  # set for every PostgreSQL store
            return PostgresClientKeyStore(
                self.master_key, postgres_conninfo(self.store), self.store.schema
            )
        try:
            return SQLiteClientKeyStore(
                self.master_key, self.store_location, timeout_seconds=lock_timeout_seconds
            )
        except sqlite3.Error as error:
            raise StoreError(
                f"cannot open the goalpath store ({self.store.description}): {error}"
            ) from error

    def construct_recorder(self) -> ApplicationRecorder:
        """The library's recorder; in memory, one that also keeps idempotency keys."""
        if self.store.kind == "memory":
            return MemoryApplicationRecorder()
        return super().construct_recorder()

    def construct_mapper(self) -> Mapper[UUID]:
        """Seal every record: encrypted per client, chained by a keyed hash."""
        self.sealing = GoalpathMapper(
            transcoder=self.construct_transcoder(), keys=self.keys, master=self.master_key
        )
        return self.sealing

    def close(self) -> None:
        """Close the store's connections (a unit of work's copy leaves them to its application)."""
        if self._unit is not None:
            return
        super().close()
        keys = getattr(self, "keys", None)
        if keys is not None:
            keys.close()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Build the configuration from the arguments only.

        The library's default also reads every process environment variable,
        which would let an unrelated ``PERSISTENCE_MODULE`` in a host's
        environment move goalpath's data: no surprise globals.
        """
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """Add goalpath's value objects to the library's transcodings."""
        super().register_transcodings(transcoder)
        register_goalpath_transcodings(transcoder)

    def today(self) -> date:
        """The current date according to this application's clock."""
        return self._today()

    # -- saving ---------------------------------------------------------------

    def _save(
        self, *aggregates: Aggregate, based_on: dict[UUID, int], keys: Sequence[KeyRecord] = ()
    ) -> None:
        """Save new events; a concurrent write becomes a typed conflict, and nothing is written.

        Inside a unit of work the aggregates are kept in the unit instead,
        written when it ends (:mod:`goalpath.core.application.unit_of_work`).
        ``keys``: idempotency keys' records, written in the events' transaction.
        """
        if self._unit is not None:
            self._unit.stash(aggregates, based_on)
            return
        with self._refused_writes(aggregates, based_on):
            self.save(*aggregates, **{KEY_RECORDS: keys} if keys else {})
        if self.snapshot_interval:
            for aggregate in aggregates:
                if isinstance(aggregate, Goal):
                    self._snapshot_if_due(aggregate, based_on.get(aggregate.id, 0))

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        """Save new events; the chain hashes they carry are published only once stored."""
        with self._sealed_save():
            return super().save(*objs, **kwargs)

    def _write_unit(self, unit: PendingWrites, connection: Any = None) -> None:
        """Write everything a unit of work changed, in one transaction, or nothing.

        With a host's ``connection`` (PostgreSQL) the rows go inside the host's
        open transaction: the chain hashes are not remembered as stored (the
        host may still roll back; the next save reads them from the store), and
        no snapshot is taken (a later save takes it).
        """
        aggregates = unit.aggregates()
        keys = list(unit.keys.values())
        if connection is None:
            self._save(*aggregates, based_on=unit.based_on, keys=keys)
            return
        recorder = self.recorder
        assert isinstance(recorder, SealedPostgresApplicationRecorder)  # noqa: S101  # checked
        events = [
            domain_event for aggregate in aggregates for domain_event in aggregate.collect_events()
        ]
        self.sealing.begin_save()
        try:
            with self._refused_writes(aggregates, unit.based_on):
                rows = self.sealing.seal_rows(events)
                recorder.insert_events_within(
                    connection,
                    [
                        StoredEvent(
                            originator_id=stream,
                            originator_version=version,
                            topic=topic,
                            state=state,
                        )
                        for stream, version, topic, state in rows
                    ],
                    **{KEY_RECORDS: keys},
                )
        finally:
            self.sealing.discard_save()

    @contextmanager
    def _sealed_save(self) -> Iterator[None]:
        """Seal one save: its chain hashes are published if it is stored, dropped if not."""
        self.sealing.begin_save()
        try:
            yield
        except BaseException:
            self.sealing.discard_save()
            raise
        self.sealing.commit_save()

    @contextmanager
    def _refused_writes(
        self, aggregates: Sequence[Aggregate], based_on: dict[UUID, int]
    ) -> Iterator[None]:
        """Turn the store's refusal of a write into goalpath's typed errors."""
        try:
            yield
        except RecordConflictError as error:
            raise self._conflict(tuple(aggregates), based_on) from error
        except (OperationalError, InterfaceError) as error:
            kinds = sorted({_kind(aggregate) for aggregate in aggregates})
            raise write_failure(error, self.store.kind, kinds) from error

    def _conflict(
        self, aggregates: tuple[Aggregate, ...], based_on: dict[UUID, int]
    ) -> GoalpathError:
        for aggregate in aggregates:
            loaded_version = based_on.get(aggregate.id, 0)
            stored_version = self._stored_version(aggregate.id)
            if stored_version != loaded_version:
                kind = _kind(aggregate)
                if loaded_version == 0:
                    return DuplicateIdError(kind, aggregate.id)
                return ConflictError(kind, aggregate.id, loaded_version, stored_version)
        return StoreError("the store refused the write as a conflict, but no record changed")

    def _stored_version(self, aggregate_id: UUID) -> int:
        events = self.recorder.select_events(aggregate_id, desc=True, limit=1)
        return events[0].originator_version if events else 0

    def _exists(self, aggregate_id: UUID) -> bool:
        if self._unit is not None and self._unit.pending(aggregate_id) is not None:
            return True
        return self._stored_version(aggregate_id) > 0

    @contextmanager
    def _changing(
        self, cls: type[TAggregate], aggregate_id: UUID, expected_version: int | None = None
    ) -> Iterator[TAggregate]:
        """Load an aggregate for one command, then save what the command did to it.

        The save is against the version loaded, so a concurrent write from
        another application or process is a conflict; a command that raises
        saves nothing. Commands on one aggregate through this application
        wait for one another (its lock stripe is held from load to save).
        """
        aggregate_id = as_uuid(aggregate_id, kind_name(cls))
        lock = self._aggregate_locks[aggregate_id.int % AGGREGATE_LOCKS]
        with lock if self._unit is None else self._unit.guarded(lock):
            aggregate = self._load(cls, aggregate_id, expected_version)
            loaded = aggregate.version
            yield aggregate
            self._save(aggregate, based_on={aggregate.id: loaded})

    def _load(
        self,
        cls: type[TAggregate],
        aggregate_id: UUID,
        expected_version: int | None = None,
        *,
        erasure_checked: bool = False,
    ) -> TAggregate:
        """The aggregate as stored now (or pending in this unit of work); refused if erased.

        ``erasure_checked``: the caller has just checked the same client's key
        (a goal's episode, loaded to authorize a command on the goal), so the
        key table is not asked twice in one command.
        """
        kind = kind_name(cls)
        aggregate_id = as_uuid(aggregate_id, kind)
        aggregate: object = None if self._unit is None else self._unit.pending(aggregate_id)
        try:
            if aggregate is None:
                aggregate = self._load_stored(aggregate_id)
            if not isinstance(aggregate, cls):
                raise NotFoundError(kind, aggregate_id)
            if not erasure_checked:
                self.sealing.check_not_erased(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(kind, aggregate_id) from None
        except ClientErasedError:
            self.forget_cached()  # another process erased the client: drop what this one holds
            raise
        if expected_version is not None and aggregate.version != expected_version:
            raise ConflictError(kind, aggregate_id, expected_version, aggregate.version)
        return aggregate

    def _load_stored(self, aggregate_id: UUID) -> object:
        """The aggregate from the store, or from the cache brought forward (a copy either way)."""
        cached = self.repository.cache is not None
        with self._cache_locks[aggregate_id.int % AGGREGATE_LOCKS] if cached else nullcontext():
            return self.repository.get(aggregate_id, projector_func=replay)

    def forget_cached(self) -> None:
        """Empty the aggregate cache (after an erasure: no erased client's state stays in it)."""
        if self.repository.cache is not None:
            self.repository.cache = LRUCache(maxsize=AGGREGATE_CACHE_SIZE)

    def iter_events(self, *, start: int = 1, batch: int = 500) -> Iterator[tuple[int, Any]]:
        """Yield ``(position, event)`` for every readable event in recording order, streaming.

        Events of an erased client cannot be read and are left out.
        """
        position = start
        while True:
            notifications = self.recorder.select_notifications(start=position, limit=batch)
            if not notifications:
                return
            # Another process may have erased a client since this one cached their key.
            self.sealing.refresh_erased(notifications)
            for notification in notifications:
                try:
                    domain_event = self.mapper.to_domain_event(notification)
                except ClientErasedError:
                    continue
                yield notification.id, domain_event
            position = notifications[-1].id + 1


def _kind(aggregate: Aggregate) -> str:
    return kind_name(type(aggregate))
