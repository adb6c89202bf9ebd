"""The change feed: a host follows what changed without reading the whole log.

``GET /changes?after=POSITION`` answers the changes recorded after that
position of the log, oldest first, and the cursor to ask with next
(``next``); with ``wait`` (seconds, at most :data:`MAX_WAIT_SECONDS`) it
long-polls: when nothing is new it answers as soon as something is, or
empty when the wait is over. Each change names the event (its type, the
stream and version, the goal, episode and client it belongs to, when it was
recorded) and carries no health content: no statement, value, note, reason,
actor or field change; a host that needs those reads the goal or its
history, decided and logged as every read is.

A change is a row of the audit log read model
(:mod:`goalpath.projections.audit_log`), so reads are not changes (the
access log lists them) and an erased client's changes are gone with the
rest of their record. The feed is read as a ``history`` read of what it
names: a client's changes (a client reads their own: it is their default),
or the whole store (auditors, supervisors, the system). It needs a scope
covering ``Provenance.s``. A request is one read, logged once it has
answered, however many times a long poll looks while it waits; an empty
answer is logged too, because it tells the caller something of what it
names (that nothing changed).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from goalpath.projections.audit_log import AuditEntry
from goalpath.server.app import CallerDep, TenantDep, problem_responses
from goalpath.server.goal_routes import Purpose

__all__ = [
    "MAX_WAIT_SECONDS",
    "ChangeDocument",
    "ChangeFeedDocument",
    "change_document",
    "router",
]

router = APIRouter()

MAX_WAIT_SECONDS: Final = 30
"""The longest a request of the feed waits for a change (``wait``)."""

MAX_CHANGES: Final = 1000
"""The most changes one answer carries (``limit``); ``next`` asks for the rest."""

_POLL_SECONDS: Final = 0.2


class ChangeDocument(BaseModel):
    """One change: which event of which stream, whose, when; never its content."""

    position: int
    event_type: str
    stream_type: str
    stream_id: UUID
    version: int
    goal_id: UUID | None
    episode_id: UUID | None
    client_id: str | None
    recorded_at: str


class ChangeFeedDocument(BaseModel):
    """Changes after the cursor, oldest first, and the cursor to ask with next."""

    changes: list[ChangeDocument]
    next: int


def change_document(entry: AuditEntry) -> dict[str, Any]:
    """The change an audit row records, without its content (changes, reason, actor)."""
    return {
        "position": entry.position,
        "event_type": entry.event_type,
        "stream_type": entry.stream_type,
        "stream_id": str(entry.stream_id),
        "version": entry.version,
        "goal_id": None if entry.goal_id is None else str(entry.goal_id),
        "episode_id": None if entry.episode_id is None else str(entry.episode_id),
        "client_id": entry.client_id,
        "recorded_at": entry.recorded_at.isoformat(),
    }


@router.get(
    "/changes",
    response_model=None,
    responses=problem_responses(
        410, 422, ok={200: (ChangeFeedDocument, "The changes after the cursor.")}
    ),
    tags=["audit"],
    summary="The change feed",
)
async def changes(
    *,
    request: Request,
    tenant: TenantDep,
    caller: CallerDep,
    after: Annotated[
        int, Query(ge=0, le=2**62, description="The cursor: the last position seen (0: all).")
    ] = 0,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_CHANGES)] = 100,
    wait: Annotated[
        float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for a change.")
    ] = 0,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Changes after position ``after``, oldest first: ids, versions, times, no content.

    Pass the answer's ``next`` as ``after`` to follow on. With ``wait`` the
    request waits up to that many seconds for a change when none is new.
    A client's token reads their own changes (``client_id`` defaults to
    them); without ``client_id`` the feed is the whole store's.
    """
    chosen = client_id
    if chosen is None and caller.principal.role == "client":
        chosen = caller.principal.id

    def read() -> list[AuditEntry]:
        return tenant.projections.audit_log(client_id=chosen, after=after, limit=limit)

    def decided_read(logged: ExitStack) -> list[AuditEntry]:
        with caller.acting("Provenance", "s") as principal:
            logged.enter_context(
                tenant.app.reading(
                    principal, "history", client_id=chosen, purpose=purpose or "change feed"
                )
            )
            return read()

    # One access record per request, written once it has answered (a failed poll writes
    # none): the polls of one long poll are one read by one caller of what it names.
    with ExitStack() as logged:
        entries = await run_in_threadpool(decided_read, logged)
        deadline = time.monotonic() + wait
        while not entries and time.monotonic() < deadline and not await request.is_disconnected():
            await asyncio.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            entries = await run_in_threadpool(read)
        await run_in_threadpool(logged.close)  # the access record, written off the event loop
    return {
        "changes": [change_document(entry) for entry in entries],
        "next": entries[-1].position if entries else after,
    }
