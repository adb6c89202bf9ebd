"""Exporting the history of a store for auditors, streaming, with field-level changes.

:func:`export_rows` yields the rows; :func:`verified_export` verifies the
store first (refusing a store that does not verify, before a row is
written) and gives the checkpoint the export was taken at: every row
carries its record's chain hash, so a whole-store export can be checked
against that checkpoint's root on its own
(``python -m goalpath.core.storage.proof_verifier export``).
:func:`spreadsheet_safe` keeps a CSV cell from being read as a formula.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Final
from uuid import UUID

import attrs

from goalpath.core.application.goalpath_app import GoalpathApp, engine_of
from goalpath.core.errors import ClientErasedError, InvalidValueError, TamperedError
from goalpath.core.history import HistoryBuilder
from goalpath.core.storage.mapper import CHAIN, open_envelope
from goalpath.core.storage.merkle_log import MerkleTree, read_leaves
from goalpath.core.storage.proof_verifier import Checkpoint

__all__ = [
    "EXPORT_FIELDS",
    "ExportRefusedError",
    "VerifiedExport",
    "export_rows",
    "spreadsheet_safe",
    "verified_export",
]

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula, at the start of a cell."""


class ExportRefusedError(TamperedError):
    """The store did not verify, so nothing was exported."""


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
    "chain",
)
"""The columns of an audit export, in order.

Those of :meth:`goalpath.core.history.HistoryEntry.document` (``goal history``)
and of the audit log's entries, with the log position, the client, whether
the client was erased, and the record's chain hash (hex: with the position,
stream id and version, its leaf in the store's Merkle log).
"""


def export_rows(
    app: GoalpathApp,
    *,
    client_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 500,
    stop: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield one row per stored event, in recording order, for an auditor's tools.

    ``client_id`` keeps only that client's episodes and goals; ``since`` and
    ``until`` bound the recording time; ``stop`` is the last position to
    export. An erased client's events are exported as structure only
    (stream, version, type, ``erased: true``): their content, including the
    recording time, can no longer be read.
    """
    for moment, name in ((since, "since"), (until, "until")):
        if moment is not None and moment.tzinfo is None:
            raise InvalidValueError(f"--{name} needs a time zone; got {moment.isoformat()}")
    builder = HistoryBuilder()
    stream_clients: dict[UUID, str] = {}
    engine = engine_of(app)
    record = engine.keys.lookup(client_id) if client_id is not None else None
    client_key = record.key_id if record is not None else None
    position = 1
    while True:
        if stop is not None and position > stop:
            return
        notifications = engine.recorder.select_notifications(start=position, limit=batch, stop=stop)
        if not notifications:
            return
        for notification in notifications:
            try:
                domain_event = engine.mapper.to_domain_event(notification)
            except ClientErasedError:
                key_id = open_envelope(notification).key_id
                wanted = client_id is None or key_id == client_key
                if wanted and since is None and until is None:
                    yield _erased_row(notification, client_id)
                continue
            row = _row(builder, stream_clients, domain_event, notification)
            if _wanted(row, client_id, since, until):
                yield row
        position = notifications[-1].id + 1


def _row(
    builder: HistoryBuilder, stream_clients: dict[UUID, str], domain_event: Any, notification: Any
) -> dict[str, Any]:
    stream = domain_event.originator_id
    owner = getattr(domain_event, "client_id", None)
    if domain_event.originator_version == 1 and isinstance(owner, str):
        stream_clients[stream] = owner
    row = builder.entry_for(domain_event).document()
    row["position"] = notification.id
    row["client_id"] = stream_clients.get(stream)
    row["erased"] = False
    row["chain"] = bytes(notification.state[CHAIN]).hex()
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
        "chain": bytes(notification.state[CHAIN]).hex(),
    }


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a leading ``'`` before a formula's start.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    would be run as a formula (OWASP's CSV injection); other values are kept.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@attrs.frozen
class VerifiedExport:
    """An export of a verified store: its rows, and the checkpoint it was taken at."""

    rows: Iterator[dict[str, Any]]
    checkpoint: Checkpoint


def verified_export(
    app: GoalpathApp,
    *,
    origin: str,
    client_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> VerifiedExport:
    """Verify the store, then export it up to the records verified, with their checkpoint.

    ``origin`` names the log in the checkpoint (the signing key's name).

    Raises:
        ExportRefusedError: the store does not verify; nothing was exported.
    """
    leaves = read_leaves(engine_of(app).recorder)
    tree = MerkleTree.of_leaves(leaves)
    report = app.verify()
    if not report.ok:
        first = report.problems[0]
        raise ExportRefusedError(
            f"the store does not verify (stream {first.stream_id} version {first.version}: "
            f"{first.detail}); nothing was exported. Run `goalpath audit verify` for every problem"
        )
    rows = export_rows(
        app,
        client_id=client_id,
        since=since,
        until=until,
        stop=leaves[-1].position if leaves else 0,
    )
    return VerifiedExport(rows, Checkpoint(origin, tree.size, tree.root()))
