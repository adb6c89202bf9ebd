"""JSON Schemas (draft 2020-12) of every JSON document goalpath prints with ``--json``.

:data:`SCHEMAS` maps each document's name to its schema, :data:`COMMANDS`
each command to the documents it prints. The documents of
:mod:`goalpath.exports.documents` and the command line's own (lists,
checkpoints, the FHIR import's result...) are described here; the parts
that are a value object's fields (a goal's definition, a measurement, a
review) are made from those classes' annotations
(:mod:`goalpath.exports.schema_types`), so they change with the values.

Every schema is closed where its document is: each property required
(``null`` where it may be absent), no other property allowed. A FHIR Bundle
and an OperationOutcome are checked for their outline only; FHIR's own
schemas and ``validate_bundle`` check the rest.

``python -m goalpath.exports.schemas DIR`` writes them as ``DIR/<name>.json``
(docs/schemas/ holds them, and a test checks they are these).

This module is over 500 lines because it is one table, a schema per
document, which a reader compares with the documents side by side; the
parts common to many documents are defined once at its top.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from goalpath.core.access import AccessEntry
from goalpath.core.episode import Session
from goalpath.core.errors import ERROR_CODES
from goalpath.core.history import HistoryEntry
from goalpath.core.smart import SmartVerdict
from goalpath.core.storage.integrity import ChainProblem
from goalpath.core.values import (
    LIFECYCLE_STATUSES,
    RETIREMENT_REASONS,
    GoalDefinition,
    Measure,
    Measurement,
    Review,
    Target,
)
from goalpath.exports.schema_types import (
    BOOLEAN,
    DATE,
    DATE_TIME,
    INTEGER,
    NUMBER,
    STRING,
    UUID_STRING,
    Schema,
    array,
    closed,
    enum,
    fields_of,
    nullable,
    record,
    returned,
)
from goalpath.modalities import Instrument, Intervention, PluginStatus
from goalpath.projections import (
    AuditEntry,
    OutcomeClassification,
    OutcomeCounts,
    PlanWarning,
    ProgressReport,
    ReviewDue,
)
from goalpath.projections.caseload import EpisodeOutcome
from goalpath.projections.gas import GasScore
from goalpath.projections.outcomes import CombinedOutcome, InstrumentPair, OutcomeRule
from goalpath.projections.plan import PlanGoal
from goalpath.projections.read_side import ReadModelCheck
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = ["BASE_URI", "COMMANDS", "SCHEMAS", "main", "write_schemas"]

BASE_URI: Final = "https://goalpath.dev/schemas/"
"""Where each schema's ``$id`` puts it: ``<BASE_URI><name>.json``."""

_DRAFT = "https://json-schema.org/draft/2020-12/schema"
_STRINGS = array(STRING)
_IDS = array(UUID_STRING)
_HEX = {"type": "string", "pattern": "^[0-9a-f]+$"}
_COUNT = {"type": "integer", "minimum": 0}

