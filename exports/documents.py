"""The JSON documents goalpath prints and serves: one per aggregate view and read model.

``goalpath ... --json`` prints these, the HTTP server returns them, and a
Python host can call them directly: each function turns one public value
(a :class:`~goalpath.core.goal.Goal`, a :class:`~goalpath.projections.Plan`,
a refusal …) into JSON-ready data (dicts, lists, strings, numbers, ``None``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from goalpath.core.episode import Episode
from goalpath.core.errors import ERROR_CODES, Accepted, GoalpathError
from goalpath.core.goal import Goal
from goalpath.core.smart import SmartReport
from goalpath.core.storage.integrity import VerificationReport
from goalpath.core.values import Measurement, jsonable
from goalpath.modalities import Plugins, Template
from goalpath.projections import (
    AuditEntry,
    CaseloadOutcomes,
    OutcomeCounts,
    Plan,
    PlanGoal,
    ProgressReport,
    ProjectionStatus,
    ReviewDue,
)
from goalpath.projections.caseload import EpisodeOutcome
from goalpath.projections.gas import GasScore
from goalpath.projections.outcomes import InstrumentPair

__all__ = [
    "audit_document",
    "episode_document",
    "error_document",
    "goal_document",
    "measurements_document",
    "outcomes_document",
    "plan_document",
    "progress_document",
    "refusal_document",
    "review_document",
    "smart_document",
    "status_document",
    "template_document",
    "template_summary_document",
    "verification_document",
]


def smart_document(report: SmartReport) -> dict[str, Any]:
    """A SMART report as JSON-ready data."""
    return {
        "passed": report.passed,
        "failed_letters": list(report.failed_letters),
        "verdicts": [jsonable(verdict) for verdict in report.verdicts],
    }


def goal_document(goal: Goal) -> dict[str, Any]:
    """A goal as JSON-ready data: definition, status, SMART report, measurements, reviews.

    Of the measurements, their counts and the latest valid ones by
    observation date (:attr:`Goal.recent_measurements`); the whole series is
    ``GoalpathApp.goal_measurements`` (:func:`measurements_document`).
    """
    latest = goal.latest_measurement
    return {
        "id": str(goal.id),
        "version": goal.version,
        "episode_id": str(goal.episode_id),
        "client_id": goal.client_id,
        "status": goal.status,
        "definition": jsonable(goal.definition),
        "focus": goal.definition.effective_focus,
        "smart": smart_document(goal.smart),
        "template": (
            {"id": goal.template_id, "version": goal.template_version} if goal.template_id else None
        ),
        "measurement_count": goal.measurement_count,
        "valid_measurement_count": goal.valid_measurement_count,
        "recent_measurements": jsonable(goal.recent_measurements),
        "latest_measurement": jsonable(latest),
        "reviews": jsonable(goal.reviews),
        "next_review_due": jsonable(goal.next_review_due),
        "retirement_reason": goal.retirement_reason,
        "replaced_by": jsonable(goal.replaced_by),
        "created_on": goal.created_on.isoformat(),
        "modified_on": goal.modified_on.isoformat(),
    }


def measurements_document(goal: Goal, measurements: Sequence[Measurement]) -> dict[str, Any]:
    """A goal's whole series of measurements as JSON-ready data, by number, at ``goal.version``.

    ``measurements`` is the series as ``GoalpathApp.goal_measurements`` reads
    it from the goal's events: voided ones included (status
    ``entered-in-error``, no value), each with its corrections applied.
    """
    return {
        "goal_id": str(goal.id),
        "version": goal.version,
        "measurement_count": goal.measurement_count,
        "valid_measurement_count": goal.valid_measurement_count,
        "measurements": jsonable(list(measurements)),
    }


def episode_document(episode: Episode) -> dict[str, Any]:
    """An episode as JSON-ready data."""
    return {
        "id": str(episode.id),
        "version": episode.version,
        "client_id": episode.client_id,
        "therapist_ids": list(episode.therapist_ids),
        "concerns": list(episode.concerns),
        "opened_on": episode.opened_on.isoformat(),
        "closed_on": jsonable(episode.closed_on),
        "close_reason": episode.close_reason,
        "sessions": jsonable(episode.sessions),
        "sessions_attended": episode.sessions_attended,
        "goal_ids": [str(goal_id) for goal_id in episode.goal_ids],
    }


def _plan_goal_document(goal: PlanGoal) -> dict[str, Any]:
    record = goal.record
    return {
        "id": str(record.goal_id),
        "status": record.status,
        "statement": record.definition.statement,
        "definition": jsonable(record.definition),
        "focus": record.definition.effective_focus,
        "smart": {
            "passed": goal.smart.passed,
            "summary": goal.smart.summary(),
            "failed_letters": list(goal.smart.failed_letters),
        },
        "latest_measurement": jsonable(goal.latest),
        "next_review_due": jsonable(goal.next_review_due),
        "last_reviewed_on": jsonable(record.last_reviewed_on),
        "latest_attainment": record.latest_attainment,
        "latest_attainment_on": jsonable(record.latest_attainment_on),
        "gas_weight": record.definition.gas_weight,
        "version": record.version,
    }


def plan_document(plan: Plan) -> dict[str, Any]:
    """A plan as JSON-ready data."""
    episode = plan.episode
    return {
        "episode_id": str(episode.episode_id),
        "client_id": episode.client_id,
        "on": plan.on.isoformat(),
        "therapist_ids": list(episode.therapist_ids),
        "concerns": list(episode.concerns),
        "opened_on": episode.opened_on.isoformat(),
        "closed_on": jsonable(episode.closed_on),
        "sessions_recorded": episode.sessions_recorded,
        "goals": [_plan_goal_document(goal) for goal in plan.goals],
        "ended_goals": [_plan_goal_document(goal) for goal in plan.ended],
        "warnings": jsonable(plan.warnings),
        "gas_t_score": None if plan.gas_t_score is None else round(plan.gas_t_score, 2),
        "gas": _gas_document(plan.gas),
    }


def _gas_document(gas: GasScore) -> dict[str, Any]:
    return {
        "t_score": None if gas.t_score is None else round(gas.t_score, 2),
        "scored": gas.scored,
        "goals": gas.goals,
        "unscored": gas.unscored,
        "weighted": gas.weighted,
        "coverage": gas.coverage,
    }


def progress_document(report: ProgressReport) -> dict[str, Any]:
    """A progress report as JSON-ready data."""
    trajectory = report.trajectory
    return {
        "goal_id": str(report.goal_id),
        "statement": report.statement,
        "as_of": report.as_of.isoformat(),
        "measure": jsonable(report.measure),
        "target": jsonable(report.target),
        "series": [
            {"sequence": m.sequence, "value": m.value, "observed_on": m.observed_on.isoformat()}
            for m in report.series
        ],
        "latest_value": report.latest_value,
        "latest_on": jsonable(report.latest_on),
        "percent": None if report.percent is None else round(report.percent, 1),
        "trend_per_week": report.trend_per_week,
        "expected_at_latest": report.expected_at_latest,
        "expected_trajectory": None
        if trajectory is None
        else [{"on": day.isoformat(), "value": value} for day, value in trajectory],
        "status": report.status,
        "reason": report.reason,
        "outcome": jsonable(report.outcome),
    }


def review_document(item: ReviewDue) -> dict[str, Any]:
    """One review-queue entry as JSON-ready data."""
    document: dict[str, Any] = jsonable(item)
    return document


def audit_document(entry: AuditEntry) -> dict[str, Any]:
    """One audit-log row as JSON-ready data."""
    document: dict[str, Any] = jsonable(entry)
    return document


def _counts_document(counts: OutcomeCounts) -> dict[str, Any]:
    document: dict[str, Any] = jsonable(counts)
    document["rates"] = counts.rates
    return document


def _pair_document(pair: InstrumentPair | None) -> dict[str, Any] | None:
    if pair is None:
        return None
    outcome = pair.outcome
    return {
        "instrument": pair.instrument,
        "first": pair.first,
        "first_on": pair.first_on.isoformat(),
        "last": pair.last,
        "last_on": pair.last_on.isoformat(),
        "scores": pair.scores,
        "case_at_start": outcome.case_at_start,
        "case_at_end": outcome.case_at_end,
        "reliable_improvement": outcome.reliable_improvement,
        "reliable_deterioration": outcome.reliable_deterioration,
    }


def _episode_outcome_document(episode: EpisodeOutcome) -> dict[str, Any]:
    return {
        "episode_id": str(episode.episode_id),
        "therapist_ids": list(episode.therapist_ids),
        "course": episode.course,
        "label": episode.label,
        "counted": episode.counted,
        "depression": _pair_document(episode.depression),
        "anxiety": _pair_document(episode.anxiety),
        "outcome": jsonable(episode.outcome),
        "instruments": sorted(episode.pairs),
    }


def outcomes_document(outcomes: CaseloadOutcomes) -> dict[str, Any]:
    """Caseload outcomes as JSON-ready data: the rule, the counts, each episode's outcome."""
    return {
        "rule": jsonable(outcomes.rule),
        "overall": _counts_document(outcomes.overall),
        "by_therapist": {
            therapist: _counts_document(counts)
            for therapist, counts in outcomes.by_therapist.items()
        },
        "episodes": [_episode_outcome_document(episode) for episode in outcomes.episodes],
    }


