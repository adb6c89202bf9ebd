"""The record of a client's erasure: who, when, why, which client; no personal data."""

from __future__ import annotations

from typing import ClassVar, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from goalpath.core.values import Actor

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
