"""Store-wide reads: review queue, audit log, verification, access log, outcomes, templates.

The goal templates are those of the loaded modality plugins.

The review queue and caseload outcomes are not reads of one client's
record, so the role policy has no rule for them; the server's rule is the
caseload's: a therapist reads their own (``therapist_id`` defaults to
them), a supervisor or the system anyone's, and an auditor the outcomes
(counts, no health content) but not the working review queue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Query

from goalpath.core.authorization import Principal
from goalpath.core.errors import InvalidValueError, NotAuthorizedError
from goalpath.exports.documents import (
    audit_document,
    outcomes_document,
    review_document,
    template_document,
    template_summary_document,
    verification_document,
)
from goalpath.server.app import CallerDep, ServerDep, TenantDep, problem_responses
from goalpath.server.goal_routes import Purpose
from goalpath.server.models import (
    AccessLogDocument,
    AuditLogDocument,
    OutcomesDocument,
    ReviewQueueDocument,
    TemplateDocument,
    TemplateListDocument,
    VerificationDocument,
)

__all__ = ["caseload_of", "router"]

router = APIRouter()

_OVERSIGHT: Final = frozenset({"supervisor", "system"})


def caseload_of(
    principal: Principal, therapist_id: str | None, read: str, *, auditor_reads: bool
) -> str | None:
    """The therapist whose caseload ``principal`` may read as ``read`` (``None``: everyone's)."""
    if principal.role in _OVERSIGHT or (principal.role == "auditor" and auditor_reads):
        return therapist_id
    if principal.role == "therapist":
        if therapist_id in (None, principal.id):
            return principal.id
        rule, explanation = "therapist-reads-own-caseload", "a therapist reads their own caseload"
    else:
        rule, explanation = f"{read}-is-for-clinicians", f"the {read} is read by clinicians"
    raise NotAuthorizedError(principal.id, principal.role, read, rule, explanation)


@router.get(
    "/reviews/due",
    response_model=None,
    responses=problem_responses(ok={200: (ReviewQueueDocument, "The review queue.")}),
    tags=["plans and progress"],
    summary="Reviews due",
)
def reviews_due(
    *,
    tenant: TenantDep,
    caller: CallerDep,
    therapist_id: Annotated[str | None, Query(max_length=200)] = None,
    within_days: Annotated[int, Query(ge=0, le=365)] = 7,
) -> dict[str, Any]:
    """Goal reviews overdue or due within ``within_days``, the most overdue first."""
    with caller.acting("Goal", "s") as principal:
        chosen = caseload_of(principal, therapist_id, "review queue", auditor_reads=False)
        queue = tenant.projections.reviews_due(chosen, within_days=within_days)
        return {
            "today": tenant.app.today().isoformat(),
            "therapist_id": chosen,
            "reviews": [review_document(item) for item in queue],
        }


@router.get(
    "/outcomes",
    response_model=None,
    responses=problem_responses(ok={200: (OutcomesDocument, "Caseload outcomes.")}),
    tags=["plans and progress"],
    summary="Caseload outcomes",
)
def outcomes(
    *,
    tenant: TenantDep,
    caller: CallerDep,
    therapist_id: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Recovery, reliable improvement and deterioration by the NHS Talking Therapies rule."""
    with caller.acting("MeasureReport", "r") as principal:
        chosen = caseload_of(principal, therapist_id, "caseload outcomes", auditor_reads=True)
        return outcomes_document(tenant.projections.caseload_outcomes(chosen))


@router.get(
    "/audit/log",
    response_model=None,
    responses=problem_responses(404, 422, ok={200: (AuditLogDocument, "One row per event.")}),
    tags=["audit"],
    summary="The audit log",
)
def audit_log(
    *,
    tenant: TenantDep,
    caller: CallerDep,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    goal_id: UUID | None = None,
    episode_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int | None, Query(ge=1, le=10000)] = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Every event as a row: actor, time, what changed (before and after), why.

    Read as an ``audit-export`` of what the filters name (a client, an
    episode, a goal, or the whole store), decided and logged.
    """
    with caller.acting("Provenance", "s") as principal:
        for name, moment in (("since", since), ("until", until)):
            if moment is not None and moment.tzinfo is None:
                raise InvalidValueError(f"{name} needs a time zone", field=name)
        with tenant.app.reading(
            principal,
            "audit-export",
            client_id=client_id,
            episode_id=episode_id,
            goal_id=goal_id,
            purpose=purpose or "audit log",
        ):
            entries = tenant.projections.audit_log(
                actor_id=actor_id,
                client_id=client_id,
                goal_id=goal_id,
                episode_id=episode_id,
                since=since,
                until=until,
                limit=limit,
            )
            return {"entries": [audit_document(entry) for entry in entries]}


@router.get(
    "/audit/verify",
    response_model=None,
    responses=problem_responses(ok={200: (VerificationDocument, "Every chain recomputed.")}),
    tags=["audit"],
    summary="Verify the store",
)
def verify(*, tenant: TenantDep, caller: CallerDep, purpose: Purpose = None) -> dict[str, Any]:
    """Recompute every hash chain; ``ok`` false names the first stream and version that fails.

    It reads every record, so it is decided and logged as an ``audit-export`` of the store.
    """
    with (
        caller.acting("AuditEvent", "r") as principal,
        tenant.app.reading(principal, "audit-export", purpose=purpose or "verify"),
    ):
        return verification_document(tenant.app.verify())


@router.get(
    "/audit/access",
    response_model=None,
    responses=problem_responses(422, ok={200: (AccessLogDocument, "Every read, oldest first.")}),
    tags=["audit"],
    summary="The access log",
)
def access_log(
    *,
    tenant: TenantDep,
    caller: CallerDep,
    client_id: Annotated[str | None, Query(max_length=200)] = None,
    actor_id: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    purpose: Purpose = None,
) -> dict[str, Any]:
    """Every read of a client's data (identifiers only); reading it is itself recorded."""
    with caller.acting("AuditEvent", "s") as principal:
        entries = tenant.app.access_log(
            principal=principal,
            client_id=client_id,
            actor_id=actor_id,
            since=since,
            until=until,
            purpose=purpose,
        )
        return {"reads": [entry.document() for entry in entries]}


@router.get(
    "/templates",
    response_model=None,
    responses=problem_responses(422, ok={200: (TemplateListDocument, "The templates.")}),
    tags=["templates"],
    summary="Goal templates",
)
def list_templates(
    *,
    server: ServerDep,
    caller: CallerDep,
    modality: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """The goal templates of every loaded modality plugin (any valid token; no client data)."""
    del caller  # authenticated; templates hold no client's data, so no scope is needed
    chosen = server.plugins.templates(modality)
    if modality is not None and not chosen:
        known = ", ".join(server.plugins.modalities()) or "none"
        raise InvalidValueError(
            f"no templates for modality {modality!r}; modalities: {known}",
            field="modality",
            accepted=tuple(server.plugins.modalities()),
        )
    return {"templates": [template_summary_document(template) for template in chosen]}


@router.get(
    "/templates/{template_id}",
    response_model=None,
    responses=problem_responses(404, ok={200: (TemplateDocument, "The template.")}),
    tags=["templates"],
    summary="A goal template",
)
def show_template(
    *, template_id: str, server: ServerDep, tenant: TenantDep, caller: CallerDep
) -> dict[str, Any]:
    """A template: statement, measure, parameters, defaults and an example."""
    del caller
    plugins = server.plugins
    return template_document(plugins, plugins.template(template_id), tenant.app.today())
