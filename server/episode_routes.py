"""Episode routes: open (idempotently by the caller's id), sessions, therapists, close, plans.

Like the goal routes, each command mirrors a method of
:class:`~goalpath.core.application.GoalpathApp` and answers with the episode
after it, its version as the ``ETag``; ``If-Match`` is the expected version,
and ``Idempotency-Key`` the command's idempotency key (a keyed command answers
with the episode as that command left it, so a retry's answer is the first's).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from goalpath.core.application import GoalpathApp
from goalpath.core.authorization import Principal
from goalpath.core.errors import DuplicateIdError, IdempotencyKeyReusedError, NotFoundError
from goalpath.exports.documents import episode_document, goal_document, plan_document
from goalpath.server.app import CallerDep, TenantDep, problem_responses
from goalpath.server.goal_routes import IfMatch, Purpose
from goalpath.server.idempotency_keys import IdempotencyKeyDep, key_reused, keyed
from goalpath.server.models import (
    CloseEpisodeBody,
    EpisodeDocument,
    GoalListDocument,
    OpenEpisodeBody,
    PlanDocument,
    PlansDocument,
    SessionBody,
    SessionRecordedDocument,
    TherapistBody,
)
from goalpath.server.versions import etag, expected_version, versioned_response

__all__ = ["router"]

router = APIRouter(tags=["episodes"])


def episode_response(
    app: GoalpathApp, episode_id: UUID, status: int = 200, version: int | None = None
) -> JSONResponse:
    """The episode as it is now (or at ``version``), with its version as the ETag."""
    episode = app.get_episode(episode_id, version=version)
    headers = {"ETag": etag(episode.version), "Location": f"/episodes/{episode.id}"}
    return JSONResponse(episode_document(episode), status_code=status, headers=headers)


def _same_opening(app: GoalpathApp, episode_id: UUID, body: OpenEpisodeBody) -> bool:
    """Whether the stored episode ``episode_id`` was opened exactly as ``body`` opens it."""
    try:
        first = app.get_episode(episode_id, version=1)
    except NotFoundError:
        return False
    return (
        first.client_id == body.client_id
        and list(first.therapist_ids) == body.therapist_ids
        and list(first.concerns) == body.concerns
        and (body.opened_on is None or first.opened_on == body.opened_on)
    )


def _open(
    app: GoalpathApp,
    principal: Principal,
    body: OpenEpisodeBody,
    episode_id: UUID | None,
    key: str | None,
) -> JSONResponse:
    """Open the episode (201); an id already used is :class:`DuplicateIdError`, as PUT answers it.

    goalpath answers a create repeated with its caller id from its first
    result (the id is an idempotency key): without an ``Idempotency-Key`` a
    retry is told apart first, and the same caller's id with another body
    is, to HTTP, an id taken. With one, a retry is answered as the first
    request was, and the key given to another request is refused.
    """
    if key is None and episode_id is not None and _same_opening(app, episode_id, body):
        raise DuplicateIdError("episode", episode_id)  # a retry: PUT answers with the episode
    try:
        with keyed(key) as command:
            opened = app.open_episode(
                client_id=body.client_id,
                therapist_ids=body.therapist_ids,
                concerns=body.concerns,
                opened_on=body.opened_on,
                actor=principal,
                episode_id=episode_id,
                idempotency_key=key,
            )
    except IdempotencyKeyReusedError as error:
        if key_reused(error):
            raise
        raise DuplicateIdError("episode", episode_id or UUID(int=0)) from None
    return episode_response(app, opened, 201, command.version_of(opened))


_OPENED: Final = problem_responses(409, 422, ok={201: (EpisodeDocument, "The episode, opened.")})


@router.put(
    "/episodes/{episode_id}",
    status_code=201,
    response_model=None,
    responses=problem_responses(
        409,
        422,
        ok={
            200: (EpisodeDocument, "A retry: the episode it opened."),
            201: (EpisodeDocument, "The episode, opened."),
        },
    ),
    summary="Open an episode under the caller's own id (idempotent)",
)
def put_episode(
    *,
    episode_id: UUID,
    body: OpenEpisodeBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """Open an episode with the caller's id; a retry with the same body returns the same episode.

    A retry given the first request's ``Idempotency-Key`` is answered exactly as it was (201).
    """
    with caller.acting("EpisodeOfCare", "c") as principal:
        try:
            return _open(tenant.app, principal, body, episode_id, idempotency_key)
        except DuplicateIdError:
            if not _same_opening(tenant.app, episode_id, body):
                raise
            tenant.app.get_episode(episode_id, principal=principal, purpose="idempotent retry")
            return episode_response(tenant.app, episode_id)


@router.post(
    "/episodes",
    status_code=201,
    response_model=None,
    responses=_OPENED,
    summary="Open an episode",
)
def open_episode(
    *,
    body: OpenEpisodeBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """Open an episode of care, with an id goalpath makes.

    To retry it safely, give an ``Idempotency-Key`` (or ``PUT /episodes/{id}``).
    """
    with caller.acting("EpisodeOfCare", "c") as principal:
        return _open(tenant.app, principal, body, None, idempotency_key)


_COMMAND_RESPONSES: Final = problem_responses(
    404, 409, 410, 412, 422, ok={200: (EpisodeDocument, "The episode after the command.")}
)


@router.get(
    "/episodes/{episode_id}",
    response_model=None,
    responses=problem_responses(404, 410, ok={200: (EpisodeDocument, "The episode.")}),
    summary="Read an episode",
)
def get_episode(
    *,
    episode_id: UUID,
    tenant: TenantDep,
    caller: CallerDep,
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """An episode as it is now, or at a version."""
    with caller.acting("EpisodeOfCare", "r") as principal:
        episode = tenant.app.get_episode(
            episode_id, version=version, principal=principal, purpose=purpose
        )
        return versioned_response(episode_document(episode), episode.version)


@router.post(
    "/episodes/{episode_id}/sessions",
    status_code=201,
    response_model=None,
    responses=problem_responses(
        404, 409, 410, 412, 422, ok={201: (SessionRecordedDocument, "Recorded.")}
    ),
    summary="Record a session",
)
def record_session(
    *,
    episode_id: UUID,
    body: SessionBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record the episode's next session (held or missed); answers its number and the episode."""
    with caller.acting("EpisodeOfCare", "u") as principal, keyed(idempotency_key) as command:
        number = tenant.app.record_session(
            episode_id,
            actor=principal,
            held_on=body.held_on,
            attended=body.attended,
            number=body.number,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        episode = tenant.app.get_episode(episode_id, version=command.version_of(episode_id))
        return versioned_response(
            {"number": number, "episode": episode_document(episode)}, episode.version, 201
        )


@router.post(
    "/episodes/{episode_id}/therapists",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Assign a therapist",
)
def assign_therapist(
    *,
    episode_id: UUID,
    body: TherapistBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Add a therapist to an episode (a supervisor's command)."""
    with caller.acting("EpisodeOfCare", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.assign_therapist(
            episode_id,
            body.therapist_id,
            actor=principal,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return episode_response(tenant.app, episode_id, version=command.version_of(episode_id))


@router.post(
    "/episodes/{episode_id}/close",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Close an episode",
)
def close_episode(
    *,
    episode_id: UUID,
    body: CloseEpisodeBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Close an episode of care, for a reason."""
    with caller.acting("EpisodeOfCare", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.close_episode(
            episode_id,
            reason=body.reason,
            actor=principal,
            closed_on=body.closed_on,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return episode_response(tenant.app, episode_id, version=command.version_of(episode_id))


@router.get(
    "/episodes/{episode_id}/goals",
    response_model=None,
    responses=problem_responses(404, 410, ok={200: (GoalListDocument, "The episode's goals.")}),
    tags=["goals"],
    summary="An episode's goals",
)
def list_goals(
    *,
    episode_id: UUID,
    tenant: TenantDep,
    caller: CallerDep,
    as_of: Annotated[datetime | None, Query(description="As they stood then (ISO time).")] = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """An episode's goals in full, in the order they were stated (read as its plan)."""
    with caller.acting("Goal", "s") as principal:
        goals = tenant.app.list_goals(episode_id, as_of=as_of, principal=principal, purpose=purpose)
        return {"episode_id": str(episode_id), "goals": [goal_document(goal) for goal in goals]}


@router.get(
    "/episodes/{episode_id}/plan",
    response_model=None,
    responses=problem_responses(404, 410, ok={200: (PlanDocument, "The plan, with its warnings.")}),
    tags=["plans and progress"],
    summary="An episode's plan",
)
def episode_plan(
    *,
    episode_id: UUID,
    tenant: TenantDep,
    caller: CallerDep,
    as_of: Annotated[datetime | None, Query(description="As it stood then (ISO time).")] = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """The episode's current plan (goals in force, ended goals, warnings, GAS), or as of a time."""
    with (
        caller.acting("CarePlan", "r") as principal,
        tenant.app.reading(principal, "plan", episode_id=episode_id, purpose=purpose),
    ):
        return plan_document(tenant.projections.plan_for_episode(episode_id, as_of=as_of))


@router.get(
    "/clients/{client_id}/plans",
    response_model=None,
    responses=problem_responses(404, 410, ok={200: (PlansDocument, "Every plan of the client.")}),
    tags=["plans and progress"],
    summary="A client's plans",
)
def client_plans(
    *,
    client_id: Annotated[str, "the host's id of the client"],
    tenant: TenantDep,
    caller: CallerDep,
    as_of: Annotated[datetime | None, Query(description="As they stood then (ISO time).")] = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """The plan of every episode of a client."""
    with (
        caller.acting("CarePlan", "r") as principal,
        tenant.app.reading(principal, "plan", client_id=client_id, purpose=purpose),
    ):
        plans = tenant.projections.plan_for_client(client_id, as_of=as_of)
        return {"client_id": client_id, "plans": [plan_document(plan) for plan in plans]}
