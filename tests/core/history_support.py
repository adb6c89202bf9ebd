"""Helpers for the verifiable-history tests: stores, checkpoints and raw tampering."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

from click.testing import CliRunner, Result

from goalpath.cli.main import cli
from goalpath.core import Actor, GoalpathApp, draft_definition

__all__ = [
    "SUPERVISOR",
    "TODAY",
    "LogKeys",
    "add_client",
    "checkpoint",
    "execute",
    "invoke",
    "make_keys",
    "measure",
    "verify",
]

TODAY = date(2026, 6, 1)
SUPERVISOR = Actor("supervisor-1", "supervisor")
STATEMENT = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)


def add_client(app: GoalpathApp, client_id: str, measurements: int = 2) -> UUID:
    """An episode and an active goal for ``client_id``, with some measurements; the goal id."""
    episode = app.open_episode(
        client_id=client_id,
        therapist_ids=["therapist-7"],
        concerns=["panic attacks"],
        opened_on=TODAY - timedelta(weeks=8),
        actor=SUPERVISOR,
    )
    definition = draft_definition(STATEMENT, TODAY - timedelta(weeks=7))
    goal = app.create_goal(episode, definition, actor=SUPERVISOR, activate=True)
    for week in range(measurements):
        measure(app, goal, 3 - week * 0.5, week)
    return goal


def measure(app: GoalpathApp, goal: UUID, value: float, week: int = 0) -> None:
    """Record one measurement of ``goal``."""
    app.record_measurement(
        goal, value, observed_on=TODAY - timedelta(weeks=6 - week % 6), actor=SUPERVISOR
    )


def invoke(*words: str) -> Result:
    """Run ``goalpath WORDS``."""
    return CliRunner().invoke(cli, list(words))


@dataclass(frozen=True)
class LogKeys:
    """A checkpoint signing key and its public key, as files."""

    key: Path
    public: Path


def make_keys(folder: Path, name: str = "example.org/practice-log") -> LogKeys:
    """``goalpath audit keygen`` into ``folder``."""
    keys = LogKeys(folder / "log.key", folder / "log.pub")
    result = invoke(
        "audit", "keygen", "--name", name, "--key", str(keys.key), "--public-key", str(keys.public)
    )
    assert result.exit_code == 0, result.output
    return keys


def checkpoint(db: Path, keys: LogKeys, output: Path) -> Path:
    """``goalpath audit checkpoint`` of ``db`` into ``output``."""
    result = invoke(
        "--db", str(db), "audit", "checkpoint", "--key", str(keys.key), "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    return output


def verify(db: Path, keys: LogKeys, *checkpoints: Path) -> tuple[int, dict[str, Any], str]:
    """``goalpath audit verify --json`` against ``checkpoints``: exit code, report, stderr."""
    words = ["--db", str(db), "audit", "verify", "--json", "--public-key", str(keys.public)]
    for path in checkpoints:
        words += ["--checkpoint", str(path)]
    result = invoke(*words)
    return result.exit_code, json.loads(result.stdout), result.stderr


def execute(db: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Run SQL on the store's file directly, as someone with access to the database would."""
    with sqlite3.connect(db) as connection:
        for statement, parameters in statements:
            connection.execute(statement, parameters)
