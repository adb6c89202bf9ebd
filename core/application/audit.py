"""Exporting the history of a store for auditors, streaming, with field-level changes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

from goalpath.core.errors import ClientErasedError, InvalidValueError
from goalpath.core.history import HistoryBuilder
from goalpath.core.storage.mapper import open_envelope

__all__ = ["EXPORT_FIELDS", "export_rows"]

EXPORT_FIELDS = (
    "position",
    "stream_id",
    "stream_type",
    "client_id",
    "version",
    "recorded_at",
    "effective_on",
    "event_type",
    "actor_id",
    "actor_role",
    "reason",
    "changes",
    "erased",
)
"""The columns of an audit export, in order.

Those of :meth:`goalpath.core.history.HistoryEntry.document` (``goal history``)
and of the audit log's entries, with the log position, the client and whether
the client was erased.
"""


def export_rows(
    app: Any,
    *,
    client_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 500,
) -> Iterator[dict[str, Any]]:
    """Yield one row per stored event, in recording order, for an auditor's tools.

    ``client_id`` keeps only that client's episodes and goals; ``since`` and
    ``until`` bound the recording time. An erased client's events are
    exported as structure only (stream, version, type, ``erased: true``):
    their content, including the recording time, can no longer be read.
    """
    for moment, name in ((since, "since"), (until, "until")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidValueError(f"--{name} needs a time zone; got {moment.isoformat()}")
    builder = HistoryBuilder()
    stream_clients: dict[UUID, str] = {}
    record = app.keys.lookup(client_id) if client_id is not None else None
    client_key = record.key_id if record is not None else None
    position = 1
    while True:
        notifications = app.recorder.select_notifications(start=position, limit=batch)
        if not notifications:
            return
        for notification in notifications:
            try:
                domain_event = app.mapper.to_domain_event(notification)
            except ClientErasedError:
                key_id = open_envelope(notification).key_id
                wanted = client_id is None or key_id == client_key
                if wanted and since is None and until is None:
                    yield _erased_row(notification, client_id)
                continue
            row = _row(builder, stream_clients, domain_event, notification.id)
            if _wanted(row, client_id, since, until):
                yield row
        position = notifications[-1].id + 1


def _row(
    builder: HistoryBuilder, stream_clients: dict[UUID, str], domain_event: Any, position: int
) -> dict[str, Any]:
    stream = domain_event.originator_id
    owner = getattr(domain_event, "client_id", None)
    if domain_event.originator_version == 1 and isinstance(owner, str):
        stream_clients[stream] = owner
    row = builder.entry_for(domain_event).document()
    row["position"] = position
    row["client_id"] = stream_clients.get(stream)
    row["erased"] = False
    row["recorded_at_time"] = domain_event.timestamp
    return row


def _wanted(
    row: dict[str, Any],
    client_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> bool:
    recorded: datetime = row.pop("recorded_at_time")
    if client_id is not None and row["client_id"] != client_id:
        return False
    if since is not None and recorded < since:
        return False
    return until is None or recorded <= until


def _erased_row(notification: Any, owner: str | None) -> dict[str, Any]:
    return {
        "position": notification.id,
        "stream_id": str(notification.originator_id),
        "stream_type": notification.topic.rsplit(":", 1)[-1].split(".")[0].lower(),
        "client_id": owner,
        "version": notification.originator_version,
        "recorded_at": None,
        "effective_on": None,
        "event_type": notification.topic.rsplit(".", 1)[-1],
        "actor_id": None,
        "actor_role": None,
        "reason": None,
        "changes": [],
        "erased": True,
    }