_SMART = closed(
    {
        "passed": BOOLEAN,
        "failed_letters": array(fields_of(SmartVerdict)["letter"]),
        "verdicts": array(record(SmartVerdict)),
    }
)
_GOAL = closed(
    {
        "id": UUID_STRING,
        "version": INTEGER,
        "episode_id": UUID_STRING,
        "client_id": STRING,
        "status": enum(LIFECYCLE_STATUSES),
        "definition": record(GoalDefinition),
        "focus": returned(GoalDefinition.effective_focus),
        "smart": _SMART,
        "template": nullable(closed({"id": STRING, "version": nullable(STRING)})),
        "measurement_count": INTEGER,
        "valid_measurement_count": INTEGER,
        "recent_measurements": array(record(Measurement)),
        "latest_measurement": nullable(record(Measurement)),
        "reviews": array(record(Review)),
        "next_review_due": nullable(DATE),
        "retirement_reason": nullable(enum(RETIREMENT_REASONS)),
        "replaced_by": nullable(UUID_STRING),
        "created_on": DATE_TIME,
        "modified_on": DATE_TIME,
    }
)
_EPISODE_FIELDS: dict[str, Schema] = {
    "id": UUID_STRING,
    "version": INTEGER,
    "client_id": STRING,
    "therapist_ids": _STRINGS,
    "concerns": _STRINGS,
    "opened_on": DATE,
    "closed_on": nullable(DATE),
    "close_reason": nullable(STRING),
    "sessions": array(record(Session)),
    "sessions_attended": _COUNT,
    "goal_ids": _IDS,
}
_PLAN_GOAL = closed(
    {
        "id": UUID_STRING,
        "status": enum(LIFECYCLE_STATUSES),
        "statement": STRING,
        "definition": record(GoalDefinition),
        "focus": returned(GoalDefinition.effective_focus),
        "smart": closed(
            {
                "passed": BOOLEAN,
                "summary": STRING,
                "failed_letters": _SMART["properties"]["failed_letters"],
            }
        ),
        "latest_measurement": fields_of(PlanGoal)["latest"],
        "next_review_due": nullable(DATE),
        "last_reviewed_on": nullable(DATE),
        "latest_attainment": fields_of(GoalRecord)["latest_attainment"],
        "latest_attainment_on": nullable(DATE),
        "gas_weight": returned(GoalDefinition.gas_weight),
        "version": INTEGER,
    }
)
_GAS = closed(
    {
        **fields_of(GasScore),
        "unscored": returned(GasScore.unscored),
        "coverage": returned(GasScore.coverage),
    }
)
_PLAN = closed(
    {
        "episode_id": UUID_STRING,
        "client_id": STRING,
        "on": DATE,
        "therapist_ids": _STRINGS,
        "concerns": _STRINGS,
        "opened_on": DATE,
        "closed_on": nullable(DATE),
        "sessions_recorded": _COUNT,
        "goals": array(_PLAN_GOAL),
        "ended_goals": array(_PLAN_GOAL),
        "warnings": array(record(PlanWarning)),
        "gas_t_score": nullable(NUMBER),
        "gas": _GAS,
    }
)
_PROGRESS_FIELDS = fields_of(ProgressReport)
_PROGRESS = closed(
    {
        "goal_id": UUID_STRING,
        "statement": STRING,
        "as_of": DATE,
        "measure": nullable(record(Measure)),
        "target": nullable(record(Target)),
        "series": array(closed({"sequence": INTEGER, "value": NUMBER, "observed_on": DATE})),
        "latest_value": nullable(NUMBER),
        "latest_on": nullable(DATE),
        "percent": nullable(NUMBER),
        "trend_per_week": nullable(NUMBER),
        "expected_at_latest": nullable(NUMBER),
        "expected_trajectory": nullable(array(closed({"on": DATE, "value": NUMBER}))),
        "status": _PROGRESS_FIELDS["status"],
        "reason": STRING,
        "outcome": nullable(record(OutcomeClassification)),
        "png": nullable(STRING),  # the command line's --png file; not in progress_document
    },
    optional=["png"],
)
_COUNTS = record(OutcomeCounts, extra={"rates": returned(OutcomeCounts.rates)})
_PAIR = nullable(
    record(
        InstrumentPair,
        drop=["outcome"],
        extra=dict.fromkeys(
            ("case_at_start", "case_at_end", "reliable_improvement", "reliable_deterioration"),
            BOOLEAN,
        ),
    )
)
_OUTCOMES = closed(
    {
        "rule": record(OutcomeRule),
        "overall": _COUNTS,
        "by_therapist": {"type": "object", "additionalProperties": _COUNTS},
        "episodes": array(
            closed(
                {
                    "episode_id": UUID_STRING,
                    "therapist_ids": _STRINGS,
                    "course": fields_of(EpisodeOutcome)["course"],
                    "label": returned(EpisodeOutcome.label),
                    "counted": returned(EpisodeOutcome.counted),
                    "depression": _PAIR,
                    "anxiety": _PAIR,
                    "outcome": nullable(record(CombinedOutcome)),
                    "instruments": _STRINGS,
                }
            )
        ),
    }
)
_STATUS: dict[str, Schema] = {
    "store": STRING,
    "position": _COUNT,
    "head": _COUNT,
    "lag": _COUNT,
    "batch_size": INTEGER,
    "rows": {"type": "object", "additionalProperties": _COUNT},
}
_ERROR = closed(
    {
        "error": closed(
            {
                "type": STRING,
                "code": enum(ERROR_CODES),
                "message": {"type": "string", "minLength": 1},
                "field": nullable(STRING),
                "accepted": {"anyOf": [_STRINGS, STRING, {"type": "null"}]},
            }
        )
    }
)
_TEMPLATE_SUMMARY: dict[str, Schema] = {
    "id": STRING,
    "version": STRING,
    "modality": STRING,
    "title": STRING,
    "area": STRING,
    "focus": STRING,
}
_PARAMETER_VALUE: Schema = {"type": ["string", "number", "null"]}
_TEMPLATE = closed(
    {
        **_TEMPLATE_SUMMARY,
        "plugin": nullable(STRING),
        "statement": STRING,
        "measure": record(Measure),
        "parameters": array(
            closed(
                {
                    "name": STRING,
                    "kind": STRING,
                    "accepts": STRING,
                    "default": _PARAMETER_VALUE,
                    "example": _PARAMETER_VALUE,
                    "description": STRING,
                }
            )
        ),
        "duration_weeks": INTEGER,
        "review_every_days": INTEGER,
        "practices": _STRINGS,
        "description": STRING,
        "example_statement": STRING,
        "example_command": STRING,
        "interventions": array(record(Intervention, extra={"plugin": STRING})),
    }
)
_CHECKPOINT_PARTS: dict[str, Schema] = {"origin": STRING, "size": _COUNT, "root": _HEX}
_FHIR_RESOURCE: Schema = {
    "type": "object",
    "properties": {"resourceType": STRING, "id": STRING},
    "required": ["resourceType"],
}

