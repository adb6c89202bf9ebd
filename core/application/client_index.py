"""Which episodes each client has: read from the event log once, then only its new events.

A client-level read (the FHIR search and export of a client, the decision of
a read named by its client) needs the client's episodes. The events are
encrypted, so no query of the store can find them: before this index, every
such read decrypted the whole log, twice for a FHIR search. The index reads
the log once per process and afterwards only the notifications recorded
since its last look, by any process (the log only grows, and on both stores
notification ids are committed in order).

An episode's client never changes, so an entry is never updated; an
erasure record drops the client's entries (their events can no longer be
read, and a fresh process never indexes them).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure

__all__ = ["ClientIndex"]


class _Log(Protocol):
    """What the index reads: the readable events from a position, and the log's end."""

    @property
    def recorder(self) -> Any:
        """The event recorder (its ``max_notification_id`` is the log's end)."""

    def iter_events(self, *, start: int = 1, batch: int = 500) -> Iterator[tuple[int, Any]]: ...


class ClientIndex:
    """The episodes of each client, in the order they were opened, kept up to the log's end.

    One index serves every thread of a process: looking it up brings it up to
    date first, under a lock, and reads nothing older than what it has read.
    """

    def __init__(self, log: _Log) -> None:
        self._log = log
        self._lock = threading.Lock()
        self._position = 0
        self._episodes: dict[str, list[tuple[UUID, datetime]]] = {}

    def episode_ids(self, client_id: str, *, as_of: datetime | None = None) -> list[UUID]:
        """The client's episodes, oldest first; with ``as_of``, those recorded by then."""
        with self._lock:
            self._catch_up()
            opened = list(self._episodes.get(client_id, ()))
        return [episode_id for episode_id, at in opened if as_of is None or at <= as_of]

    def _catch_up(self) -> None:
        head = int(self._log.recorder.max_notification_id() or 0)
        last = self._position
        for position, domain_event in self._log.iter_events(start=self._position + 1):
            if isinstance(domain_event, Episode.Opened):
                self._episodes.setdefault(domain_event.client_id, []).append(
                    (domain_event.originator_id, domain_event.timestamp)
                )
            elif isinstance(domain_event, ClientErasure.Recorded):
                self._episodes.pop(domain_event.client_id, None)
            last = position
        # Unreadable events (an erased client's) are passed over, not read again.
        self._position = max(head, last)
