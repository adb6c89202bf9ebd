"""goalpath's domain: event-sourced goals and episodes, SMART evaluation, the application."""

from goalpath.core.application import GoalpathApp, local_today, resolve_db_path
from goalpath.core.authorization import ClinicalPolicy, Decision, Policy, Principal, Subject
from goalpath.core.episode import Episode, Session
from goalpath.core.errors import (
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    InvalidCommandError,
    InvalidValueError,
    NotAuthorizedError,
    NotFoundError,
    NotSmartError,
    StoreError,
)
from goalpath.core.goal import Goal
from goalpath.core.smart import SmartReport, SmartVerdict, draft_definition, evaluate_smart
from goalpath.core.values import (
    Actor,
    GoalDefinition,
    Measure,
    Measurement,
    Review,
    Target,
)

__all__ = [
    "Actor",
    "ClinicalPolicy",
    "ConflictError",
    "Decision",
    "DuplicateIdError",
    "Episode",
    "Goal",
    "GoalDefinition",
    "GoalpathApp",
    "GoalpathError",
    "InvalidCommandError",
    "InvalidValueError",
    "Measure",
    "Measurement",
    "NotAuthorizedError",
    "NotFoundError",
    "NotSmartError",
    "Policy",
    "Principal",
    "Review",
    "Session",
    "SmartReport",
    "SmartVerdict",
    "StoreError",
    "Subject",
    "Target",
    "draft_definition",
    "evaluate_smart",
    "local_today",
    "resolve_db_path",
]
