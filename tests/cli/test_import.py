"""goalpath goal import: measurements from a CSV file, all or nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.core.application import local_today

PANIC = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)


def _goal(db: str) -> str:
    runner = CliRunner()
    start = (local_today() - timedelta(weeks=4)).isoformat()
    opened = runner.invoke(
        cli, ["--db", db, "episode", "open", "--client", "c", "--therapist", "t", "--on", start,
              "--actor", "t", "--json"],
    )  # fmt: skip
    episode = json.loads(opened.stdout)["id"]
    created = runner.invoke(
        cli, ["--db", db, "goal", "create", episode, "--statement", PANIC, "--start", start,
              "--activate", "--actor", "t", "--json"],
    )  # fmt: skip
    return str(json.loads(created.stdout)["id"])


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "history.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_csv_file_is_imported_whole(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    goal = _goal(db)
    days = [(local_today() - timedelta(days=d)).isoformat() for d in (21, 14, 7)]
    csv_file = _csv(
        tmp_path,
        f"value,observed_on,note\n3,{days[0]},from the old system\n2,{days[1]},\n2,{days[2]},\n",
    )
    result = CliRunner().invoke(
        cli, ["--db", db, "goal", "import", goal, csv_file, "--actor", "migration",
              "--role", "system", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["imported"] == [1, 2, 3]
    assert [m["value"] for m in document["recent_measurements"]] == [3.0, 2.0, 2.0]
    assert document["recent_measurements"][0]["note"] == "from the old system"


def test_one_bad_row_refuses_the_file_and_writes_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    goal = _goal(db)
    good = (local_today() - timedelta(days=7)).isoformat()
    future = (local_today() + timedelta(days=7)).isoformat()
    runner = CliRunner()
    for text, fragment in (
        (f"value,observed_on\n2,{good}\nlots,{good}\n", "line 3"),
        (f"value,observed_on\n2,{good}\n2,{future}\n", "row 2"),
        (f"value,observed_on\n2,{good}\n-4,{good}\n", "row 2"),
    ):
        result = runner.invoke(
            cli, ["--db", db, "goal", "import", goal, _csv(tmp_path, text), "--actor", "t"]
        )
        assert result.exit_code == 1, result.output
        assert fragment in result.stderr
    shown = runner.invoke(cli, ["--db", db, "goal", "show", goal, "--json"])
    assert json.loads(shown.stdout)["measurement_count"] == 0


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    goal = _goal(db)
    result = CliRunner().invoke(
        cli, ["--db", db, "goal", "import", goal, _csv(tmp_path, "score,date\n2,2026-01-01\n"),
              "--actor", "m"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "observed_on" in result.stderr
