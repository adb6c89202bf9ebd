"""The command line: every lifecycle command, --json output, exit statuses, the demo."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp, local_today
from goalpath.core.values import Actor

PANIC = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


def run(db: Path, *args: str, actor: bool = True) -> Result:
    env = {"GOALPATH_ACTOR": "therapist-7"} if actor else {"GOALPATH_ACTOR": ""}
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=env, catch_exceptions=False)


def run_json(db: Path, *args: str) -> Any:
    result = run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored_events(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY originator_id, originator_version"
        ).fetchall()


def open_episode(db: Path, weeks_ago: int = 4) -> str:
    opened = (local_today() - timedelta(weeks=weeks_ago)).isoformat()
    document = run_json(
        db,
        "episode",
        "open",
        "--client",
        "client-1",
        "--therapist",
        "therapist-7",
        "--concern",
        "panic attacks",
        "--on",
        opened,
    )
    return str(document["id"])


def test_smart_fails_vague_goal_on_s_m_t_with_reasons() -> None:
    result = CliRunner().invoke(cli, ["smart", "I want to be less anxious", "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)["smart"]
    assert not report["passed"]
    assert {"specific", "measurable", "time-bound"} <= set(report["failed_letters"])
    for verdict in report["verdicts"]:
        assert verdict["reason"]
        if not verdict["passed"]:
            assert verdict["suggestion"]


def test_smart_passes_panic_goal_on_all_five_letters() -> None:
    result = CliRunner().invoke(cli, ["smart", PANIC, "--json"])
    report = json.loads(result.stdout)["smart"]
    assert report["passed"], report
    assert report["failed_letters"] == []


def test_smart_table_output_names_failed_letters() -> None:
    result = CliRunner().invoke(cli, ["smart", "I want to be less anxious"])
    assert result.exit_code == 0
    assert "not SMART yet" in result.stdout
    assert "specific" in result.stdout
    assert "fail" in result.stdout


def test_full_lifecycle_through_the_cli(db: Path) -> None:
    episode_id = open_episode(db)
    start = (local_today() - timedelta(weeks=4)).isoformat()
    created = run_json(
        db, "goal", "create", episode_id, "--statement", "I want to be less anxious",
        "--start", start,
    )  # fmt: skip
    goal_id = created["id"]
    assert created["status"] == "proposed"
    assert not created["smart"]["passed"]

    refused = run(db, "goal", "activate", goal_id)
    assert refused.exit_code == 1
    assert "not SMART" in refused.stderr

    refined = run_json(
        db, "goal", "refine", goal_id, "--reason", "made SMART", "--statement", PANIC
    )
    assert refined["smart"]["passed"]
    assert refined["definition"]["target"]["baseline"] == 3.0
    assert refined["definition"]["measure"]["name"] == "panic attacks"

    assert run_json(db, "goal", "activate", goal_id)["status"] == "active"
    observed = (local_today() - timedelta(weeks=1)).isoformat()
    measured = run_json(db, "goal", "measure", goal_id, "12", "--on", observed)
    assert measured["latest_measurement"]["value"] == 12.0
    corrected = run_json(
        db, "goal", "correct", goal_id, "1", "--value", "2", "--reason", "typed 12 for 2"
    )
    assert corrected["recent_measurements"][0]["value"] == 2.0
    assert corrected["recent_measurements"][0]["original_value"] == 12.0
    assert corrected["recent_measurements"][0]["status"] == "amended"

    reviewed = run_json(
        db, "goal", "review", goal_id, "--achievement", "improving", "--decision", "pause",
        "--attainment", "1",
    )  # fmt: skip
    assert reviewed["status"] == "on-hold"
    resumed = run_json(
        db, "goal", "review", goal_id, "--achievement", "improving", "--decision", "resume"
    )
    assert resumed["status"] == "active"
    retired = run_json(
        db, "goal", "retire", goal_id, "--reason-code", "achieved", "--reason", "one a week now"
    )
    assert retired["status"] == "completed"

    history = run_json(db, "goal", "history", goal_id)
    types = [event["event_type"] for event in history["events"]]
    assert types == [
        "Created", "Refined", "Activated", "Measured", "MeasurementCorrected",
        "Reviewed", "Reviewed", "Retired",
    ]  # fmt: skip
    assert [event["version"] for event in history["events"]] == list(range(1, 9))
    for event in history["events"]:
        assert (event["actor_id"], event["actor_role"]) == ("therapist-7", "therapist")
        assert event["recorded_at"]
    reasons = {event["event_type"]: event["reason"] for event in history["events"]}
    assert reasons["Refined"] == "made SMART"
    assert reasons["MeasurementCorrected"] == "typed 12 for 2"
    assert reasons["Retired"] == "one a week now"

    table = run(db, "goal", "history", goal_id)
    assert table.exit_code == 0
    assert "Retired" in table.stdout
    assert "therapist-7" in table.stdout

    shown = run_json(db, "goal", "show", goal_id, "--version", "2")
    assert shown["status"] == "proposed"
    assert shown["version"] == 2


def test_measuring_a_retired_goal_is_refused_with_exit_1_and_nothing_written(db: Path) -> None:
    episode_id = open_episode(db)
    start = (local_today() - timedelta(weeks=4)).isoformat()
    goal_id = run_json(
        db, "goal", "create", episode_id, "--statement", PANIC, "--start", start, "--activate"
    )["id"]
    run_json(db, "goal", "retire", goal_id, "--reason-code", "no-longer-relevant", "--reason", "x")
    before = stored_events(db)
    result = run(db, "goal", "measure", goal_id, "1")
    assert result.exit_code == 1
    assert "retired" in result.stderr
    assert stored_events(db) == before


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["goal", "measure", "{goal}", "nan"], "finite"),
        (["goal", "measure", "{goal}", "inf"], "finite"),
        (["goal", "measure", "{goal}", "--", "-1"], "below the range"),
        (["goal", "measure", "{goal}", "1", "--on", "2100-01-01"], "future"),
        (["goal", "refine", "{goal}", "--reason", "  ", "--priority", "high-priority"], "reason"),
        (["goal", "retire", "{goal}", "--reason-code", "achieved", "--reason", ""], "reason"),
        (["goal", "show", "00000000-0000-0000-0000-000000000001"], "no goal"),
        (["goal", "create", "{episode}", "--statement", "x" * 2001], "2000"),
        (["goal", "create", "{episode}", "--statement", " "], "empty"),
    ],
)
def test_bad_input_exits_1_with_message_and_store_unchanged(
    db: Path, args: list[str], fragment: str
) -> None:
    episode_id = open_episode(db)
    start = (local_today() - timedelta(weeks=4)).isoformat()
    goal_id = run_json(
        db, "goal", "create", episode_id, "--statement", PANIC, "--start", start, "--activate"
    )["id"]
    before = stored_events(db)
    filled = [arg.format(goal=goal_id, episode=episode_id) for arg in args]
    result = run(db, *filled)
    assert result.exit_code == 1, result.output
    assert fragment in result.stderr
    assert stored_events(db) == before


def test_usage_errors_exit_2(db: Path) -> None:
    assert run(db, "goal", "measure").exit_code == 2
    assert run(db, "goal", "measure", "not-a-uuid", "1").exit_code == 2
    assert run(db, "goal", "nonsense").exit_code == 2
    episode_id = open_episode(db)
    no_actor = run(db, "episode", "session", episode_id, actor=False)
    assert no_actor.exit_code == 2
    assert "--actor" in no_actor.stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["demo"],
        ["smart"],
        ["episode"],
        ["episode", "open"],
        ["episode", "session"],
        ["episode", "assign"],
        ["episode", "close"],
        ["episode", "show"],
        ["goal"],
        ["goal", "create"],
        ["goal", "refine"],
        ["goal", "activate"],
        ["goal", "measure"],
        ["goal", "correct"],
        ["goal", "review"],
        ["goal", "retire"],
        ["goal", "show"],
        ["goal", "history"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_episode_commands(db: Path) -> None:
    episode_id = open_episode(db)
    held = (local_today() - timedelta(weeks=3)).isoformat()
    document = run_json(db, "episode", "session", episode_id, "--on", held)
    assert [s["number"] for s in document["sessions"]] == [1]
    document = run_json(db, "episode", "session", episode_id, "--missed")
    assert document["sessions"][1]["attended"] is False
    assert document["sessions_attended"] == 1
    document = run_json(
        db, "episode", "assign", episode_id, "therapist-9", "--actor", "s-1", "--role", "supervisor"
    )
    assert document["therapist_ids"] == ["therapist-7", "therapist-9"]
    stale = run(db, "episode", "session", episode_id, "--expected-version", "1")
    assert stale.exit_code == 1
    assert "version 1" in stale.stderr
    assert "version 4" in stale.stderr
    document = run_json(db, "episode", "close", episode_id, "--reason", "discharged")
    assert document["closed_on"] == local_today().isoformat()
    shown = run(db, "episode", "show", episode_id)
    assert shown.exit_code == 0
    assert "client-1" in shown.stdout
    refused = run(db, "episode", "session", episode_id)
    assert refused.exit_code == 1
    assert "closed" in refused.stderr


def test_demo_builds_a_fresh_store_and_tells_what_to_try(tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    first = CliRunner().invoke(cli, ["demo", "--db", str(target)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    text = first.stdout
    assert "I want to be less anxious" in text
    assert "not SMART" in text
    assert "panic attacks" in text
    assert "meaningful conversation" in text
    assert "goalpath --db" in text
    count_after_first = len(stored_events(target))
    again = CliRunner().invoke(cli, ["demo", "--db", str(target), "--json"])
    assert again.exit_code == 0
    document = json.loads(again.stdout)
    assert len(stored_events(target)) == count_after_first, "the demo replaces its file"
    with GoalpathApp(target) as app:
        goals = app.list_goals(document["episode_id"])
        assert [goal.status for goal in goals] == ["active", "active", "active"]
        assert goals[2].template_id == "mindfulness.worry-gad7"
        assert [m.value for m in goals[2].recent_measurements] == [13.0, 10.0, 6.0]
        panic = goals[0]
        assert panic.smart.passed
        assert panic.valid_measurement_count == 6
        assert panic.reviews
        assert panic.reviews[0].reviewed_on == _session_date(app, panic, 6)
        assert goals[1].definition.effective_focus == "strength-building"


def _session_date(app: GoalpathApp, goal: Any, number: int) -> date:
    episode = app.get_episode(goal.episode_id)
    held_on: date = episode.sessions[number - 1].held_on
    return held_on


def test_demo_refuses_to_replace_a_store_it_did_not_make(tmp_path: Path) -> None:
    target = tmp_path / "clinic.db"
    with GoalpathApp(target) as app:
        app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-1"],
            opened_on=date(2026, 1, 5),
            actor=Actor("therapist-1", "therapist"),
        )
    files = sorted(tmp_path.iterdir())
    before = {file: file.read_bytes() for file in files}
    refused = CliRunner().invoke(cli, ["demo", "--db", str(target)])
    assert refused.exit_code == 1
    assert "did not make" in refused.stderr
    assert sorted(tmp_path.iterdir()) == files
    assert {file: file.read_bytes() for file in files} == before
    key_only = tmp_path / "other.db"
    Path(f"{key_only}.key").write_bytes(b"a key someone keeps")
    assert CliRunner().invoke(cli, ["demo", "--db", str(key_only)]).exit_code == 1
    assert Path(f"{key_only}.key").read_bytes() == b"a key someone keeps"
