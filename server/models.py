"""The shapes of the HTTP API: request bodies, and the schemas of the documents it returns.

Request bodies are pydantic models whose fields mirror the Python API's
parameters and value objects (:class:`~goalpath.core.values.GoalDefinition`,
:class:`~goalpath.core.values.Measure`, :class:`~goalpath.core.values.Target`);
their fixed sets are goalpath's own ``Literal`` types, so the OpenAPI
document lists the same codes the domain accepts. Each body turns itself
into the domain's values, whose validators then decide (an invalid value is
a 422 ``invalid-value`` problem, as in Python).

Responses are the documents of :mod:`goalpath.exports.documents`; the
models ending in ``Document`` only describe them for the OpenAPI document
(the server never builds a response from them), and the tests check every
response against these schemas.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from goalpath.core.errors import ERROR_CODES
from goalpath.core.values import (
    AchievementStatus,
    Direction,
    Focus,
    GoalArea,
    GoalDefinition,
    LifecycleStatus,
    Measure,
    Priority,
    RetirementReason,
    ReviewDecision,
    Role,
    Target,
)

__all__ = [
    "AccessLogDocument",
    "ActivateBody",
    "AuditLogDocument",
    "CloseEpisodeBody",
    "CorrectionBody",
    "CreateGoalBody",
    "DefinitionBody",
    "EpisodeDocument",
    "GoalDocument",
    "GoalListDocument",
    "HistoryDocument",
    "MeasureBody",
    "MeasurementBody",
    "MeasurementRecordedDocument",
    "OpenEpisodeBody",
    "OutcomesDocument",
    "PlanDocument",
    "PlansDocument",
    "ProblemDocument",
    "ProgressDocument",
    "PutGoalBody",
    "RefineBody",
    "RetireBody",
    "ReviewBody",
    "ReviewQueueDocument",
    "SessionBody",
    "SessionRecordedDocument",
    "TargetBody",
    "TemplateDocument",
    "TemplateListDocument",
    "TherapistBody",
    "VerificationDocument",
]


class _Body(BaseModel):
    """A request body: unknown members are refused, so a misspelt field is never ignored."""

    model_config = ConfigDict(extra="forbid")


class MeasureBody(_Body):
    """What a goal is measured by (:class:`~goalpath.core.values.Measure`)."""

    name: str = Field(max_length=200)
    unit: str = Field(max_length=100)
    direction: Direction
    instrument: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    def value(self) -> Measure:
        """The domain's measure (its validators decide)."""
        return Measure(
            name=self.name,
            unit=self.unit,
            direction=self.direction,
            instrument=self.instrument,
            minimum=self.minimum,
            maximum=self.maximum,
        )


class TargetBody(_Body):
    """Baseline, target value and due date (:class:`~goalpath.core.values.Target`)."""

    baseline: float
    value: float
    due_on: date

    def target(self) -> Target:
        """The domain's target (its validators decide)."""
        return Target(baseline=self.baseline, value=self.value, due_on=self.due_on)


class DefinitionBody(_Body):
    """A goal's definition (:class:`~goalpath.core.values.GoalDefinition`)."""

    statement: str = Field(max_length=2000)
    start_on: date
    measure: MeasureBody | None = None
    target: TargetBody | None = None
    area: GoalArea | None = None
    focus: Focus | None = None
    practices: list[str] = Field(default_factory=list, max_length=50)
    priority: Priority = "medium-priority"
    review_every_days: int = 28
    gas_importance: int | None = None
    gas_difficulty: int | None = None

    def definition(self) -> GoalDefinition:
        """The domain's definition (its validators decide)."""
        return GoalDefinition(
            statement=self.statement,
            start_on=self.start_on,
            measure=None if self.measure is None else self.measure.value(),
            target=None if self.target is None else self.target.target(),
            area=self.area,
            focus=self.focus,
            practices=tuple(self.practices),
            priority=self.priority,
            review_every_days=self.review_every_days,
            gas_importance=self.gas_importance,
            gas_difficulty=self.gas_difficulty,
        )