def status_document(status: ProjectionStatus) -> dict[str, Any]:
    """Where the read models stand, as JSON-ready data."""
    return {
        "store": status.store,
        "position": status.position,
        "head": status.head,
        "lag": status.lag,
        "batch_size": status.batch_size,
        "rows": status.rows,
    }


def verification_document(report: VerificationReport) -> dict[str, Any]:
    """A verification of every hash chain as JSON-ready data, with ``ok`` and ``first_problem``."""
    document: dict[str, Any] = jsonable(report)
    document["ok"] = report.ok
    document["first_problem"] = jsonable(report.first_problem)
    return document


def template_summary_document(template: Template) -> dict[str, Any]:
    """A goal template in brief: id, version, modality, title, area, focus."""
    return {
        "id": template.id,
        "version": template.version,
        "modality": template.modality,
        "title": template.title,
        "area": template.area,
        "focus": template.focus,
    }


def template_document(plugins: Plugins, template: Template, today: date) -> dict[str, Any]:
    """A goal template in full: statement, measure, parameters, defaults, an example."""
    example = template.instantiate(template.example_parameters(), today)
    suggestions = plugins.suggest_interventions(example.definition, template)
    params = " ".join(
        f"--param {name}={value:g}" if not isinstance(value, str) else f"--param '{name}={value}'"
        for name, value in template.example_parameters().items()
    )
    return {
        **template_summary_document(template),
        "plugin": plugins.template_plugin(template.id),
        "statement": template.statement,
        "measure": jsonable(template.measure),
        "parameters": [
            {
                "name": parameter.name,
                "kind": parameter.kind,
                "accepts": parameter.describe(),
                "default": parameter.default,
                "example": parameter.example,
                "description": parameter.description,
            }
            for parameter in template.all_parameters
        ],
        "duration_weeks": template.duration_weeks,
        "review_every_days": template.review_every_days,
        "practices": list(template.practices),
        "description": template.description,
        "example_statement": example.definition.statement,
        "example_command": f"goalpath goal create EPISODE_ID --template {template.id} {params}",
        "interventions": [
            {"plugin": suggestion.plugin, **jsonable(suggestion.intervention)}
            for suggestion in suggestions
        ],
    }