_DOCUMENTS: dict[str, tuple[str, Schema]] = {
    "error": (
        "A refusal: the error's class, stable code, message, field and what it accepts.",
        _ERROR,
    ),
    "goal": ("A goal: definition, status, SMART report, measurements, reviews.", _GOAL),
    "goal-import": (
        "A goal after measurements were imported, with the imported measurements' numbers.",
        closed({**_GOAL["properties"], "imported": array(INTEGER)}),
    ),
    "goal-measurements": (
        "Every measurement of a goal, by number, with its corrections applied (voided ones too).",
        closed(
            {
                "goal_id": UUID_STRING,
                "version": INTEGER,
                "measurement_count": INTEGER,
                "valid_measurement_count": INTEGER,
                "measurements": array(record(Measurement)),
            }
        ),
    ),
    "goal-history": (
        "Every event of a goal with its field-level changes.",
        closed({"goal_id": UUID_STRING, "events": array(record(HistoryEntry))}),
    ),
    "goal-list": (
        "Goals as the read models hold them, in the order they were stated.",
        closed(
            {"goals": array(record(GoalRecord, rename={"goal_id": "id"}, drop=["measurements"]))}
        ),
    ),
    "episode": (
        "An episode of care: therapists, concerns, sessions, goals.",
        closed(_EPISODE_FIELDS),
    ),
    "episode-show": (
        "An episode with each of its goals' id, status and statement.",
        closed(
            {
                **_EPISODE_FIELDS,
                "goals": array(
                    closed(
                        {"id": UUID_STRING, "status": enum(LIFECYCLE_STATUSES), "statement": STRING}
                    )
                ),
            }
        ),
    ),
    "episode-list": (
        "Episodes as the read models hold them, oldest first.",
        closed({"episodes": array(record(EpisodeRecord, rename={"episode_id": "id"}))}),
    ),
    "plan": ("An episode's plan: goals in force and ended, warnings, GAS score.", _PLAN),
    "client-plans": (
        "A client's plans, one per episode.",
        closed({"client_id": STRING, "plans": array(_PLAN)}),
    ),
    "progress": ("A goal's progress against its expected trajectory.", _PROGRESS),
    "review-queue": (
        "The goals due or overdue for review, the most overdue first.",
        closed(
            {"today": DATE, "therapist_id": nullable(STRING), "reviews": array(record(ReviewDue))}
        ),
    ),
    "audit-log": (
        "One row per event, with what changed.",
        closed({"entries": array(record(AuditEntry))}),
    ),
    "outcomes": ("Caseload outcomes by the paired rule: counts, rates, episodes.", _OUTCOMES),
    "smart": (
        "A goal statement's definition as read, and its SMART report.",
        closed({"definition": record(GoalDefinition), "smart": _SMART}),
    ),
    "projections-status": ("Where the read models stand against the event log.", closed(_STATUS)),
    "projections-rebuild": (
        "The read models rebuilt from zero: events applied, batches, where they stand.",
        closed({"applied": _COUNT, "batches": _COUNT, **_STATUS}),
    ),
    "projections-run": (
        "The projection process stopped: where it started and ended, what it applied.",
        closed(
            {
                "store": STRING,
                "start_position": _COUNT,
                "position": _COUNT,
                "applied": _COUNT,
                "batches": _COUNT,
                "stopped_by": nullable(STRING),
            }
        ),
    ),
    "projections-verify": (
        "The read models compared with a rebuild from the events.",
        record(ReadModelCheck, extra={"passed": returned(ReadModelCheck.passed)}),
    ),
    "template-list": (
        "The goal templates of the loaded plugins.",
        closed({"templates": array(closed(_TEMPLATE_SUMMARY))}),
    ),
    "template": (
        "One goal template with an example and suggested interventions.",
        closed({"template": _TEMPLATE}),
    ),
    "plugins": (
        "Each modality plugin found: loaded, failed or disabled, and what it contributes.",
        closed(
            {
                "plugins": array(record(PluginStatus, extra={"loaded": BOOLEAN})),
                "unknown_disabled": _STRINGS,
                "problems": _STRINGS,
            }
        ),
    ),
    "instruments": (
        "The standard measures of the loaded plugins.",
        closed({"instruments": array(record(Instrument))}),
    ),
    "serving": (
        "Where goalpath serve listens and how it checks tokens, printed before it serves.",
        closed(
            {
                "store": STRING,
                "tenant": nullable(STRING),
                "placement": nullable(STRING),
                "url": STRING,
                "openapi": STRING,
                "workers": {"type": "integer", "minimum": 1},
                "issuer": nullable(STRING),
                "audience": nullable(STRING),
                "claims": closed(
                    {
                        "principal": STRING,
                        "role": STRING,
                        "client": STRING,
                        "scope": STRING,
                        "tenant": STRING,
                    }
                ),
                "insecure_dev": BOOLEAN,
            }
        ),
    ),
    "plugin-new": (
        "A new plugin project: its folder and the plugin's name.",
        closed({"project": STRING, "plugin": STRING}),
    ),
    "demo": (
        "The demo's store, its episode and goals, and commands to try next.",
        closed(
            {"db": STRING, "episode_id": UUID_STRING, "goal_ids": _IDS, "next_commands": _STRINGS}
        ),
    ),
    "verification": (
        "Every hash chain recomputed: what was checked and each problem found.",
        closed(
            {
                "records_checked": _COUNT,
                "streams_checked": _COUNT,
                "erased_streams": _COUNT,
                "problems": array(record(ChainProblem)),
                "ok": BOOLEAN,
                "first_problem": nullable(record(ChainProblem)),
            }
        ),
    ),
    "access-log": (
        "Every read of a client's data, identifiers only.",
        closed({"reads": array(record(AccessEntry))}),
    ),
    "signing-key": (
        "A new checkpoint signing key's name and public key (the key itself is in its file).",
        closed({"name": STRING, "public_key": STRING}),
    ),
    "checkpoint": (
        "A signed checkpoint of the store's log: origin, size, root hash and the signed note.",
        closed({**_CHECKPOINT_PARTS, "note": STRING}),
    ),
    "inclusion-proof": (
        "An inclusion proof of one stored record in the store's log.",
        closed(
            {
                "type": {"const": "inclusion"},
                "leaf": closed(
                    {"position": _COUNT, "stream_id": STRING, "version": INTEGER, "chain": _HEX}
                ),
                "leaf_index": _COUNT,
                "tree_size": _COUNT,
                "path": array(_HEX),
            }
        ),
    ),
    "consistency-proof": (
        "A consistency proof: the log at a later size extends the log at an earlier size.",
        closed(
            {
                "type": {"const": "consistency"},
                "first_size": _COUNT,
                "second_size": _COUNT,
                "path": array(_HEX),
            }
        ),
    ),
    "audit-export-line": (
        "One line of a JSON Lines audit export: an event with its changes, or the checkpoint.",
        {
            "oneOf": [
                closed(
                    {
                        "position": _COUNT,
                        "stream_id": UUID_STRING,
                        "stream_type": STRING,
                        "client_id": nullable(STRING),
                        "version": INTEGER,
                        "recorded_at": nullable(DATE_TIME),  # null: an erased client's record
                        "effective_on": nullable(DATE),
                        "event_type": STRING,
                        "actor_id": nullable(STRING),
                        "actor_role": nullable(STRING),
                        "reason": nullable(STRING),
                        "changes": fields_of(HistoryEntry)["changes"],
                        "erased": BOOLEAN,
                        "chain": _HEX,
                    }
                ),
                closed({"checkpoint": STRING}),
            ]
        },
    ),
    "erasure": (
        "A client erased: their id and the erasure's record.",
        closed({"client_id": STRING, "erasure_record": UUID_STRING, "erased": {"const": True}}),
    ),
    "purge": ("The store's files purged of freed pages.", closed({"purged": {"const": True}})),
    "fhir-bundle": (
        "A FHIR Bundle (R5 or R4B), in outline: its entries' resources.",
        {
            "type": "object",
            "properties": {
                "resourceType": {"const": "Bundle"},
                "type": enum(["collection", "transaction"]),
                "entry": array(
                    {
                        "type": "object",
                        "properties": {"fullUrl": STRING, "resource": _FHIR_RESOURCE},
                        "required": ["resource"],
                    }
                ),
            },
            "required": ["resourceType", "type"],
        },
    ),
    "fhir-import": (
        "A FHIR Bundle imported: the episodes, goals, measurements and events it made.",
        closed(
            {
                "episode_ids": _IDS,
                "goal_ids": _IDS,
                "measurements": _COUNT,
                "events": _COUNT,
            }
        ),
    ),
    "operation-outcome": (
        "A FHIR import refused, as a FHIR OperationOutcome naming the resource and element.",
        {
            "type": "object",
            "properties": {
                "resourceType": {"const": "OperationOutcome"},
                "issue": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "severity": enum(["fatal", "error", "warning", "information"]),
                            "code": STRING,
                            "diagnostics": STRING,
                            "expression": _STRINGS,
                        },
                        "required": ["severity", "code"],
                    },
                },
            },
            "required": ["resourceType", "issue"],
        },
    ),
}


