"""Odd inputs are refused with typed errors, never a traceback, and never half-stored."""

from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.core import Actor, GoalDefinition, GoalpathApp, draft_definition, evaluate_smart
from goalpath.core.errors import InvalidValueError, StoreError

TODAY = date(2026, 6, 1)
THERAPIST = Actor("therapist-7", "therapist")


@pytest.fixture
def app() -> GoalpathApp:
    return GoalpathApp(":memory:", today=lambda: TODAY)


def _episode(app: GoalpathApp) -> object:
    return app.open_episode(
        client_id="client-1",
        therapist_ids=["therapist-7"],
        opened_on=TODAY - timedelta(weeks=2),
        actor=THERAPIST,
    )


@pytest.mark.parametrize("start", [date(9999, 12, 30), date(1, 1, 1), date(2200, 1, 1)])
def test_dates_outside_the_accepted_years_are_refused(app: GoalpathApp, start: date) -> None:
    episode = _episode(app)
    with pytest.raises(InvalidValueError, match="accepted years"):
        app.create_goal(
            episode,  # type: ignore[arg-type]
            GoalDefinition(statement="I will walk every day after lunch", start_on=start),
            actor=THERAPIST,
        )
    assert app.list_goals(episode) == []  # type: ignore[arg-type]


def test_a_far_future_start_is_refused_through_the_cli(tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner = CliRunner()
    opened = runner.invoke(
        cli,
        ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--actor", "t",
         "--json"],
    )  # fmt: skip
    episode = opened.stdout.split('"id": "')[1].split('"')[0]
    result = runner.invoke(
        cli,
        ["--db", db, "goal", "create", episode, "--statement", "I will walk every day after lunch",
         "--start", "9999-12-31", "--actor", "t"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "accepted years" in result.stderr
    shown = runner.invoke(cli, ["--db", db, "episode", "show", episode, "--json"])
    assert '"goal_ids": []' in shown.stdout


@pytest.mark.parametrize(("text", "fragment"), [("walk\udcff daily", "surrogates")])
def test_text_that_is_not_valid_utf8_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidValueError, match=fragment):
        GoalDefinition(statement=text, start_on=TODAY)


def test_a_number_too_large_for_a_float_is_refused(app: GoalpathApp) -> None:
    episode = _episode(app)
    definition = draft_definition(
        "I will reduce my panic attacks from 3 to 1 per week within 6 weeks by practising "
        "daily breathing exercises",
        TODAY - timedelta(weeks=1),
    )
    goal = app.create_goal(episode, definition, actor=THERAPIST, activate=True)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="too large"):
        app.record_measurement(goal, 10**400, actor=THERAPIST)
    assert app.get_goal(goal).measurements == []


@pytest.mark.parametrize("actor", ["therapist-7", None, {"id": "t", "role": "therapist"}])
def test_episode_commands_refuse_a_missing_or_malformed_actor(
    app: GoalpathApp, actor: object
) -> None:
    episode = _episode(app)
    version = app.get_episode(episode).version  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.record_session(episode, actor=actor)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.assign_therapist(episode, "t2", actor=actor)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="actor"):
        app.close_episode(episode, reason="done", actor=actor)  # type: ignore[arg-type]
    assert app.get_episode(episode).version == version  # type: ignore[arg-type]


def test_statements_beyond_the_calendar_do_not_crash() -> None:
    definition = draft_definition(
        "reduce my panic attacks from 3 to 1 per week within 99999999 weeks", TODAY
    )
    report = evaluate_smart(definition)
    assert not report.time_bound.passed
    result = CliRunner().invoke(cli, ["smart", "walk daily", "--weeks", "99999999"])
    assert result.exit_code == 2
    assert "beyond the calendar" in result.stderr


def test_achievable_judges_a_jump_from_zero_against_the_target() -> None:
    implausible = draft_definition(
        "I will increase my social outings from 0 to 50 per week within 1 week by calling friends",
        TODAY,
    )
    assert not evaluate_smart(implausible).achievable.passed
    plausible = draft_definition(
        "I will increase my social outings from 0 to 1 per week within 8 weeks by calling friends",
        TODAY,
    )
    assert evaluate_smart(plausible).achievable.passed


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://root:hunter2@127.0.0.1:notaport/test",
        "postgresql://root:hunter2@[::1/test",
    ],
)
def test_malformed_database_urls_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        GoalpathApp(url)
    assert "hunter2" not in str(refused.value)
    result = CliRunner().invoke(
        cli, ["--db", url, "goal", "show", "00000000-0000-0000-0000-000000000001"]
    )
    assert result.exit_code == 1
    assert "hunter2" not in result.output


def test_a_new_sqlite_store_is_private_to_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    with GoalpathApp(path) as app:
        _episode(app)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("bad_id", ["a\x00b", "client\n7", "tab\there"])
def test_ids_with_control_characters_are_refused(app: GoalpathApp, bad_id: str) -> None:
    with pytest.raises(InvalidValueError, match="control character"):
        Actor(bad_id, "therapist")
    with pytest.raises(InvalidValueError, match="control character"):
        app.open_episode(
            client_id=bad_id, therapist_ids=["therapist-7"], opened_on=TODAY, actor=THERAPIST
        )
    with pytest.raises(InvalidValueError, match="control character"):
        app.open_episode(client_id="c", therapist_ids=[bad_id], opened_on=TODAY, actor=THERAPIST)
