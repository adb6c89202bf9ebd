"""The audit log read model: one row per event, with who, when, what changed and why.

Table ``gp_audit_log``: the event's log position, recorded time (UTC),
stream type and id, goal (for goal events), episode and client, event
type, actor, effective date, the field-level changes (JSON list of
``{field, before, after}``, described by :mod:`goalpath.core.changes`, as
``goal history`` and the audit export describe them) and the reason.
Searchable by actor, client, goal, episode and time range.

An erasure record deletes every row of its client and is logged itself
(aggregate ``erasure``: who, when, why, and which client id).

The projector reads the goal's previous state from the current-state
tables, so it must run before :class:`~goalpath.projections.current_state.StateProjector`
in the same batch.
"""

# ruff: noqa: S608  # table names and WHERE clauses are goalpath's own; values are parameters

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final
from uuid import UUID

import attrs

from goalpath.core.access import AccessRecord
from goalpath.core.changes import (
    FieldChange,
    MeasurementState,
    StreamState,
    describe_changes,
    effective_on,
    stream_type,
)
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure
from goalpath.core.errors import UnhandledEventError
from goalpath.core.goal import Goal
from goalpath.core.values import Actor
from goalpath.projections.read_model_store import StoreTransaction
from goalpath.projections.records import definition_from_json

MAX_CACHED_OWNERS = 20_000
"""Streams whose owning client the audit projector remembers between batches."""

__all__ = [
    "AUDIT_SCHEMA",
    "AUDIT_TABLES",
    "AuditEntry",
    "AuditFilter",
    "AuditLogProjector",
    "search_audit_log",
    "utc_text",
]

AUDIT_TABLES: Final = ("gp_audit_log",)

AUDIT_SCHEMA: Final = (
    (
        "CREATE TABLE IF NOT EXISTS gp_audit_log ("
        "position INTEGER PRIMARY KEY, recorded_at TEXT NOT NULL, aggregate TEXT NOT NULL, "
        "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, goal_id TEXT, "
        "episode_id TEXT, client_id TEXT, event_type TEXT NOT NULL, actor_id TEXT, "
        "actor_role TEXT, effective_on TEXT, changes TEXT NOT NULL, reason TEXT)"
    ),
    "CREATE INDEX IF NOT EXISTS gp_audit_log_goal ON gp_audit_log (goal_id)",
    "CREATE INDEX IF NOT EXISTS gp_audit_log_client ON gp_audit_log (client_id)",
    "CREATE INDEX IF NOT EXISTS gp_audit_log_actor ON gp_audit_log (actor_id)",
    "CREATE INDEX IF NOT EXISTS gp_audit_log_time ON gp_audit_log (recorded_at)",
)
"""DDL of the audit log."""

Owner = tuple[str | None, str | None]
"""The episode id and client id a stream belongs to."""


