"""The shapes of the HTTP API: request bodies, and the schemas of the documents it returns.

Request bodies are pydantic models whose fields mirror the Python API's
parameters and value objects (:class:`~goalpath.core.values.GoalDefinition`,
:class:`~goalpath.core.values.Measure`, :class:`~goalpath.core.values.Target`);
their fixed sets are goalpath's own ``Literal`` types, so the OpenAPI
document lists the same codes the domain accepts. Each body turns itself
into the domain's values, whose validators then decide (an invalid value is
a 422 ``invalid-value`` problem, as in Python).

Responses are the documents of :mod:`goalpath.exports.documents`, and the
schemas the OpenAPI document gives them (:data:`RESPONSE_DOCUMENTS`) are
the ones :mod:`goalpath.exports.schemas` publishes for ``--json``: one
definition of each document. The tests check every response against them.
The problem document (:class:`ProblemDocument`) is the server's own.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from uuid import UUID

import attrs
from pydantic import BaseModel, ConfigDict, Field

from goalpath.core.errors import ERROR_CODES
from goalpath.core.values import (
    AchievementStatus,
    Direction,
    Focus,
    GoalArea,
    GoalDefinition,
    Measure,
    Priority,
    RetirementReason,
    ReviewDecision,
    Target,
)
from goalpath.exports.schema_types import INTEGER, UUID_STRING, array, closed
from goalpath.exports.schemas import SCHEMAS

__all__ = [
    "RESPONSE_DOCUMENTS",
    "AccessLogDocument",
    "ActivateBody",
    "AuditLogDocument",
    "CloseEpisodeBody",
    "CorrectionBody",
    "CreateGoalBody",
    "DefinitionBody",
    "DocumentSchema",
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


@attrs.frozen
class DocumentSchema:
    """A response document as the OpenAPI document lists it: a component name and its schema.

    The schema is the one :mod:`goalpath.exports.schemas` publishes for the
    same document (what ``--json`` prints), so the command line and the
    server describe each document once.
    """

    name: str
    schema: dict[str, Any]

    @property
    def reference(self) -> dict[str, str]:
        """A ``$ref`` to this document's component."""
        return {"$ref": f"#/components/schemas/{self.name}"}


def _published(name: str) -> dict[str, Any]:
    """The published schema of ``name``, as an OpenAPI component (no ``$schema`` or ``$id``)."""
    return {key: value for key, value in SCHEMAS[name].items() if key not in ("$schema", "$id")}


GoalDocument: Final = DocumentSchema("GoalDocument", _published("goal"))
EpisodeDocument: Final = DocumentSchema("EpisodeDocument", _published("episode"))
PlanDocument: Final = DocumentSchema("PlanDocument", _published("plan"))
PlansDocument: Final = DocumentSchema("PlansDocument", _published("client-plans"))
ProgressDocument: Final = DocumentSchema("ProgressDocument", _published("progress"))
HistoryDocument: Final = DocumentSchema("HistoryDocument", _published("goal-history"))
AuditLogDocument: Final = DocumentSchema("AuditLogDocument", _published("audit-log"))
AccessLogDocument: Final = DocumentSchema("AccessLogDocument", _published("access-log"))
VerificationDocument: Final = DocumentSchema("VerificationDocument", _published("verification"))
ReviewQueueDocument: Final = DocumentSchema("ReviewQueueDocument", _published("review-queue"))
OutcomesDocument: Final = DocumentSchema("OutcomesDocument", _published("outcomes"))
TemplateListDocument: Final = DocumentSchema("TemplateListDocument", _published("template-list"))
TemplateDocument: Final = DocumentSchema(
    "TemplateDocument",
    {
        "title": "goalpath template",
        "description": "One goal template (the template member of the template document).",
        **SCHEMAS["template"]["properties"]["template"],
    },
)
GoalListDocument: Final = DocumentSchema(
    "GoalListDocument",
    {
        "title": "goalpath goal list",
        "description": "An episode's goals in full, in the order they were stated.",
        **closed({"episode_id": UUID_STRING, "goals": array(GoalDocument.reference)}),
    },
)
MeasurementRecordedDocument: Final = DocumentSchema(
    "MeasurementRecordedDocument",
    {
        "title": "goalpath measurement recorded",
        "description": "The measurement's sequence number and the goal after it.",
        **closed({"sequence": INTEGER, "goal": GoalDocument.reference}),
    },
)
SessionRecordedDocument: Final = DocumentSchema(
    "SessionRecordedDocument",
    {
        "title": "goalpath session recorded",
        "description": "The session's number and the episode after it.",
        **closed({"number": INTEGER, "episode": EpisodeDocument.reference}),
    },
)

RESPONSE_DOCUMENTS: Final[tuple[DocumentSchema, ...]] = (
    GoalDocument,
    GoalListDocument,
    MeasurementRecordedDocument,
    EpisodeDocument,
    SessionRecordedDocument,
    PlanDocument,
    PlansDocument,
    ProgressDocument,
    HistoryDocument,
    AuditLogDocument,
    AccessLogDocument,
    VerificationDocument,
    ReviewQueueDocument,
    OutcomesDocument,
    TemplateListDocument,
    TemplateDocument,
)
"""Every document a route answers with, as the OpenAPI document's components."""
