"""Goal routes: state a goal (idempotently by the caller's id), every lifecycle command, reads.

Each command mirrors a method of :class:`~goalpath.core.application.GoalpathApp`
and answers with the goal as it is after the command, its version as the
``ETag``; ``If-Match`` passes the version the caller saw as
``expected_version``; ``Idempotency-Key`` passes the request's key as
``idempotency_key`` (:mod:`goalpath.server.idempotency_keys`), and a keyed
command answers with the goal as that command left it, so a retry's answer
is the first one's. Reads are decided by the role policy and appended to
the access log, as the command line's are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import JSONResponse

from goalpath.core.application import GoalpathApp
from goalpath.core.authorization import Principal
from goalpath.core.errors import DuplicateIdError, IdempotencyKeyReusedError, NotFoundError
from goalpath.core.history import history_of
from goalpath.exports.documents import goal_document, progress_document
from goalpath.server.app import CallerDep, TenantDep, problem_responses
from goalpath.server.idempotency_keys import IdempotencyKeyDep, key_reused, keyed
from goalpath.server.models import (
    ActivateBody,
    CorrectionBody,
    CreateGoalBody,
    GoalDocument,
    HistoryDocument,
    MeasurementBody,
    MeasurementRecordedDocument,
    ProgressDocument,
    PutGoalBody,
    RefineBody,
    RetireBody,
    ReviewBody,
)
from goalpath.server.problems import InvalidRequestError
from goalpath.server.versions import etag, expected_version, versioned_response

__all__ = ["IfMatch", "Purpose", "router"]

router = APIRouter(tags=["goals"])

IfMatch = Annotated[
    str | None,
    Header(description="The goal's or episode's version the caller saw, as its ETag (\"3\")."),
]
"""The ``If-Match`` header of a command."""

Purpose = Annotated[
    str | None,
    Header(alias="Goalpath-Purpose", max_length=200, description="Why the data is read."),
]
"""The purpose of a read, kept in the access log."""


def goal_response(
    app: GoalpathApp, goal_id: UUID, status: int = 200, version: int | None = None
) -> JSONResponse:
    """The goal as it is now (or at ``version``), with its version as the ETag."""
    goal = app.get_goal(goal_id, version=version)
    headers = {"ETag": etag(goal.version), "Location": f"/goals/{goal.id}"}
    return JSONResponse(goal_document(goal), status_code=status, headers=headers)


def _same_creation(app: GoalpathApp, goal_id: UUID, body: PutGoalBody) -> bool:
    """Whether the stored goal ``goal_id`` was stated exactly as ``body`` states it."""
    try:
        first = app.get_goal(goal_id, version=1)
    except NotFoundError:
        return False
    return bool(
        first.episode_id == body.episode_id
        and first.definition == body.definition.definition()
        and (first.status == "active") == body.activate
        and first.template_id == body.template_id
        and first.template_version == body.template_version
    )


def _state_goal(
    app: GoalpathApp, principal: Principal, goal_id: UUID, body: PutGoalBody, key: str | None
) -> JSONResponse:
    definition = body.definition.definition()
    if key is None and _same_creation(app, goal_id, body):
        # A retry of the same request: the goal it made, never a second one.
        app.get_goal(goal_id, principal=principal, purpose="idempotent retry")
        return goal_response(app, goal_id)
    try:
        with keyed(key) as command:
            app.create_goal(
                body.episode_id,
                definition,
                actor=principal,
                activate=body.activate,
                goal_id=goal_id,
                template_id=body.template_id,
                template_version=body.template_version,
                idempotency_key=key,
            )
    except IdempotencyKeyReusedError as error:
        if key_reused(error):
            raise
        # The caller's own earlier request stated this id otherwise: to HTTP, the id is taken.
        raise DuplicateIdError("goal", goal_id) from None
    return goal_response(app, goal_id, 201, command.version_of(goal_id))


@router.put(
    "/goals/{goal_id}",
    status_code=201,
    response_model=None,
    responses=problem_responses(
        404,
        409,
        410,
        422,
        ok={
            200: (GoalDocument, "A retry: the goal it made."),
            201: (GoalDocument, "The goal, stated."),
        },
    ),
    summary="State a goal under the caller's own id (idempotent)",
)
def put_goal(
    *,
    goal_id: UUID,
    body: PutGoalBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """State a goal with the caller's id; a retry with the same body returns the same goal.

    The same id with a different body is refused (409 ``duplicate-id``):
    goalpath never writes a second goal for one id. A retry given the first
    request's ``Idempotency-Key`` is answered exactly as it was (201).
    """
    with caller.acting("Goal", "c") as principal:
        return _state_goal(tenant.app, principal, goal_id, body, idempotency_key)


@router.post(
    "/episodes/{episode_id}/goals",
    status_code=201,
    response_model=None,
    responses=problem_responses(404, 409, 410, 422, ok={201: (GoalDocument, "The goal, stated.")}),
    summary="State a goal in an episode",
)
def create_goal(
    *,
    episode_id: UUID,
    body: CreateGoalBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
) -> JSONResponse:
    """State a new goal in an episode, with an id goalpath makes.

    To retry it safely, give an ``Idempotency-Key`` (or ``PUT /goals/{id}``).
    """
    with caller.acting("Goal", "c") as principal, keyed(idempotency_key) as command:
        goal_id = tenant.app.create_goal(
            episode_id,
            body.definition.definition(),
            actor=principal,
            activate=body.activate,
            template_id=body.template_id,
            template_version=body.template_version,
            idempotency_key=idempotency_key,
        )
        return goal_response(tenant.app, goal_id, 201, command.version_of(goal_id))


_COMMAND_RESPONSES: Final = problem_responses(
    404, 409, 410, 412, 422, ok={200: (GoalDocument, "The goal after the command.")}
)


@router.post(
    "/goals/{goal_id}/refine",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Refine a goal",
)
def refine_goal(
    *,
    goal_id: UUID,
    body: RefineBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Change a goal's statement, target, area, focus, practices, priority or cadence, for a reason.

    A member left out keeps its value; ``target``, ``area`` and ``focus``
    given as ``null`` clear it. The measure cannot change (a new goal replaces it).
    """
    changes: dict[str, Any] = {}
    for name in body.model_fields_set - {"reason"}:
        value = getattr(body, name)
        if name == "target":
            value = None if value is None else value.target()
        elif name == "practices" and value is not None:
            value = tuple(value)
        elif value is None and name not in ("area", "focus"):
            raise InvalidRequestError(
                f"{name} cannot be null; leave it out to keep its value", field=name
            )
        changes[name] = value
    with caller.acting("Goal", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.refine_goal(
            goal_id,
            reason=body.reason,
            actor=principal,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
            **changes,
        )
        return goal_response(tenant.app, goal_id, version=command.version_of(goal_id))


@router.post(
    "/goals/{goal_id}/activate",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Activate a goal",
)
def activate_goal(
    *,
    goal_id: UUID,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    body: ActivateBody | None = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Agree to pursue a goal; refused with the SMART reasons (422 ``not-smart``) unless SMART."""
    del body  # an empty body, accepted for clients that always send one
    with caller.acting("Goal", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.activate_goal(
            goal_id,
            actor=principal,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return goal_response(tenant.app, goal_id, version=command.version_of(goal_id))


@router.post(
    "/goals/{goal_id}/measurements",
    status_code=201,
    response_model=None,
    responses=problem_responses(
        404, 409, 410, 412, 422, ok={201: (MeasurementRecordedDocument, "Recorded.")}
    ),
    summary="Record a measurement",
)
def record_measurement(
    *,
    goal_id: UUID,
    body: MeasurementBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record a measurement against the goal's measure; answers its number and the goal."""
    with caller.acting("Observation", "c") as principal, keyed(idempotency_key) as command:
        sequence = tenant.app.record_measurement(
            goal_id,
            body.value,
            actor=principal,
            observed_on=body.observed_on,
            note=body.note,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        goal = tenant.app.get_goal(goal_id, version=command.version_of(goal_id))
        return versioned_response(
            {"sequence": sequence, "goal": goal_document(goal)}, goal.version, 201
        )


@router.post(
    "/goals/{goal_id}/measurements/{sequence}/correction",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Correct or void a measurement",
)
def correct_measurement(
    *,
    goal_id: UUID,
    sequence: Annotated[int, Path(ge=1, le=10**9)],
    body: CorrectionBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Correct a measurement's value, or void it (``value`` ``null``); the original stays."""
    with caller.acting("Observation", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.correct_measurement(
            goal_id,
            sequence,
            reason=body.reason,
            actor=principal,
            value=body.value,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return goal_response(tenant.app, goal_id, version=command.version_of(goal_id))


@router.post(
    "/goals/{goal_id}/reviews",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Review a goal",
)
def review_goal(
    *,
    goal_id: UUID,
    body: ReviewBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """Record a progress review: achievement, decision, optional GAS attainment (-2..+2), note."""
    with caller.acting("Goal", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.review_goal(
            goal_id,
            achievement=body.achievement,
            decision=body.decision,
            actor=principal,
            reviewed_on=body.reviewed_on,
            attainment=body.attainment,
            note=body.note,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return goal_response(tenant.app, goal_id, version=command.version_of(goal_id))


@router.post(
    "/goals/{goal_id}/retire",
    response_model=None,
    responses=_COMMAND_RESPONSES,
    summary="Retire a goal",
)
def retire_goal(
    *,
    goal_id: UUID,
    body: RetireBody,
    tenant: TenantDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyDep,
    if_match: IfMatch = None,
) -> JSONResponse:
    """End a goal: achieved, no longer relevant, replaced, client discharged, or in error."""
    with caller.acting("Goal", "u") as principal, keyed(idempotency_key) as command:
        tenant.app.retire_goal(
            goal_id,
            reason_code=body.reason_code,
            reason=body.reason,
            actor=principal,
            retired_on=body.retired_on,
            replaced_by=body.replaced_by,
            expected_version=expected_version(if_match),
            idempotency_key=idempotency_key,
        )
        return goal_response(tenant.app, goal_id, version=command.version_of(goal_id))


@router.get(
    "/goals/{goal_id}",
    response_model=None,
    responses=problem_responses(404, 410, 422, ok={200: (GoalDocument, "The goal.")}),
    summary="Read a goal",
)
def get_goal(
    *,
    goal_id: UUID,
    tenant: TenantDep,
    caller: CallerDep,
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    as_of: Annotated[datetime | None, Query(description="As it stood then (ISO time).")] = None,
    purpose: Purpose = None,
) -> JSONResponse:
    """A goal as it is now, at a version, or as it stood at a past time (``as_of``)."""
    with caller.acting("Goal", "r") as principal:
        goal = tenant.app.get_goal(
            goal_id, version=version, as_of=as_of, principal=principal, purpose=purpose
        )
        return versioned_response(goal_document(goal), goal.version)


@router.get(
    "/goals/{goal_id}/history",
    response_model=None,
    responses=problem_responses(
        404, 410, ok={200: (HistoryDocument, "Every event, oldest first.")}
    ),
    tags=["audit"],
    summary="A goal's history",
)
def goal_history(
    *, goal_id: UUID, tenant: TenantDep, caller: CallerDep, purpose: Purpose = None
) -> dict[str, Any]:
    """Every event of a goal: version, time, actor, reason, and each field's before and after."""
    with caller.acting("Provenance", "r") as principal:
        events = tenant.app.goal_events(goal_id, principal=principal, purpose=purpose)
        return {
            "goal_id": str(goal_id),
            "events": [entry.document() for entry in history_of(events)],
        }


@router.get(
    "/goals/{goal_id}/progress",
    response_model=None,
    responses=problem_responses(
        404, 410, ok={200: (ProgressDocument, "Progress against the target.")}
    ),
    tags=["plans and progress"],
    summary="A goal's progress",
)
def goal_progress(
    *, goal_id: UUID, tenant: TenantDep, caller: CallerDep, purpose: Purpose = None
) -> dict[str, Any]:
    """A goal's progress: series, percentage of the way, trend, expected trajectory, status."""
    with (
        caller.acting("Observation", "r") as principal,
        tenant.app.reading(principal, "progress", goal_id=goal_id, purpose=purpose),
    ):
        return progress_document(tenant.projections.progress(goal_id))
