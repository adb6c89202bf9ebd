"""``goal create --template`` with explicit options: applied and visible in history, or refused.

Issue 14, done-when 4: an option is never silently dropped. Parameter
options (``--baseline``, ``--target``, ``--weeks``, ``--due``) are in the
created event's definition; options that change the instantiated goal
(``--statement``, ``--area``, ``--focus``, ``--practice``, ``--priority``,
``--review-every``) are a refinement whose reason names the template and
the options; a clash exits 1 with the clash named and stores nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.main import cli

TEMPLATE = "cbt.panic-frequency"
OWN_WORDS = (
    "Cut my panic attacks from 4 to 1 a week within 8 weeks by practising slow breathing "
    "each morning"
)
START = "2026-03-16"
ACTOR = {"GOALPATH_ACTOR": "therapist-7"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "templates.db"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=ACTOR, catch_exceptions=False)


def document(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def episode(db: Path) -> str:
    opened = run(
        db, "episode", "open", "--client", "client-1", "--therapist", "therapist-7",
        "--concern", "panic attacks", "--on", START, "--json",
    )  # fmt: skip
    return str(document(opened)["id"])


def create(db: Path, episode: str, *options: str) -> Result:
    return run(db, "goal", "create", episode, "--template", TEMPLATE, "--start", START, *options)


def history(db: Path, goal_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = document(run(db, "goal", "history", goal_id, "--json"))["events"]
    return events


def change(event: dict[str, Any], field: str) -> Any:
    found = [item["after"] for item in event["changes"] if item["field"] == field]
    assert found, f"{event['event_type']} does not change {field}: {event['changes']}"
    return found[0]


def goals_of(db: Path, episode: str) -> list[Any]:
    goals: list[Any] = document(run(db, "episode", "show", episode, "--json"))["goal_ids"]
    return goals


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        (("--baseline", "6"), "definition.target", {"baseline": 6.0}),
        (("--target", "2"), "definition.target", {"value": 2.0}),
        (("--weeks", "10"), "definition.target", {"due_on": "2026-05-25"}),
        (("--due", "2026-05-25"), "definition.target", {"due_on": "2026-05-25"}),
        (("--baseline", "6", "--param", "baseline=6"), "definition.target", {"baseline": 6.0}),
    ],
)
def test_parameter_options_are_in_the_created_event(
    db: Path, episode: str, options: tuple[str, ...], field: str, expected: dict[str, Any]
) -> None:
    goal_id = document(create(db, episode, *options, "--json"))["id"]
    events = history(db, goal_id)
    assert [event["event_type"] for event in events] == ["Created"]
    target = change(events[0], field)
    assert {key: target[key] for key in expected} == expected
    assert change(events[0], "template_id") == TEMPLATE


def test_parameter_options_are_written_into_the_template_statement(db: Path, episode: str) -> None:
    goal_id = document(
        create(db, episode, "--baseline", "6", "--target", "3", "--weeks", "10", "--json")
    )["id"]
    statement = change(history(db, goal_id)[0], "definition.statement")
    assert "from 6 to 3 per week within 10 weeks" in statement


@pytest.mark.parametrize(
    ("options", "field", "expected"),
    [
        (("--area", "behavioural-change"), "definition.area", "behavioural-change"),
        (("--focus", "strength-building"), "definition.focus", "strength-building"),
        (("--priority", "high-priority"), "definition.priority", "high-priority"),
        (("--review-every", "7"), "definition.review_every_days", 7),
        (("--practice", "a panic diary"), "definition.practices", ["a panic diary"]),
        (("--statement", OWN_WORDS), "definition.statement", OWN_WORDS),
    ],
)
def test_options_that_change_the_instantiated_goal_are_a_refinement_saying_so(
    db: Path, episode: str, options: tuple[str, ...], field: str, expected: Any
) -> None:
    goal_id = document(create(db, episode, *options, "--json"))["id"]
    created, refined = history(db, goal_id)
    assert change(created, "template_id") == TEMPLATE
    assert refined["event_type"] == "Refined"
    assert change(refined, field) == expected
    assert TEMPLATE in refined["reason"]
    assert options[0] in refined["reason"]


def test_several_changes_and_activate_give_created_refined_activated(
    db: Path, episode: str
) -> None:
    options = ("--baseline", "5", "--priority", "high-priority", "--practice", "diary")
    goal_id = document(create(db, episode, *options, "--activate", "--json"))["id"]
    events = history(db, goal_id)
    assert [event["event_type"] for event in events] == ["Created", "Refined", "Activated"]
    assert change(events[0], "definition.target")["baseline"] == 5.0
    assert events[1]["reason"].endswith("by --practice, --priority")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (("--baseline", "6", "--param", "baseline=5"), "--baseline 6 and --param baseline=5"),
        (("--weeks", "10", "--param", "weeks=8"), "--weeks 10 and --param weeks=8"),
        (("--due", "2026-05-20"), "--due 2026-05-20 is 65 days"),
        (("--measure", "attacks", "--unit", "per day", "--direction", "decrease"), "--measure"),
        (("--unit", "per day"), "--unit per day cannot change the measure"),
        (("--direction", "increase"), "--direction increase"),
        (("--instrument", "phq-9"), "--instrument phq-9"),
        (("--min", "1"), "--min 1"),
        (("--max", "50"), "--max 50"),
        (("--baseline", "500"), "parameter baseline must be a number from 1 to 70"),
        (("--weeks", "60"), "parameter weeks must be a whole number from 1 to 52"),
        (("--practice", " "), "practices must not be empty"),
        (
            ("--statement", "Reduce my panic attacks from 9 to 1 a week within 8 weeks"),
            "it reads a baseline of 9",
        ),
        (
            ("--statement", "Reduce my panic attacks from 4 to 2 a week within 8 weeks"),
            "it reads a target of 2",
        ),
        (
            ("--statement", "Reduce my panic attacks from 4 to 1 a week within 3 weeks"),
            "it reads a due date of 2026-04-06",
        ),
    ],
)
def test_a_clash_exits_1_naming_it_and_stores_nothing(
    db: Path, episode: str, options: tuple[str, ...], named: str
) -> None:
    result = create(db, episode, *options)
    assert result.exit_code == 1, result.output
    assert named in result.stderr
    assert goals_of(db, episode) == []


def test_activating_a_changed_goal_that_is_not_smart_stores_nothing(db: Path, episode: str) -> None:
    # The template's statement is SMART; a wish in the clinician's words is not.
    result = create(db, episode, "--statement", "I want to feel less panicky", "--activate")
    assert result.exit_code == 1, result.output
    assert "--statement" in result.stderr
    assert "not SMART" in result.stderr
    assert goals_of(db, episode) == []


def test_options_that_repeat_the_template_are_accepted_and_change_nothing(
    db: Path, episode: str
) -> None:
    repeated = ("--measure", "panic attacks", "--unit", "per week", "--direction", "decrease")
    goal_id = document(create(db, episode, *repeated, "--area", "symptom-relief", "--json"))["id"]
    assert [event["event_type"] for event in history(db, goal_id)] == ["Created"]
