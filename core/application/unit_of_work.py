"""Units of work: several commands on several aggregates, committed in one transaction.

Inside ``with app.unit_of_work() as work:`` the commands of ``work`` (a
:class:`~goalpath.core.application.GoalpathApp` like ``app``) run exactly
as they do outside: each loads its aggregates, is authorized, checks its
rules and changes the aggregate. Only the save differs: the changed
aggregates are kept in the unit (:class:`PendingWrites`), where later
commands of the same unit load them, and nothing is written until the block
exits without an error. Then every new event of every aggregate is sealed
and written in one transaction; an error in the block, or a conflict at the
end, writes nothing.

On PostgreSQL the unit may write inside a host's own transaction
(``unit_of_work(connection=...)``): goalpath inserts its rows through the
host's psycopg connection, in a savepoint, and neither commits nor rolls
back; the host's rollback removes them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from goalpath.core.errors import InvalidCommandError, InvalidValueError
from goalpath.core.storage.idempotency_records import KeyRecord

__all__ = ["PendingWrites", "check_host_connection"]


class PendingWrites:
    """The aggregates a unit of work changed, not yet written, with the versions it loaded.

    ``based_on`` keeps, per aggregate, the version first loaded from the
    store (0 for an aggregate new in the unit): the write at the end is
    against those versions, so a change another writer saved meanwhile is
    a conflict and nothing is written. ``keys`` are the records of the
    idempotency keys of its commands, written in the same transaction.

    ``holding``: the unit of one keyed command
    (:mod:`goalpath.core.application.idempotency`), which keeps the
    aggregate's command lock from its load until the unit is written
    (:meth:`release`), as a command outside a unit does until its save.
    """

    def __init__(self, *, holding: bool = False) -> None:
        self._aggregates: dict[UUID, Aggregate] = {}
        self.based_on: dict[UUID, int] = {}
        self.keys: dict[bytes, KeyRecord] = {}
        self.ended = False
        self._holding = holding
        self._held: list[threading.Lock] = []

    def check_open(self) -> None:
        """Refuse a command given to a unit of work whose block has ended."""
        if self.ended:
            raise InvalidCommandError(
                "this unit of work has ended (its block exited); give commands to the "
                "application, or open a new unit of work"
            )

    def stash(self, aggregates: Iterable[Aggregate], based_on: Mapping[UUID, int]) -> None:
        """Keep what a command changed; the first loaded version of each aggregate stays."""
        self.check_open()
        for aggregate in aggregates:
            self.based_on.setdefault(aggregate.id, based_on.get(aggregate.id, 0))
            self._aggregates[aggregate.id] = aggregate

    def pending(self, aggregate_id: UUID) -> Aggregate | None:
        """A copy of an aggregate as the unit changed it (``None``: not changed in the unit).

        A copy, so a command that fails half-way leaves the unit's version as it was.
        """
        self.check_open()
        found = self._aggregates.get(aggregate_id)
        return None if found is None else copy.deepcopy(found)

    def aggregates(self) -> list[Aggregate]:
        """Every changed aggregate, in the order the unit first changed it."""
        return list(self._aggregates.values())

    def record_key(self, record: KeyRecord) -> None:
        """Keep an idempotency key's record, written with the unit's events."""
        self.keys[record.key] = record

    def guarded(self, lock: threading.Lock) -> AbstractContextManager[object]:
        """What a command holds while it changes an aggregate guarded by ``lock``.

        The lock itself, released when the command has stashed its change; in a
        ``holding`` unit, the lock is taken once and kept until :meth:`release`.
        """
        if not self._holding:
            return lock
        if lock not in self._held:
            lock.acquire()
            self._held.append(lock)
        return nullcontext()

    def release(self) -> None:
        """Release the locks a ``holding`` unit kept (once it is written, or given up)."""
        while self._held:
            self._held.pop().release()


def check_host_connection(connection: Any, store_kind: str) -> None:
    """Refuse a host connection goalpath cannot write within (see :func:`GoalpathApp.unit_of_work`).

    It must be a psycopg connection, to a PostgreSQL store, inside a
    transaction the host has begun (goalpath neither begins nor ends it).
    """
    import psycopg  # noqa: PLC0415  # PostgreSQL support is needed only for PostgreSQL stores
    from psycopg.pq import TransactionStatus  # noqa: PLC0415

    if store_kind != "postgres":
        raise InvalidValueError(
            f"a host connection can only be given for a PostgreSQL store; this store is "
            f"{store_kind}: leave connection out"
        )
    if not isinstance(connection, psycopg.Connection):
        raise InvalidValueError(
            f"connection must be a psycopg connection; got {type(connection).__name__}"
        )
    if connection.info.transaction_status != TransactionStatus.INTRANS:
        raise InvalidValueError(
            "the host connection is not inside a transaction: begin one first "
            "(goalpath writes within it and neither commits nor rolls back)"
        )
