"""A clinician's day by the command line alone, at 80 columns: nothing cut mid-word or mid-date.

Done-when of the daily-use issue: open an episode, list, find a goal by the
start of its id, measure, correct measurement N found in ``goal show``,
review, and read the plan, each at ``COLUMNS=80``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp, local_today
from goalpath.core.values import Actor, GoalDefinition, Measure, Target

WIDTH = 80
STATEMENT = (
    "I will reduce my panic attacks from 4 to 1 per week within 8 weeks by practising "
    "slow breathing every morning"
)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _run(db: Path, *args: str) -> Result:
    result = CliRunner(env={"COLUMNS": str(WIDTH), "GOALPATH_ACTOR": "therapist-7"}).invoke(
        cli, ["--db", str(db), *args]
    )
    assert result.exit_code == 0, (args, result.output)
    return result


def _check_readable(output: str, words: list[str], dates: list[str]) -> None:
    """No line wider than 80, no ellipsis, every word and date in one piece."""
    for line in output.splitlines():
        assert len(line) <= WIDTH, line
    assert "…" not in output
    flat = " ".join(
        line.strip(" │┃║|").strip() for line in output.splitlines()
    )  # cells joined across their wrapped lines
    for word in words:
        assert re.search(rf"\b{re.escape(word)}\b", output), f"{word!r} was cut"
    for day in dates:
        assert day in output, f"the date {day} was cut (in {flat[:200]!r})"
    for fragment in re.findall(r"\b\d{4}-\d{2}-?$|\b\d{4}-$", output, re.MULTILINE):
        raise AssertionError(f"a date broken across lines: {fragment!r}")


def test_a_clinicians_day_reads_at_80_columns(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    today = local_today()
    opened = (today - timedelta(weeks=2)).isoformat()
    _run(db, "episode", "open", "--client", "client-0042", "--therapist", "therapist-7",
         "--concern", "panic attacks", "--on", opened)  # fmt: skip
    episodes = _run(db, "episode", "list", "--therapist", "therapist-7")
    _check_readable(episodes.stdout, ["client-0042", "therapist-7"], [opened])
    episode_prefix = re.findall(r"\b[0-9a-f]{8}\b", episodes.stdout)[0]

    created = _run(db, "goal", "create", episode_prefix, "--start", opened,
                   "--statement", STATEMENT, "--activate")  # fmt: skip
    assert "goal" in created.stdout
    goals = _run(db, "goal", "list", "--client", "client-0042")
    words = ["panic", "attacks", "practising", "breathing", "morning", "active", "client-0042"]
    due = (date.fromisoformat(opened) + timedelta(weeks=8)).isoformat()
    _check_readable(goals.stdout, words, [due])
    goal_prefix = re.findall(r"\b[0-9a-f]{8}\b", goals.stdout)[0]

    for week, value in ((0, "4"), (1, "30")):  # 30: a slip of the finger
        day = (date.fromisoformat(opened) + timedelta(weeks=week)).isoformat()
        _run(db, "goal", "measure", goal_prefix, value, "--on", day)
    shown = _run(db, "goal", "show", goal_prefix)
    _check_readable(shown.stdout, ["measurements", "final"], [opened])
    numbered = re.search(r"│\s*(\d+)\s*│\s*\S+\s*│\s*30\s*│", shown.stdout)
    assert numbered is not None, shown.stdout
    _run(db, "goal", "correct", goal_prefix, numbered.group(1), "--value", "3",
         "--reason", "typed 30 for 3")  # fmt: skip
    corrected = _run(db, "goal", "show", goal_prefix)
    assert "amended (was 30)" in corrected.stdout
    _check_readable(corrected.stdout, ["amended"], [])

    _run(db, "goal", "review", goal_prefix, "--achievement", "improving", "--decision",
         "continue")  # fmt: skip
    plan = _run(db, "plan", "show", "client-0042")
    _check_readable(plan.stdout, ["panic", "attacks", "breathing"], [due])


def test_an_ambiguous_or_unknown_id_start_is_refused_with_the_candidates(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    for number in range(20):
        _run(db, "episode", "open", "--client", f"client-{number}", "--therapist", "t-1")
    listed = _run(db, "episode", "list", "--json").stdout
    ids = re.findall(r'"id": "([0-9a-f-]{36})"', listed)
    assert len(ids) == 20
    starts = [episode_id.replace("-", "")[:4] for episode_id in ids]
    shared = next((start for start in starts if starts.count(start) > 1), None)
    runner = CliRunner(env={"COLUMNS": str(WIDTH)})
    if shared is not None:
        ambiguous = runner.invoke(cli, ["--db", str(db), "episode", "show", shared])
        assert ambiguous.exit_code == 1
        assert "give more digits" in ambiguous.stderr
    unknown = runner.invoke(cli, ["--db", str(db), "episode", "show", "ffff0000ffff"])
    if not any(episode_id.replace("-", "").startswith("ffff0000ffff") for episode_id in ids):
        assert unknown.exit_code == 1
        assert "no episode id starts with" in unknown.stderr
    short = runner.invoke(cli, ["--db", str(db), "episode", "show", "ab"])
    assert short.exit_code == 2
    assert "at least 4" in short.stderr
    whole = runner.invoke(cli, ["--db", str(db), "episode", "show", ids[0], "--json"])
    assert whole.exit_code == 0


def test_a_negative_measurement_is_a_value_not_an_option(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    today = local_today()
    with GoalpathApp(db) as app:
        episode = app.open_episode(
            client_id="client-1",
            therapist_ids=["therapist-7"],
            opened_on=today,
            actor=Actor("therapist-7", "therapist"),
        )
        goal = app.create_goal(
            episode,
            GoalDefinition(
                statement="I will raise my mood from -3 to 2 within 8 weeks by walking at lunch",
                start_on=today,
                measure=Measure("mood", "points", "increase", minimum=-5, maximum=5),
                target=Target(baseline=-3, value=2, due_on=today + timedelta(weeks=8)),
            ),
            actor=Actor("therapist-7", "therapist"),
        )
    _run(db, "goal", "measure", str(goal), "-1")
    with GoalpathApp(db) as app:
        assert [m.value for m in app.goal_measurements(goal)] == [-1.0]


def test_a_read_on_a_store_that_does_not_exist_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    mistyped = tmp_path / "clinc.db"
    for command in (["plan", "show", "client-1"], ["reviews", "due"], ["goal", "list"]):
        result = CliRunner().invoke(cli, ["--db", str(mistyped), *command])
        assert result.exit_code == 1, command
        assert f"no goalpath store at {mistyped}" in result.stderr
    assert list(tmp_path.iterdir()) == []
    opened = CliRunner(env={"GOALPATH_ACTOR": "therapist-7"}).invoke(
        cli, ["--db", str(mistyped), "episode", "open", "--client", "c", "--therapist", "t"]
    )
    assert opened.exit_code == 0, opened.output  # only episode open starts a store
    assert mistyped.exists()


def test_options_are_accepted_where_people_put_them(tmp_path: Path) -> None:
    db = str(tmp_path / "clinic.db")
    runner = CliRunner()
    opened = runner.invoke(
        cli,
        ["--actor", "therapist-7", "--role", "therapist", "--json", "episode", "open",
         "--client", "client-1", "--therapist", "therapist-7", "--db", db],
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    assert opened.stdout.lstrip().startswith("{")  # --json before the subcommand counted
    listed = runner.invoke(cli, ["episode", "list", "--db", db, "--json"])
    assert listed.exit_code == 0, listed.output
    assert '"client-1"' in listed.stdout
    shown = runner.invoke(cli, ["plan", "show", "client-1", f"--db={db}"])
    assert shown.exit_code == 0, shown.output
    assert "client-1" in shown.stdout


def test_the_words_say_what_happened(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    opened = (local_today() - timedelta(weeks=3)).isoformat()
    _run(db, "episode", "open", "--client", "client-1", "--therapist", "therapist-7",
         "--on", opened)  # fmt: skip
    episode = re.findall(r"\b[0-9a-f]{8}\b", _run(db, "episode", "list").stdout)[0]
    created = _run(db, "goal", "create", episode, "--template", "cbt.panic-frequency",
                   "--start", opened, "--activate", "--json")  # fmt: skip
    goal = re.findall(r'"id": "([0-9a-f-]{36})"', created.stdout)[0]
    for week, value in ((0, "4"), (1, "3"), (2, "2")):
        day = (date.fromisoformat(opened) + timedelta(weeks=week)).isoformat()
        _run(db, "goal", "measure", goal, value, "--on", day)
    voided = _run(db, "goal", "correct", goal, "3", "--void", "--reason", "wrong client")
    assert f"voided measurement 3 of goal {goal}" in voided.stdout
    progress = _run(db, "progress", goal).stdout
    assert "a week (per week)" not in progress
    assert "down 1.00 per week each week" in progress
    assert "not the goal's status" in progress
    history = _run(db, "goal", "history", goal).stdout
    assert "cbt.panic-frequency" in history  # where the goal came from


def test_episode_assign_takes_the_therapist_as_episode_open_does(tmp_path: Path) -> None:
    db = tmp_path / "clinic.db"
    _run(db, "episode", "open", "--client", "client-1", "--therapist", "therapist-7")
    episode = re.findall(r"\b[0-9a-f]{8}\b", _run(db, "episode", "list").stdout)[0]
    runner = CliRunner(env={"GOALPATH_ACTOR": "supervisor-1", "GOALPATH_ROLE": "supervisor"})
    by_option = runner.invoke(
        cli, ["--db", str(db), "episode", "assign", episode, "--therapist", "therapist-8"]
    )
    assert by_option.exit_code == 0, by_option.output
    by_argument = runner.invoke(cli, ["--db", str(db), "episode", "assign", episode, "therapist-9"])
    assert by_argument.exit_code == 0, by_argument.output
    both = runner.invoke(
        cli, ["--db", str(db), "episode", "assign", episode, "t-1", "--therapist", "t-2"]
    )
    assert both.exit_code == 2
    listed = _run(db, "episode", "list", "--json").stdout
    assert '"therapist-8"' in listed
    assert '"therapist-9"' in listed