def error_document(error: GoalpathError) -> dict[str, Any]:
    """A refusal as JSON-ready data: ``{"error": {"type", "code", "message", "field", …}}``.

    ``type`` is the error's class (``NotFoundError``, ``InvalidValueError``…),
    ``code`` its stable code (:data:`goalpath.core.errors.ERROR_CODES`),
    ``field`` the input at fault where it is known (else ``null``) and
    ``accepted`` what that input accepts: a list of codes, a sentence, or ``null``.
    """
    return refusal_document(
        type(error).__name__, error.code, str(error), field=error.field, accepted=error.accepted
    )


def refusal_document(
    kind: str,
    code: str,
    message: str,
    *,
    field: str | None = None,
    accepted: Accepted | None = None,
) -> dict[str, Any]:
    """The error document of :func:`error_document`, for a refusal that is not a GoalpathError.

    The command line's usage errors (``code`` ``invalid-usage``) and the
    server's malformed requests are refused before any command runs; they
    are given in the same shape. ``code`` must be one of ``ERROR_CODES``.
    """
    if code not in ERROR_CODES:
        raise ValueError(f"unknown error code {code!r}; the codes are {', '.join(ERROR_CODES)}")
    return {
        "error": {
            "type": kind,
            "code": code,
            "message": message,
            "field": field,
            "accepted": list(accepted) if isinstance(accepted, tuple) else accepted,
        }
    }
