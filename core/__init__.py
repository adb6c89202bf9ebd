"""goalpath's domain: event-sourced goals and episodes, SMART evaluation, the application.

Everything a host needs is importable from here: the application
(:class:`GoalpathApp`), the value objects a command takes, the principals and
policies, the typed errors and their codes, the master key, and field-level
history. The modules below hold the same names and their helpers; the
public ones are listed in docs/embedding.md, the others may change in any
release.
"""

from goalpath.core.application import GoalpathApp, local_today, resolve_db_path
from goalpath.core.authorization import (
    Action,
    ClinicalPolicy,
    Decision,
    Policy,
    Principal,
    Subject,
)
from goalpath.core.changes import FieldChange
from goalpath.core.episode import Episode, Session
from goalpath.core.errors import (
    ERROR_CODES,
    Accepted,
    ClientErasedError,
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    IdempotencyKeyReusedError,
    InvalidCommandError,
    InvalidValueError,
    LimitExceededError,
    NotAuthorizedError,
    NotFoundError,
    NotSmartError,
    OutcomeUnknownError,
    StoreError,
    TamperedError,
    UnhandledEventError,
)
from goalpath.core.goal import Goal
from goalpath.core.history import HistoryEntry, history_of
from goalpath.core.smart import SmartReport, SmartVerdict, draft_definition, evaluate_smart
from goalpath.core.storage.keys import ClientKeyStore, KeyConfigurationError, MasterKey
from goalpath.core.values import (
    Actor,
    GoalDefinition,
    Measure,
    Measurement,
    Review,
    Role,
    Target,
)

__all__ = [
    "ERROR_CODES",
    "Accepted",
    "Action",
    "Actor",
    "ClientErasedError",
    "ClientKeyStore",
    "ClinicalPolicy",
    "ConflictError",
    "Decision",
    "DuplicateIdError",
    "Episode",
    "FieldChange",
    "Goal",
    "GoalDefinition",
    "GoalpathApp",
    "GoalpathError",
    "HistoryEntry",
    "IdempotencyKeyReusedError",
    "InvalidCommandError",
    "InvalidValueError",
    "KeyConfigurationError",
    "LimitExceededError",
    "MasterKey",
    "Measure",
    "Measurement",
    "NotAuthorizedError",
    "NotFoundError",
    "NotSmartError",
    "OutcomeUnknownError",
    "Policy",
    "Principal",
    "Review",
    "Role",
    "Session",
    "SmartReport",
    "SmartVerdict",
    "StoreError",
    "Subject",
    "TamperedError",
    "Target",
    "UnhandledEventError",
    "draft_definition",
    "evaluate_smart",
    "history_of",
    "local_today",
    "resolve_db_path",
]
