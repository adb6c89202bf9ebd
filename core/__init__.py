"""goalpath's domain: event-sourced goals and episodes, SMART evaluation, the application."""

from goalpath.core.application import GoalpathApp, local_today, resolve_db_path
from goalpath.core.episode import Episode, Session
from goalpath.core.errors import (
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    InvalidCommandError,
    InvalidValueError,
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
    "ConflictError",
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
    "NotFoundError",
    "NotSmartError",
    "Review",
    "Session",
    "SmartReport",
    "SmartVerdict",
    "StoreError",
    "Target",
    "draft_definition",
    "evaluate_smart",
    "local_today",
    "resolve_db_path",
]
