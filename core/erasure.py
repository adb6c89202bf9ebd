"""The record of a client's erasure: who, when, why, which client; no personal data."""

from __future__ import annotations

from typing import ClassVar, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from goalpath.core.errors import InvalidCommandError
from goalpath.core.values import Actor, check_actor, check_reason

__all__ = ["ERASING_ROLES", "ClientErasure", "erasure_id"]

ERASING_ROLES: Final = frozenset({"supervisor", "system"})
"""Roles allowed to erase a client's data."""

_NAMESPACE: Final = uuid5(NAMESPACE_URL, "https://goalpath.dev/erasures")


def erasure_id(key_id: UUID) -> UUID:
    """The id of the erasure record of a client key: one erasure per key."""
    return uuid5(_NAMESPACE, str(key_id))


class ClientErasure(Aggregate):
    """A client's data was erased by destroying their key (crypto-shredding).

    Stored under goalpath's own key, so it stays readable after the erasure.
    """

    class Recorded(Aggregate.Created):
        """The erasure: which client, whose key, why, by whom."""

        goalpath_system_record: ClassVar[bool] = True
        client_id: str
        key_id: UUID
        reason: str
        actor: Actor

    @event(Recorded)
    def __init__(self, *, client_id: str, key_id: UUID, reason: str, actor: Actor) -> None:
        self.client_id = client_id
        self.key_id = key_id
        self.reason = reason
        self.erased_by = actor

    @staticmethod
    def check_request(actor: Actor, reason: str) -> str:
        """Refuse an erasure that ``actor`` may not make, or that gives no reason; return it.

        Only a supervisor (or the system, for automated retention rules) may erase.
        """
        check_actor(actor)
        if actor.role not in ERASING_ROLES:
            raise InvalidCommandError(
                f"erasing a client needs the role {' or '.join(sorted(ERASING_ROLES))}; "
                f"{actor.id} acts as {actor.role}"
            )
        return check_reason(reason, "erase a client", "for example the request's reference")

    @classmethod
    def record(cls, *, client_id: str, key_id: UUID, reason: str, actor: Actor) -> ClientErasure:
        """Record the erasure of the client whose key is ``key_id``, after the checks above."""
        checked = cls.check_request(actor, reason)
        return cls._create(
            cls.Recorded,
            id=erasure_id(key_id),
            client_id=client_id,
            key_id=key_id,
            reason=checked,
            actor=actor,
        )