class PutGoalBody(_Body):
    """A goal to state under the caller's own id (``PUT /goals/{goal_id}``)."""

    episode_id: UUID
    definition: DefinitionBody
    activate: bool = False
    template_id: str | None = Field(default=None, max_length=200)
    template_version: str | None = Field(default=None, max_length=50)


class CreateGoalBody(_Body):
    """A goal to state in an episode, its id made by goalpath."""

    definition: DefinitionBody
    activate: bool = False
    template_id: str | None = Field(default=None, max_length=200)
    template_version: str | None = Field(default=None, max_length=50)


class RefineBody(_Body):
    """What changes in a goal's definition, and why; a member left out keeps its value."""

    reason: str
    statement: str | None = Field(default=None, max_length=2000)
    target: TargetBody | None = None
    area: GoalArea | None = None
    focus: Focus | None = None
    practices: list[str] | None = Field(default=None, max_length=50)
    priority: Priority | None = None
    review_every_days: int | None = None


class ActivateBody(_Body):
    """Agreement to pursue a goal (no members; the body may be left out)."""


class MeasurementBody(_Body):
    """A measurement against the goal's measure."""

    value: float
    observed_on: date | None = None
    note: str | None = Field(default=None, max_length=4000)


class CorrectionBody(_Body):
    """A correction of a recorded measurement; ``value`` ``null`` voids it."""

    reason: str
    value: float | None = None


class ReviewBody(_Body):
    """A progress review of a goal."""

    achievement: AchievementStatus
    decision: ReviewDecision
    reviewed_on: date | None = None
    attainment: int | None = None
    note: str | None = Field(default=None, max_length=4000)


class RetireBody(_Body):
    """The end of a goal: a reason code and the reason in words."""

    reason_code: RetirementReason
    reason: str
    retired_on: date | None = None
    replaced_by: UUID | None = None


class OpenEpisodeBody(_Body):
    """An episode of care to open."""

    client_id: str = Field(max_length=200)
    therapist_ids: list[str] = Field(max_length=20)
    concerns: list[str] = Field(default_factory=list, max_length=50)
    opened_on: date | None = None


class SessionBody(_Body):
    """A session of an episode."""

    held_on: date | None = None
    attended: bool = True
    number: int | None = None


class TherapistBody(_Body):
    """A therapist to assign to an episode."""

    therapist_id: str = Field(max_length=200)


class CloseEpisodeBody(_Body):
    """The end of an episode of care."""

    reason: str
    closed_on: date | None = None


# -- response documents (schemas only) ---------------------------------------------


class ProblemDocument(BaseModel):
    """An RFC 9457 problem document with goalpath's error members."""

    type: str = Field(description="urn:goalpath:problem: followed by the code")
    title: str
    status: int
    detail: str
    instance: str | None
    code: str = Field(json_schema_extra={"enum": list(ERROR_CODES)})
    field: str | None
    accepted: list[str] | str | None
    error_type: str


class SmartDocument(BaseModel):
    """A SMART report."""

    passed: bool
    failed_letters: list[str]
    verdicts: list[dict[str, Any]]


class GoalDocument(BaseModel):
    """A goal (:func:`goalpath.exports.documents.goal_document`)."""

    id: UUID
    version: int
    episode_id: UUID
    client_id: str
    status: LifecycleStatus
    definition: dict[str, Any]
    focus: str
    smart: SmartDocument
    template: dict[str, Any] | None
    measurements: list[dict[str, Any]]
    latest_measurement: dict[str, Any] | None
    reviews: list[dict[str, Any]]
    next_review_due: str | None
    retirement_reason: str | None
    replaced_by: UUID | None
    created_on: str
    modified_on: str


class GoalListDocument(BaseModel):
    """An episode's goals, in the order they were stated."""

    episode_id: UUID
    goals: list[GoalDocument]


class MeasurementRecordedDocument(BaseModel):
    """A recorded measurement's number and the goal after it."""

    sequence: int
    goal: GoalDocument


class EpisodeDocument(BaseModel):
    """An episode (:func:`goalpath.exports.documents.episode_document`)."""

    id: UUID
    version: int
    client_id: str
    therapist_ids: list[str]
    concerns: list[str]
    opened_on: str
    closed_on: str | None
    close_reason: str | None
    sessions: list[dict[str, Any]]
    sessions_attended: int
    goal_ids: list[UUID]