_ENCODER: Final = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def utc_text(moment: datetime) -> str:
    """A timestamp as fixed-width UTC text, so that text order is time order."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class AuditLogProjector:
    """Writes one audit row per event."""

    name = "audit"
    schema = AUDIT_SCHEMA
    tables = AUDIT_TABLES

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []
        # Which episode and client each stream belongs to: facts that never
        # change, so the cache stays right even when a batch is rolled back.
        self._owners: dict[str, Owner] = {}

    def _owner(self, transaction: StoreTransaction, stream: str, goal: bool) -> Owner:
        owner = self._owners.get(stream)
        if owner is None:
            sql = (
                "SELECT episode_id, client_id FROM gp_goals WHERE goal_id = ?"
                if goal
                else "SELECT episode_id, client_id FROM gp_episodes WHERE episode_id = ?"
            )
            rows = transaction.query(sql, (stream,))
            owner = (rows[0][0], rows[0][1]) if rows else (None, None)
            if rows:
                self._owners[stream] = owner
        return owner

    def _previous_goal(
        self, transaction: StoreTransaction, goal_id: str, event: object
    ) -> StreamState | None:
        """What the description of a goal event reads of the goal before it, from the tables."""
        if isinstance(event, Goal.Created | Goal.Measured):
            return None
        if isinstance(event, Goal.MeasurementCorrected):
            rows = transaction.query(
                "SELECT value, status, original_value FROM gp_measurements "
                "WHERE goal_id = ? AND sequence = ?",
                (goal_id, event.sequence),
            )
            return StreamState(
                measurements={event.sequence: MeasurementState(*rows[0])} if rows else {}
            )
        if isinstance(event, Goal.Reviewed):
            rows = transaction.query(
                "SELECT status, reviews_count FROM gp_goals WHERE goal_id = ?", (goal_id,)
            )
            return StreamState(status=rows[0][0], reviews=rows[0][1]) if rows else None
        if not isinstance(event, Goal.Refined):
            rows = transaction.query("SELECT status FROM gp_goals WHERE goal_id = ?", (goal_id,))
            return StreamState(status=rows[0][0]) if rows else None
        rows = transaction.query(
            "SELECT definition, status FROM gp_goals WHERE goal_id = ?", (goal_id,)
        )
        if not rows:
            return None
        return StreamState(definition=definition_from_json(rows[0][0]), status=rows[0][1])

    @staticmethod
    def _previous_episode(
        transaction: StoreTransaction, episode_id: str, position: int, event: object
    ) -> StreamState | None:
        """What the description of an episode event reads of the episode before it."""
        if isinstance(event, Episode.TherapistAssigned):
            rows = transaction.query(
                "SELECT COUNT(*) FROM gp_episode_therapists WHERE episode_id = ?", (episode_id,)
            )
            return StreamState(therapists=int(rows[0][0]))
        if isinstance(event, Episode.GoalAdded):
            # The goals stated in the episode before this one (each is stated, at an
            # earlier position, before it is added).
            rows = transaction.query(
                "SELECT COUNT(*) FROM gp_goals WHERE episode_id = ? AND stated_at < ? "
                "AND goal_id <> ?",
                (episode_id, position, event.goal_id.hex),
            )
            return StreamState(goals=int(rows[0][0]))
        return None

    def start_batch(self) -> None:
        """Forget rows left from a batch that failed; keep the owner cache bounded."""
        self._rows.clear()
        if len(self._owners) > MAX_CACHED_OWNERS:
            # Only a cache: _owner() falls back to the goal and episode tables.
            self._owners.clear()

    def finish_batch(self, transaction: StoreTransaction) -> None:
        """Write the batch's audit rows in one statement."""
        transaction.executemany(
            "INSERT INTO gp_audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", self._rows
        )
        self._rows.clear()

    def apply(self, transaction: StoreTransaction, position: int, event: Any) -> None:
        """Prepare the audit row of one event at notification ``position``."""
        stream = event.originator_id.hex
        goal_id: str | None = None
        owner: Owner
        if isinstance(event, Goal.Event):
            goal_id = stream
            if isinstance(event, Goal.Created):
                owner = (event.episode_id.hex, event.client_id)
                self._owners[stream] = owner
            else:
                owner = self._owner(transaction, stream, goal=True)
            previous = self._previous_goal(transaction, stream, event)
        elif isinstance(event, Episode.Event):
            if isinstance(event, Episode.Opened):
                owner = (stream, event.client_id)
                self._owners[stream] = owner
            else:
                owner = self._owner(transaction, stream, goal=False)
            previous = self._previous_episode(transaction, stream, position, event)
        elif isinstance(event, ClientErasure.Recorded):
            self.finish_batch(transaction)
            transaction.execute("DELETE FROM gp_audit_log WHERE client_id = ?", (event.client_id,))
            self._owners = {
                key: value for key, value in self._owners.items() if value[1] != event.client_id
            }
            owner, previous = (None, event.client_id), None
        elif isinstance(event, AccessRecord.Recorded):
            return  # reads are listed by the access log (`goalpath audit access`), not here
        else:
            raise UnhandledEventError(event)
        actor = getattr(event, "actor", None)
        changes = [change.as_record() for change in describe_changes(previous, event)]
        self._rows.append(
            (
                position,
                utc_text(event.timestamp),
                stream_type(event),
                stream,
                event.originator_version,
                goal_id,
                owner[0],
                owner[1],
                type(event).__name__,
                actor.id if isinstance(actor, Actor) else None,
                actor.role if isinstance(actor, Actor) else None,
                _iso(effective_on(event)),
                _ENCODER.encode(changes),
                getattr(event, "reason", None),
            ),
        )


@attrs.frozen
class AuditEntry:
    """One row of the audit log.

    Its fields have the names of :class:`goalpath.core.history.HistoryEntry`
    (``goal history``) and of the audit export's columns, and its changes
    the same records; ``position``, ``goal_id``, ``episode_id`` and
    ``client_id`` say where the event stands in the log and whose it is.
    """

    position: int
    recorded_at: datetime
    stream_type: str
    stream_id: UUID
    version: int
    goal_id: UUID | None
    episode_id: UUID | None
    client_id: str | None
    event_type: str
    actor_id: str | None
    actor_role: str | None
    effective_on: date | None
    changes: tuple[FieldChange, ...]
    reason: str | None


@attrs.frozen
class AuditFilter:
    """Which audit rows to return; every given criterion must match."""

    actor_id: str | None = None
    client_id: str | None = None
    goal_id: UUID | None = None
    episode_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    after: int | None = None
    """Only rows after this log position (a change feed's cursor)."""


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def search_audit_log(transaction: StoreTransaction, criteria: AuditFilter) -> list[AuditEntry]:
    """Return the audit rows matching ``criteria``, oldest first."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("actor_id", criteria.actor_id),
        ("client_id", criteria.client_id),
        ("goal_id", criteria.goal_id.hex if criteria.goal_id else None),
        ("episode_id", criteria.episode_id.hex if criteria.episode_id else None),
    ):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if criteria.since is not None:
        clauses.append("recorded_at >= ?")
        params.append(utc_text(criteria.since))
    if criteria.until is not None:
        clauses.append("recorded_at <= ?")
        params.append(utc_text(criteria.until))
    if criteria.after is not None:
        clauses.append("position > ?")
        params.append(criteria.after)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    limit = ""
    if criteria.limit is not None:
        limit = "LIMIT ?"
        params.append(criteria.limit)
    rows = transaction.query(
        f"SELECT * FROM gp_audit_log {where} ORDER BY position {limit}",
        params,
    )
    return [_entry(row) for row in rows]


def _entry(row: Sequence[Any]) -> AuditEntry:
    (position, recorded_at, kind, stream, version, goal_id, episode_id, client_id,
     event_type, actor_id, actor_role, effective, changes, reason) = row  # fmt: skip
    return AuditEntry(
        position=position,
        recorded_at=datetime.strptime(recorded_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        stream_type=kind,
        stream_id=UUID(stream),
        version=version,
        goal_id=_uuid(goal_id),
        episode_id=_uuid(episode_id),
        client_id=client_id,
        event_type=event_type,
        actor_id=actor_id,
        actor_role=actor_role,
        effective_on=None if effective is None else date.fromisoformat(effective),
        changes=tuple(FieldChange(**change) for change in json.loads(changes)),
        reason=reason,
    )
