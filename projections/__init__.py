"""Read models computed from goalpath's events: plans, progress, review queue, audit log.

Start with :class:`Projections`; the clinical formulas (:func:`gas_t_score`,
:func:`classify_change`) and rules (:func:`assess_progress`,
:func:`plan_warnings`) are plain functions usable on their own.
"""

from goalpath.projections.audit_log import AuditEntry, AuditFilter
from goalpath.projections.caseload import CaseloadOutcomes, OutcomeCounts
from goalpath.projections.errors import ProjectionError, UnknownInstrumentError
from goalpath.projections.gas import gas_t_score
from goalpath.projections.outcomes import (
    Conventions,
    OutcomeClassification,
    classify_change,
    clinical_cutoff,
    combine_outcomes,
    conventions_of,
    installed_conventions,
    reliable_change_index,
)
from goalpath.projections.plan import Plan, PlanGoal, PlanWarning, build_plan, plan_warnings
from goalpath.projections.postgres_read_model_store import PostgresReadModelStore
from goalpath.projections.progress import ProgressReport, assess_progress
from goalpath.projections.read_model_store import ReadModelStore, SQLiteReadModelStore
from goalpath.projections.read_side import Projections, ProjectionStatus
from goalpath.projections.review_queue import ReviewDue
from goalpath.projections.runner import CatchUpResult, ProjectionRunner
from goalpath.projections.timetravel import plan_as_of

__all__ = [
    "AuditEntry",
    "AuditFilter",
    "CaseloadOutcomes",
    "CatchUpResult",
    "Conventions",
    "OutcomeClassification",
    "OutcomeCounts",
    "Plan",
    "PlanGoal",
    "PlanWarning",
    "PostgresReadModelStore",
    "ProgressReport",
    "ProjectionError",
    "ProjectionRunner",
    "ProjectionStatus",
    "Projections",
    "ReadModelStore",
    "ReviewDue",
    "SQLiteReadModelStore",
    "UnknownInstrumentError",
    "assess_progress",
    "build_plan",
    "classify_change",
    "clinical_cutoff",
    "combine_outcomes",
    "conventions_of",
    "gas_t_score",
    "installed_conventions",
    "plan_as_of",
    "plan_warnings",
    "reliable_change_index",
]
