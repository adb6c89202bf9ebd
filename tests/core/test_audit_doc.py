"""docs/audit.md: every command it shows runs, in order, with the outcome it states."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.main import cli

DOC = Path(__file__).parents[2] / "docs" / "audit.md"


def doc_commands() -> list[tuple[list[str], int]]:
    """The ``$ goalpath ...`` lines of the doc's console blocks, with their expected exit code."""
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            if not line.startswith("$ goalpath "):
                continue
            expected = 1 if "# exits 1" in line else 0
            words = shlex.split(line.removeprefix("$ goalpath "), comments=True)
            commands.append((words, expected))
    return commands


def test_the_doc_shows_commands() -> None:
    names = {" ".join(words[2:4]) for words, _ in doc_commands()}
    assert {"audit verify", "audit export", "goal history", "client erase"} <= names


def test_every_command_in_the_audit_doc_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOALPATH_KEY", raising=False)
    monkeypatch.delenv("GOALPATH_KEY_FILE", raising=False)
    results: dict[str, Result] = {}
    for words, expected in doc_commands():
        result = CliRunner().invoke(cli, words)
        assert result.exit_code == expected, (words, result.output)
        results[" ".join(words)] = result

    history = next(r for k, r in results.items() if "history" in k and "--json" in k)
    events = json.loads(history.stdout)["events"]
    refined = next(e for e in events if e["event_type"] == "Refined")
    assert refined["reason"] == "progress slower after a bereavement"
    assert {
        "field": "definition.target.due_on",
        "before": "2026-02-16",
        "after": "2026-03-02",
    } in refined["changes"]
    corrected = next(e for e in events if e["event_type"] == "MeasurementCorrected")
    assert corrected["changes"] == [
        {"field": "measurements[1].value", "before": 12.0, "after": 2.0},
        {"field": "measurements[1].status", "before": "final", "after": "amended"},
        {"field": "measurements[1].original_value", "before": None, "after": 12.0},
    ]
    assert (corrected["actor_id"], corrected["actor_role"]) == ("therapist-7", "therapist")

    exported = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    kinds = [json.loads(line)["stream_type"] for line in exported]
    # opened, goal added, created, refined, measured, corrected; then the access log's records
    # of the two history reads (this export's own is appended once the export is written)
    assert sorted(kind for kind in kinds if kind != "access") == ["episode"] * 2 + ["goal"] * 4
    assert kinds.count("access") == 2
    csv_export = next(r for k, r in results.items() if "--format csv" in k)
    assert csv_export.stdout.startswith("position,stream_id,stream_type,client_id,version")

    final_export = list(results.items())[-1][1]
    every = [json.loads(line) for line in final_export.stdout.splitlines()]
    rows = [row for row in every if row["stream_type"] != "access"]  # reads stay readable
    assert all(row["erased"] for row in rows[:-1])
    assert rows[-1]["reason"] == "erasure request 2026-17"
    assert "panic" not in final_export.stdout
