"""``goalpath smart`` and ``goal create`` read instruments from the plugin registry."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.modalities.manager import DISABLED_VARIABLE

PHQ9_STATEMENT = "PHQ-9 from 20 to 2 within 12 weeks"


def _smart(
    statement: str, env: dict[str, str] | None = None, concerns: tuple[str, ...] = ()
) -> dict[str, object]:
    given = [option for concern in concerns for option in ("--concern", concern)]
    result = CliRunner().invoke(
        cli, ["smart", statement, "--start", "2026-03-16", *given, "--json"], env=env
    )
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def test_smart_recognises_a_registry_instrument_by_its_code() -> None:
    document = _smart(PHQ9_STATEMENT)
    measure = document["definition"]["measure"]  # type: ignore[index]
    assert measure["instrument"] == "phq-9"
    assert (measure["minimum"], measure["maximum"]) == (0.0, 27.0)
    verdicts = {verdict["letter"]: verdict for verdict in document["smart"]["verdicts"]}  # type: ignore[index]
    assert verdicts["measurable"]["passed"]
    assert "PHQ-9" in verdicts["measurable"]["reason"]
    assert "inside the PHQ-9 total score range" in verdicts["achievable"]["reason"]


def test_smart_judges_an_instrument_score_against_the_registry_range() -> None:
    # GAD-7 runs from 0 to 21: a baseline of 24 is not a score.
    document = _smart("Reduce my GAD-7 from 24 to 10 within 12 weeks by practising worry time")
    verdicts = {verdict["letter"]: verdict for verdict in document["smart"]["verdicts"]}  # type: ignore[index]
    assert not verdicts["achievable"]["passed"]
    assert "above the maximum" in verdicts["achievable"]["reason"]


def test_a_disabled_plugin_takes_its_instruments_out_of_smart() -> None:
    document = _smart(PHQ9_STATEMENT, env={DISABLED_VARIABLE: "measures"})
    measure = document["definition"]["measure"]  # type: ignore[index]
    assert measure is None or measure["instrument"] is None


def test_goal_create_drafts_the_registry_instrument_from_the_statement(tmp_path: Path) -> None:
    db = tmp_path / "instruments.db"
    env = {"GOALPATH_ACTOR": "therapist-7"}
    runner = CliRunner()
    opened = runner.invoke(
        cli,
        ["--db", str(db), "episode", "open", "--client", "client-1", "--therapist",
         "therapist-7", "--concern", "low mood", "--on", "2026-03-16", "--json"],
        env=env,
    )  # fmt: skip
    assert opened.exit_code == 0, opened.output
    episode_id = json.loads(opened.stdout)["id"]
    statement = (
        "Reduce my PHQ-9 from 20 to 8 within 12 weeks by scheduling 3 activities a week, "
        "to lift my low mood"
    )
    created = runner.invoke(
        cli,
        ["--db", str(db), "goal", "create", episode_id, "--statement", statement,
         "--start", "2026-03-16", "--json"],
        env=env,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    goal_id = json.loads(created.stdout)["id"]
    # The stored goal is judged as `goalpath smart` judges its statement: the drafted measure
    # carries the instrument's range, so the domain needs no plugin.
    smart = _smart(statement, concerns=("low mood",))["smart"]
    assert json.loads(created.stdout)["smart"] == smart
    assert smart["passed"]  # type: ignore[index]
    app = GoalpathApp(str(db))
    try:
        measure = app.get_goal(goal_id).definition.measure
    finally:
        app.close()
    assert measure is not None
    assert (measure.instrument, measure.minimum, measure.maximum) == ("phq-9", 0.0, 27.0)