class SessionRecordedDocument(BaseModel):
    """A recorded session's number and the episode after it."""

    number: int
    episode: EpisodeDocument


class PlanDocument(BaseModel):
    """A plan (:func:`goalpath.exports.documents.plan_document`)."""

    episode_id: UUID
    client_id: str
    on: str
    therapist_ids: list[str]
    concerns: list[str]
    opened_on: str
    closed_on: str | None
    sessions_recorded: int
    goals: list[dict[str, Any]]
    ended_goals: list[dict[str, Any]]
    warnings: list[dict[str, Any]]
    gas_t_score: float | None
    gas: dict[str, Any]


class PlansDocument(BaseModel):
    """Every plan of one client."""

    client_id: str
    plans: list[PlanDocument]


class ProgressDocument(BaseModel):
    """A goal's progress (:func:`goalpath.exports.documents.progress_document`)."""

    goal_id: UUID
    statement: str
    as_of: str
    measure: dict[str, Any] | None
    target: dict[str, Any] | None
    series: list[dict[str, Any]]
    latest_value: float | None
    latest_on: str | None
    percent: float | None
    trend_per_week: float | None
    expected_at_latest: float | None
    expected_trajectory: list[dict[str, Any]] | None
    status: str
    reason: str
    outcome: dict[str, Any] | None


class HistoryEntryDocument(BaseModel):
    """One event of a stream's history, with each changed field's before and after."""

    stream_id: UUID
    stream_type: str
    version: int
    recorded_at: str
    effective_on: str | None
    event_type: str
    actor_id: str | None
    actor_role: str | None
    reason: str | None
    changes: list[dict[str, Any]]


class HistoryDocument(BaseModel):
    """A goal's history, oldest first."""

    goal_id: UUID
    events: list[HistoryEntryDocument]


class AuditLogDocument(BaseModel):
    """Rows of the audit log (:func:`goalpath.exports.documents.audit_document`)."""

    entries: list[dict[str, Any]]


class AccessEntryDocument(BaseModel):
    """One read of the access log (identifiers only)."""

    record_id: UUID
    read_at: str
    actor_id: str
    actor_role: Role
    asserted_by: str
    read: str
    client_id: str | None
    episode_id: UUID | None
    goal_id: UUID | None
    purpose: str | None


class AccessLogDocument(BaseModel):
    """The access log, oldest first."""

    reads: list[AccessEntryDocument]


class VerificationDocument(BaseModel):
    """Every hash chain verified (:func:`goalpath.exports.documents.verification_document`)."""

    records_checked: int
    streams_checked: int
    erased_streams: int
    problems: list[dict[str, Any]]
    ok: bool
    first_problem: dict[str, Any] | None


class ReviewQueueDocument(BaseModel):
    """Reviews overdue or due soon, the most overdue first."""

    today: str
    therapist_id: str | None
    reviews: list[dict[str, Any]]


class OutcomesDocument(BaseModel):
    """Caseload outcomes (:func:`goalpath.exports.documents.outcomes_document`)."""

    rule: dict[str, Any]
    overall: dict[str, Any]
    by_therapist: dict[str, dict[str, Any]]
    episodes: list[dict[str, Any]]


class TemplateSummaryDocument(BaseModel):
    """A goal template in brief."""

    id: str
    version: str
    modality: str
    title: str
    area: str
    focus: str


class TemplateListDocument(BaseModel):
    """The templates of every loaded modality plugin."""

    templates: list[TemplateSummaryDocument]


class TemplateDocument(TemplateSummaryDocument):
    """A goal template in full (:func:`goalpath.exports.documents.template_document`)."""

    plugin: str | None
    statement: str
    measure: dict[str, Any] | None
    parameters: list[dict[str, Any]]
    duration_weeks: int | float | None
    review_every_days: int | None
    practices: list[str]
    description: str | None
    example_statement: str
    example_command: str
    interventions: list[dict[str, Any]]
