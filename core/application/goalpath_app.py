"""The goalpath application: the commands and reads a host system calls.

:class:`GoalpathApp` is a facade: it holds the eventsourcing application
that stores the events (the engine, in :mod:`goalpath.core.application.sealed`)
privately and exposes goalpath's commands and reads only: here the store, units
of work, episode commands, reads, history, erasure and verification; the goal
commands and authorization in ``goal_commands`` and ``access_control``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, Final, Self, cast
from uuid import UUID

from goalpath.core.application import idempotency
from goalpath.core.application.goal_commands import UNCHANGED, GoalCommands
from goalpath.core.application.retries import retried_on_conflict
from goalpath.core.application.sealed import (
    DEFAULT_SNAPSHOT_INTERVAL,
    SEALED_RECORDERS,
    SealedApplication,
    local_today,
)
from goalpath.core.application.unit_of_work import PendingWrites, check_host_connection
from goalpath.core.authorization import ClinicalPolicy, Policy, Principal, Subject
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure, erasure_id
from goalpath.core.errors import InvalidCommandError, InvalidValueError, NotFoundError
from goalpath.core.storage.failures import translating_driver_errors
from goalpath.core.storage.integrity import VerificationReport, verify_chains
from goalpath.core.storage.keys import ClientKeyStore, MasterKey
from goalpath.core.storage.locations import MEMORY, StoreSpec, resolve_location, store_spec
from goalpath.core.storage.started import check_started
from goalpath.core.values import Actor, as_uuid

__all__ = [
    "DEFAULT_DB_PATH",
    "DEFAULT_SNAPSHOT_INTERVAL",
    "UNCHANGED",
    "GoalpathApp",
    "engine_of",
    "local_today",
    "resolve_db_path",
]

DEFAULT_DB_PATH: Final = "goalpath.db"
"""The embedded store's file when no --db, GOALPATH_DATABASE_URL or GOALPATH_DB says otherwise."""


def resolve_db_path(db: str | os.PathLike[str] | None) -> str:
    """Return the store to use (see :func:`goalpath.core.storage.locations.resolve_location`)."""
    return resolve_location(db)


