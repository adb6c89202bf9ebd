"""GAS on the command line: a goal's scale and weight in ``goal create`` and ``goal refine``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.main import cli

ACTOR = {"GOALPATH_ACTOR": "therapist-7"}
START = "2026-03-02"
STATEMENT = "Walk in the evening at least 3 times a week, up from none, within 8 weeks"
LEVELS = ("no walks", "one walk a week", "three walks a week", "five walks a week", "every day")


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=ACTOR, catch_exceptions=False)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def scale(levels: tuple[str, ...] = LEVELS) -> list[str]:
    options = []
    for level, text in zip((-2, -1, 0, 1, 2), levels, strict=False):
        options += ["--gas-level", f"{level:+d}={text}"]
    return options


@pytest.fixture
def episode(tmp_path: Path) -> tuple[Path, str]:
    db = tmp_path / "gas.db"
    opened = run(
        db, "episode", "open", "--client", "client-1", "--therapist", "therapist-7",
        "--on", START, "--json",
    )  # fmt: skip
    return db, str(document(opened)["id"])


def test_goal_create_takes_the_gas_scale_and_weight(episode: tuple[Path, str]) -> None:
    db, episode_id = episode
    # In any order: the levels are stored -2 to +2.
    options = scale()
    options = options[4:] + options[:4]
    args = ["goal", "create", episode_id, "--statement", STATEMENT, "--start", START, *options]
    args += ["--gas-importance", "3", "--gas-difficulty", "2", "--json"]
    created = document(run(db, *args))
    definition = created["definition"]
    assert definition["gas_levels"] == list(LEVELS)
    assert (definition["gas_importance"], definition["gas_difficulty"]) == (3, 2)


def test_goal_refine_changes_the_gas_scale(episode: tuple[Path, str]) -> None:
    db, episode_id = episode
    goal_id = document(
        run(db, "goal", "create", episode_id, "--statement", STATEMENT, "--start", START, "--json")
    )["id"]
    new = (*LEVELS[:4], "a walk every evening and at weekends")
    refined = document(
        run(db, "goal", "refine", goal_id, "--reason", "scale agreed", *scale(new), "--json")
    )
    assert refined["definition"]["gas_levels"] == list(new)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (scale()[:8], "missing +2"),
        ([*scale()[:8], "--gas-level", "+1=again"], "a different LEVEL"),
        ([*scale()[:8], "--gas-level", "3=too far"], "from -2 to +2"),
        ([*scale()[:8], "--gas-level", "two"], "LEVEL=TEXT"),
        ([*scale(), "--gas-importance", "4", "--gas-difficulty", "1"], "0<=x<=3"),
    ],
    ids=["four levels", "a level twice", "no such level", "no level", "importance 4"],
)
def test_a_gas_option_that_cannot_be_read_is_a_usage_error_and_nothing_is_stored(
    episode: tuple[Path, str], options: list[str], words: str
) -> None:
    db, episode_id = episode
    before = db.read_bytes()
    result = run(
        db, "goal", "create", episode_id, "--statement", STATEMENT, "--start", START, *options
    )
    assert result.exit_code == 2
    assert words in result.output
    assert db.read_bytes() == before