def _published(name: str, description: str, schema: Schema) -> Schema:
    return {
        "$schema": _DRAFT,
        "$id": f"{BASE_URI}{name}.json",
        "title": f"goalpath {name} document",
        "description": description,
        **schema,
    }


SCHEMAS: Final[dict[str, Schema]] = {
    name: _published(name, description, schema)
    for name, (description, schema) in _DOCUMENTS.items()
}
"""Each document's name and its JSON Schema (draft 2020-12)."""

_CHANGES = ("create", "refine", "activate", "measure", "correct", "review", "retire", "show")
COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    "demo": ("demo",),
    "smart": ("smart",),
    **{f"episode {name}": ("episode",) for name in ("open", "session", "assign", "close")},
    "episode show": ("episode-show",),
    "episode list": ("episode-list",),
    **{f"goal {name}": ("goal",) for name in _CHANGES},
    "goal import": ("goal-import",),
    "goal measurements": ("goal-measurements",),
    "goal history": ("goal-history",),
    "goal list": ("goal-list",),
    "plan show": ("plan", "client-plans"),
    "progress": ("progress",),
    "reviews due": ("review-queue",),
    "audit log": ("audit-log",),
    "outcomes": ("outcomes",),
    "projections status": ("projections-status",),
    "projections rebuild": ("projections-rebuild",),
    "projections run": ("projections-run",),
    "projections verify": ("projections-verify",),
    "templates list": ("template-list",),
    "templates show": ("template",),
    "plugins": ("plugins",),
    "instruments": ("instruments",),
    "plugin new": ("plugin-new",),
    "audit verify": ("verification",),
    "audit access": ("access-log",),
    "audit keygen": ("signing-key",),
    "audit checkpoint": ("checkpoint",),
    "audit prove": ("inclusion-proof",),
    "audit consistency": ("consistency-proof",),
    "audit export": ("audit-export-line",),
    "audit purge": ("purge",),
    "client erase": ("erasure",),
    "export fhir": ("fhir-bundle",),
    "import fhir": ("fhir-import", "operation-outcome"),
    "serve": ("serving",),
}
"""Each command and the documents it prints with ``--json`` when it succeeds.

A refusal of any command is the ``error`` document (``import fhir`` gives a
bundle it cannot map as an ``operation-outcome``); ``plan show`` prints a
``plan`` for ``--episode`` and ``client-plans`` for a client; ``audit
export`` prints one ``audit-export-line`` per line (JSON Lines); ``serve``
prints ``serving`` before it starts serving.
"""


def write_schemas(directory: str | Path) -> list[Path]:
    """Write each schema to ``directory/<name>.json`` (made if missing); return the files."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in SCHEMAS.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m goalpath.exports.schemas DIR``: write every schema into DIR."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        sys.stderr.write("usage: python -m goalpath.exports.schemas DIR\n")
        return 2
    for path in write_schemas(arguments[0]):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