@translating_driver_errors
class GoalpathApp(GoalCommands):
    """Therapy goals, event-sourced: goalpath's commands and reads, and nothing else.

    A facade: the eventsourcing application that stores the events (the
    engine, :class:`~goalpath.core.application.sealed.SealedApplication`) is
    held privately, so its persistence methods (``save``, ``take_snapshot``,
    ``repository``, ``notify``, the notification log), which would bypass
    every goalpath check, are not part of this API. No driver error escapes it: each is a
    ``StoreError`` (:mod:`goalpath.core.storage.failures`).

    ``store`` is a SQLite file path (the embedded default), ``":memory:"``
    for an in-memory store (tests), or a ``postgresql://`` URL (production).
    ``tenant`` gives an organisation a store of its own (its own PostgreSQL
    schema, or its own SQLite file beside the given one). ``today`` gives the
    current date for rules such as "an observation cannot be dated in the
    future"; hosts and tests may pass their own clock. ``snapshot_interval``
    takes a snapshot of a goal every that many events (0 turns snapshots off).
    ``create=False`` refuses a store never started (a SQLite file that does not exist, a
    tenant without its schema) with :class:`~goalpath.core.errors.StoreError`: for reads,
    where a mistyped path or tenant must not answer from a new, empty store.

    ``master_key`` encrypts and chains every record; without it, the key is
    found by :func:`goalpath.core.storage.keys.resolve_master_key` (``GOALPATH_KEY``,
    ``GOALPATH_KEY_FILE``, or a key file beside a SQLite store).

    ``policy`` decides every command and every read given a principal
    (:class:`~goalpath.core.authorization.ClinicalPolicy` unless the host
    supplies its own). Commands take the principal as ``actor``: a
    :class:`~goalpath.core.authorization.Principal`, or an ``Actor``, which
    counts as a principal asserted by the caller and is decided the same way.
    Reads given a ``principal`` are decided and logged in the access log
    (:meth:`reading`); reads without one are the host's own trusted
    reads (projectors, exporters), neither decided nor logged.

    Every command takes an optional ``idempotency_key``: repeated with the
    same key it returns its first result and writes nothing, and the key
    given with another command is refused; a create given the caller's id
    (``goal_id=``, ``episode_id=``) takes the id as a key too
    (:mod:`goalpath.core.application.idempotency`).
    """

    # The imports are keyed here, apart from their definitions (goal_commands.py).
    import_measurements = idempotency.idempotent()(GoalCommands.import_measurements)
    import_measurements_of_goals = idempotency.idempotent()(
        GoalCommands.import_measurements_of_goals
    )

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
        policy: Policy | None = None,
        create: bool = True,
    ) -> None:
        self.policy = ClinicalPolicy() if policy is None else policy
        if not create:
            check_started(store_spec(os.fspath(store), tenant))
        self._engine = SealedApplication(
            store,
            tenant=tenant,
            today=today,
            snapshot_interval=snapshot_interval,
            lock_timeout_seconds=lock_timeout_seconds,
            master_key=master_key,
            key_store=key_store,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GoalpathApp({self._engine.store.description})"

    @property
    def store(self) -> StoreSpec:
        """Where this application's store lives: its kind, location and description."""
        return self._engine.store

    @property
    def store_location(self) -> str:
        """The store's location: a SQLite file path, ``:memory:`` or a PostgreSQL URL."""
        return self._engine.store_location

    def close(self) -> None:
        """Close the store's connections (a unit of work's copy leaves them to its application)."""
        self._engine.close()

    # -- units of work ----------------------------------------------------------

    @contextmanager
    def unit_of_work(self, *, connection: Any = None) -> Iterator[Self]:
        """Run several commands, on several aggregates, and write them in one transaction.

        Yields an application like this one, whose commands run exactly as
        this one's (authorized, checked, refused with the same typed errors)
        but keep what they change in the unit: later commands of the unit
        see it, and nothing is written until the block exits without an
        error. Then every change is written in one transaction; an error in
        the block (raised on), or another writer's change to one of the same
        aggregates meanwhile (:class:`~goalpath.core.errors.ConflictError`),
        writes nothing. Reads of history and time travel show what is stored.

        ``connection``, on a PostgreSQL store: the host's own psycopg
        connection, inside a transaction the host has begun. goalpath writes
        within it (in a savepoint) and neither commits nor rolls back: the
        host's rollback removes goalpath's writes too. The events table stays
        locked for other writers until the host's transaction ends.

        An erasure cannot be part of a unit (it destroys a key at once), and
        units do not nest.
        """
        if self._engine._unit is not None:
            raise InvalidCommandError("units of work do not nest; give the command to this unit")
        if connection is not None:
            check_host_connection(connection, self.store.kind)
        work = copy.copy(self)
        work._engine = copy.copy(self._engine)  # shares the store; keeps saves in the unit
        unit = work._engine._unit = PendingWrites()
        try:
            yield work
        finally:
            unit.ended = True
        self._engine._write_unit(unit, connection)

    # -- episodes -------------------------------------------------------------

    @retried_on_conflict
    @idempotency.idempotent()
    def record_session(
        self,
        episode_id: UUID,
        *,
        actor: Principal | Actor,
        held_on: date | None = None,
        attended: bool = True,
        number: int | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> int:
        """Record the episode's next session; return its number.

        A session is a fact about the day it was held, whatever else the
        episode recorded meanwhile (its number is the next one when it lands;
        a given ``number`` is checked again), so without ``expected_version``
        a concurrent write is retried, not refused (:func:`retried_on_conflict`).
        """
        with self._engine._changing(Episode, episode_id, expected_version) as episode:
            actor = self._authorize(actor, "record_session", self._episode_subject(episode))
            today = self.today()
            return episode.record_session(
                held_on=today if held_on is None else held_on,
                attended=attended,
                actor=actor,
                today=today,
                number=number,
            )

    # -- reads ------------------------------------------------------------------

    def get_episode(
        self,
        episode_id: UUID,
        *,
        version: int | None = None,
        as_of: datetime | None = None,
        effective_on: date | None = None,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> Episode:
        """Return an episode as it is now, at a given version, or at a past time of either kind.

        ``as_of`` is recorded time and ``effective_on`` effective time, as for
        :meth:`get_goal`. With a ``principal`` the read is decided and logged
        (:meth:`reading`).
        """
        if version is not None and (as_of is not None or effective_on is not None):
            raise InvalidValueError("give a version or a time, not both")
        with self._logged(principal, "episode", episode_id=episode_id, purpose=purpose):
            if as_of is not None or effective_on is not None:
                return self._engine._as_of(Episode, episode_id, as_of, effective_on)
            if version is None:
                return self._engine._load(Episode, episode_id)
            return self._engine._at_version(Episode, episode_id, version)

    def episode_events(
        self,
        episode_id: UUID,
        *,
        principal: Principal | Actor | None = None,
        purpose: str | None = None,
    ) -> list[Episode.Event]:
        """Return every stored event of an episode, oldest first.

        With a ``principal`` the read is decided and logged as a ``history`` read.
        """
        episode_id = as_uuid(episode_id, "episode")
        with self._logged(principal, "history", episode_id=episode_id, purpose=purpose):
            self._engine.sealing.check_not_erased(episode_id)
            events = cast("list[Episode.Event]", list(self._engine.events.get(episode_id)))
            if not events or not isinstance(events[0], Episode.Opened):
                raise NotFoundError("episode", episode_id)
            return events

    def iter_events(self, *, start: int = 1, batch: int = 500) -> Iterator[tuple[int, Any]]:
        """Yield ``(position, event)`` for every readable event in recording order, streaming.

        Events of an erased client cannot be read and are left out.
        """
        return self._engine.iter_events(start=start, batch=batch)

    # -- audit and privacy --------------------------------------------------------

    @idempotency.idempotent(unit=False)
    def erase_client(
        self,
        client_id: str,
        *,
        reason: str,
        actor: Principal | Actor,
        idempotency_key: str | None = None,
    ) -> UUID:
        """Erase a client's data by destroying their key (crypto-shredding); return the record id.

        The erasure itself is recorded first (who, when, why, which client),
        under goalpath's own key. Afterwards the client's events remain as
        structure (ids, versions, types) for the audit, their content can no
        longer be read, and read models drop the client's rows as they
        process the erasure record. Only a supervisor (or the system, for
        automated retention rules) may erase, and a reason is required.
        With an ``idempotency_key``, the erasure of a client already erased
        (a retry whose first attempt completed) answers with its record id.
        """
        if self._engine._unit is not None:
            raise InvalidCommandError(
                "an erasure destroys a key at once and cannot be part of a unit of work; "
                "erase the client through the application, outside the unit"
            )
        actor = self._authorize(actor, "erase_client", Subject(client_id))
        ClientErasure.check_request(actor, reason)
        record = self._engine.keys.lookup(client_id)
        if record is None:
            raise NotFoundError("client", client_id)
        if record.erased_on is not None:
            if idempotency_key is not None and self._engine._exists(erasure_id(record.key_id)):
                return erasure_id(record.key_id)  # a keyed retry: the erasure is complete
            raise InvalidCommandError(
                f"client {client_id} was already erased on {record.erased_on}"
            )
        record_id = erasure_id(record.key_id)
        if not self._engine._exists(record_id):
            erasure = ClientErasure.record(
                client_id=client_id, key_id=record.key_id, reason=reason, actor=actor
            )
            self._engine._save(erasure, based_on={})
        self._engine.keys.erase(client_id)
        self._engine.sealing.forget_key(record.key_id)
        self._engine.forget_cached()
        return record_id

    def purge(self) -> None:
        """Make sure no destroyed key lingers in the store's files.

        An erasure does this itself; call it again after an
        :class:`~goalpath.core.storage.sqlite_files.ErasureIncompleteError`, once the
        other processes on the file have closed.
        """
        self._engine.keys.purge()

    def erasures(self) -> list[ClientErasure]:
        """Every recorded erasure, oldest first."""
        found = []
        for _position, domain_event in self.iter_events():
            if isinstance(domain_event, ClientErasure.Recorded):
                found.append(self._engine._load(ClientErasure, domain_event.originator_id))
        return found

    def verify(self, progress: Callable[[int], None] | None = None) -> VerificationReport:
        """Recompute every stream's hash chain and report what does not verify."""
        recorder = self._engine.recorder
        sealed = recorder if isinstance(recorder, SEALED_RECORDERS) else None
        return verify_chains(
            recorder,
            self._engine.sealing.chain_key,
            self._engine.keys,
            check_notification_gaps=self.store.kind == "sqlite",
            progress=progress,
            sealed=sealed.read_sealed_state() if sealed is not None else None,
            seal_key=self._engine.master_key.derive("store-seal"),
        )


def engine_of(app: GoalpathApp) -> SealedApplication:
    """The eventsourcing application behind ``app``: for goalpath's own packages only.

    The read side's runner (the notification log), the audit export and the
    checkpoints (the recorder, the mapper, the client keys), the CLI's
    projection process, the benchmarks and the tests reach the engine
    through this one accessor. A host never needs it: the engine's methods
    (``save``, ``take_snapshot``, the repository) bypass every goalpath
    check, authorization and access log included.
    """
    return app._engine
