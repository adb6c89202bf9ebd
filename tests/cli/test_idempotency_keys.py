"""``--idempotency-key`` on the write commands: a repeat writes nothing and answers as the first.

The same key with another command is refused with exit 1 and one line on
stderr (``idempotency-key-reused`` with ``--json``), the store unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from goalpath.cli.main import cli
from goalpath.core.application import local_today
from tests.cli.test_every_command import COMMANDS, _command

PANIC = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)
WRITES = {
    "episode open", "episode session", "episode assign", "episode close", "goal create",
    "goal refine", "goal activate", "goal measure", "goal import", "goal correct",
    "goal review", "goal retire", "client erase",
}  # fmt: skip


def _invoke(db: Path, args: Sequence[str]) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], env={"GOALPATH_ACTOR": "t"})


def test_every_write_command_takes_an_idempotency_key() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert names >= WRITES
    for path in COMMANDS:
        options = {opt for param in _command(path).params for opt in getattr(param, "opts", [])}
        assert ("--idempotency-key" in options) == (" ".join(path) in WRITES), path


def test_a_repeated_command_with_its_key_writes_nothing_and_answers_the_same(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    start = (local_today() - timedelta(weeks=4)).isoformat()
    open_args = ["episode", "open", "--client", "c", "--therapist", "t", "--on", start, "--json"]
    opened = _invoke(db, [*open_args, "--idempotency-key", "intake-1"])
    assert opened.exit_code == 0, opened.output
    again = _invoke(db, [*open_args, "--idempotency-key", "intake-1"])
    assert json.loads(again.stdout)["id"] == json.loads(opened.stdout)["id"]
    episode = json.loads(opened.stdout)["id"]
    created = _invoke(
        db, ["goal", "create", episode, "--statement", PANIC, "--start", start, "--activate",
             "--json"]
    )  # fmt: skip
    goal = json.loads(created.stdout)["id"]
    measure = ["goal", "measure", goal, "2", "--json", "--idempotency-key", "visit-1"]
    first = _invoke(db, measure)
    assert first.exit_code == 0, first.output
    repeat = _invoke(db, measure)
    assert repeat.exit_code == 0, repeat.output
    assert json.loads(repeat.stdout) == json.loads(first.stdout)
    assert json.loads(repeat.stdout)["measurement_count"] == 1
    before = db.read_bytes()
    reused = _invoke(db, ["goal", "measure", goal, "3", "--json", "--idempotency-key", "visit-1"])
    assert reused.exit_code == 1
    assert json.loads(reused.stdout)["error"]["code"] == "idempotency-key-reused"
    plain = _invoke(db, ["goal", "measure", goal, "3", "--idempotency-key", "visit-1"])
    assert plain.exit_code == 1
    assert len(plain.stderr.strip().splitlines()) == 1
    assert "Traceback" not in plain.output
    assert db.read_bytes() == before
    shown = _invoke(db, ["goal", "show", goal, "--json"])
    assert json.loads(shown.stdout)["measurement_count"] == 1
