"""The access log: a record of every read of a client's data, identifiers only.

Each read through the API (a plan, a goal, progress, history, an audit or
FHIR export, the access log itself) appends one :class:`AccessRecord`: who
read (principal id, role, and who vouched for them), when (the event's
timestamp), what kind of read, which client, episode or goal, and the
purpose when the caller gave one. No health content is kept (ISO 27789).

Access records are events of their own aggregate in the same sealed event
log, stored under goalpath's own key like the erasure records: the hash
chains and ``audit verify`` cover them, and they stay readable after a
client's erasure, as the structure of who looked at what.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

import attrs
from eventsourcing.domain import Aggregate, event

from goalpath.core.authorization import READS, Principal, Read
from goalpath.core.values import Actor, identifier, one_of, text

__all__ = ["AccessEntry", "AccessRecord"]


@attrs.frozen
class _Read:
    """The checked fields of one read (validated on construction)."""

    read: Read = attrs.field(validator=one_of("read", READS))
    client_id: str | None = attrs.field(default=None)
    purpose: str | None = attrs.field(default=None, validator=text("purpose", 200, required=False))

    @client_id.validator
    def _check_client(self, attribute: Any, value: object) -> None:
        if value is not None:
            identifier("client id")(self, attribute, value)


class AccessRecord(Aggregate):
    """One read of a client's data (or of the whole store's history), identifiers only."""

    class Recorded(Aggregate.Created):
        """A read: by whom, vouched for by whom, what kind, of which client, episode or goal."""

        goalpath_system_record: ClassVar[bool] = True
        actor: Actor
        asserted_by: str
        read: str
        client_id: str | None
        episode_id: UUID | None
        goal_id: UUID | None
        purpose: str | None

    @event(Recorded)
    def __init__(
        self,
        *,
        actor: Actor,
        asserted_by: str,
        read: str,
        client_id: str | None,
        episode_id: UUID | None,
        goal_id: UUID | None,
        purpose: str | None,
    ) -> None:
        self.actor = actor
        self.asserted_by = asserted_by
        self.read = read
        self.client_id = client_id
        self.episode_id = episode_id
        self.goal_id = goal_id
        self.purpose = purpose

    @classmethod
    def record(
        cls,
        principal: Principal,
        read: Read,
        *,
        client_id: str | None = None,
        episode_id: UUID | None = None,
        goal_id: UUID | None = None,
        purpose: str | None = None,
    ) -> AccessRecord:
        """Record that ``principal`` made a ``read`` of a client's data (``None``: every client)."""
        checked = _Read(read, client_id, purpose)
        return cls(
            actor=principal.actor,
            asserted_by=principal.asserted_by,
            read=checked.read,
            client_id=checked.client_id,
            episode_id=episode_id,
            goal_id=goal_id,
            purpose=checked.purpose,
        )


@attrs.frozen
class AccessEntry:
    """One entry of the access log as it is listed (``goalpath audit access``).

    Attributes:
        record_id: the access record's id (its stream in the event log).
        read_at: when the read was made (the record's timestamp).
        actor_id: who read.
        actor_role: their role.
        asserted_by: who vouched for them (``caller`` when nobody did).
        read: the kind of read (``plan``, ``history``, ``fhir-export`` ...).
        client_id: whose data, or ``None`` for every client.
        episode_id: the episode read, if one.
        goal_id: the goal read, if one.
        purpose: the purpose the caller gave, if any.
    """

    record_id: UUID
    read_at: datetime
    actor_id: str
    actor_role: str
    asserted_by: str
    read: str
    client_id: str | None
    episode_id: UUID | None
    goal_id: UUID | None
    purpose: str | None

    @classmethod
    def of(cls, recorded: AccessRecord.Recorded) -> AccessEntry:
        """The entry of one stored access record."""
        return cls(
            record_id=recorded.originator_id,
            read_at=recorded.timestamp,
            actor_id=recorded.actor.id,
            actor_role=recorded.actor.role,
            asserted_by=recorded.asserted_by,
            read=recorded.read,
            client_id=recorded.client_id,
            episode_id=recorded.episode_id,
            goal_id=recorded.goal_id,
            purpose=recorded.purpose,
        )

    def document(self) -> dict[str, Any]:
        """The entry as JSON-ready values (ids and times as text)."""
        return {
            "record_id": str(self.record_id),
            "read_at": self.read_at.isoformat(),
            "actor_id": self.actor_id,
            "actor_role": self.actor_role,
            "asserted_by": self.asserted_by,
            "read": self.read,
            "client_id": self.client_id,
            "episode_id": None if self.episode_id is None else str(self.episode_id),
            "goal_id": None if self.goal_id is None else str(self.goal_id),
            "purpose": self.purpose,
        }
