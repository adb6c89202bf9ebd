"""One audit vocabulary: ``goal history``, ``audit log`` and ``audit export`` describe alike.

Done-when of the architecture issue: the three name the same change of the
same event with the same field name and value. The law below checks it for
random histories; the CLI test checks the three commands' own JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.core.application.audit import export_rows
from goalpath.core.history import HistoryBuilder
from goalpath.exports.documents import audit_document
from goalpath.projections import Projections, SQLiteReadModelStore
from tests.projections.strategies import Operation, histories, replay
from tests.strategies import TODAY

SHARED = (
    "stream_id",
    "stream_type",
    "version",
    "recorded_at",
    "effective_on",
    "event_type",
    "actor_id",
    "actor_role",
    "reason",
    "changes",
)
"""The names every one of the three gives each event."""


def _shared(document: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(document[name] for name in SHARED)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(max_operations=30))
def test_history_audit_log_and_export_describe_every_event_alike(
    history: list[Operation],
) -> None:
    """Law: for every event, the three readers give the same names, values and changes."""
    with GoalpathApp(today=lambda: TODAY) as app:
        replay(app, history)
        builder = HistoryBuilder()
        replayed = [builder.entry_for(event).document() for _position, event in app.iter_events()]
        exported = list(export_rows(app))
        with Projections(app, store=SQLiteReadModelStore(":memory:")) as projections:
            projections.catch_up()
            logged = [audit_document(entry) for entry in projections.audit_log()]
    assert [_shared(row) for row in exported] == [_shared(row) for row in replayed]
    assert [_shared(row) for row in logged] == [_shared(row) for row in replayed]


def _run(*args: str) -> Any:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _corrected_goal(db: str) -> tuple[str, str]:
    """By the command line: an episode, a goal, a measurement and its correction; their ids."""
    opened = _run(
        "--db", db, "episode", "open", "--client", "client-1", "--therapist", "therapist-7",
        "--concern", "panic attacks", "--on", "2026-01-05", "--actor", "therapist-7", "--json",
    )  # fmt: skip
    episode = json.loads(opened)["id"]
    created = _run(
        "--db", db, "goal", "create", episode, "--start", "2026-01-05", "--statement",
        "I will reduce my panic attacks from 3 to 1 per week within 6 weeks by practising "
        "daily breathing exercises", "--activate", "--actor", "therapist-7", "--json",
    )  # fmt: skip
    goal = json.loads(created)["id"]
    _run("--db", db, "goal", "measure", goal, "12", "--on", "2026-01-12", "--actor", "therapist-7")
    _run(
        "--db", db, "goal", "correct", goal, "1", "--value", "2", "--reason", "typed 12 for 2",
        "--actor", "therapist-7",
    )  # fmt: skip
    return episode, goal


def test_the_three_commands_name_a_correction_alike(tmp_path: Path) -> None:
    db = str(tmp_path / "vocabulary.db")
    _episode, goal = _corrected_goal(db)

    history = json.loads(_run("--db", db, "goal", "history", goal, "--json"))["events"]
    log = json.loads(_run("--db", db, "audit", "log", "--goal", goal, "--json"))["entries"]
    export = [
        json.loads(line)
        for line in _run("--db", db, "audit", "export", "--format", "jsonl").splitlines()
        if json.loads(line)["stream_id"] == goal
    ]
    expected = [
        {"field": "measurements[1].value", "before": 12.0, "after": 2.0},
        {"field": "measurements[1].status", "before": "final", "after": "amended"},
        {"field": "measurements[1].original_value", "before": None, "after": 12.0},
    ]
    for rows in (history, log, export):
        [correction] = [row for row in rows if row["event_type"] == "MeasurementCorrected"]
        assert correction["changes"] == expected
        assert (correction["stream_id"], correction["stream_type"], correction["version"]) == (
            goal,
            "goal",
            3,
        )
        assert (correction["actor_id"], correction["reason"]) == ("therapist-7", "typed 12 for 2")
    assert [_shared(row) for row in history] == [_shared(row) for row in log]
    assert [_shared(row) for row in history] == [_shared(row) for row in export]


def _provenance_changes(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """The change records a Provenance carries, decoded from its extensions."""
    records = []
    for extension in provenance.get("extension", []):
        if extension["url"] != "https://goalpath.dev/fhir/StructureDefinition/change":
            continue
        parts = {part["url"]: part["valueString"] for part in extension["extension"]}
        records.append(
            {
                "field": parts["field"],
                "before": json.loads(parts["before"]) if "before" in parts else None,
                "after": json.loads(parts["after"]) if "after" in parts else None,
            }
        )
    return records


def test_the_fhir_provenance_carries_the_same_change_records(tmp_path: Path) -> None:
    db = str(tmp_path / "provenance.db")
    episode, goal = _corrected_goal(db)
    history = json.loads(_run("--db", db, "goal", "history", goal, "--json"))["events"]
    bundle = json.loads(_run("--db", db, "export", "fhir", "--episode", episode))
    provenances = [
        entry["resource"]
        for entry in bundle["entry"]
        if entry["resource"]["resourceType"] == "Provenance"
    ]
    assert len(provenances) == len(history)
    for provenance, event in zip(provenances, history, strict=True):
        assert _provenance_changes(provenance) == event["changes"]
