"""Exports an auditor can trust: verified first, no formulas, owner-only, checkable on their own."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from goalpath.core import GoalpathApp
from goalpath.core.storage import proof_verifier
from tests.core.history_support import (
    SUPERVISOR,
    TODAY,
    LogKeys,
    add_client,
    checkpoint,
    execute,
    invoke,
    make_keys,
)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    db = tmp_path / "export.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
        goal = add_client(app, "client-2")
        app.retire_goal(
            goal,
            reason_code="entered-in-error",
            reason='=HYPERLINK("http://example.org/x","click")',
            actor=SUPERVISOR,
        )
    return db


@pytest.mark.parametrize(
    "tamper",
    [
        "DELETE FROM stored_events WHERE rowid = 3",
        "DELETE FROM stored_events WHERE rowid = (SELECT max(rowid) FROM stored_events)",
    ],
)
def test_a_tampered_store_is_refused_with_no_output(
    store: Path, tmp_path: Path, tamper: str
) -> None:
    execute(store, (tamper, ()))
    to_stdout = invoke("--db", str(store), "audit", "export")
    assert to_stdout.exit_code == 1
    assert to_stdout.stdout == ""
    assert "does not verify" in to_stdout.stderr
    assert "nothing was exported" in to_stdout.stderr
    output = tmp_path / "out.jsonl"
    to_file = invoke("--db", str(store), "audit", "export", "--output", str(output))
    assert to_file.exit_code == 1
    assert not output.exists()


def test_csv_cells_that_would_be_formulas_are_neutralised(store: Path) -> None:
    result = invoke("--db", str(store), "audit", "export", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    [retired] = [row for row in rows if row["event_type"] == "Retired"]
    assert retired["reason"] == '\'=HYPERLINK("http://example.org/x","click")'
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_an_export_file_is_owner_only_whatever_the_umask(store: Path, tmp_path: Path) -> None:
    output = tmp_path / "history.csv"
    previous = os.umask(0o022)
    try:
        result = invoke(
            "--db", str(store), "audit", "export", "--format", "csv", "--output", str(output)
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert output.stat().st_mode & 0o777 == 0o600


def _export_with_checkpoint(store: Path, keys: LogKeys, output: Path) -> list[str]:
    result = invoke(
        "--db", str(store), "audit", "export", "--key", str(keys.key), "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    return output.read_text(encoding="utf-8").splitlines()


def test_an_export_ends_with_its_checkpoint_and_checks_on_its_own(
    store: Path, tmp_path: Path
) -> None:
    keys = make_keys(tmp_path)
    output = tmp_path / "history.jsonl"
    taken = checkpoint(store, keys, tmp_path / "cp.txt").read_text(encoding="utf-8")
    lines = _export_with_checkpoint(store, keys, output)
    after = checkpoint(store, keys, tmp_path / "after.txt").read_text(encoding="utf-8")
    exported_note = json.loads(lines[-1])["checkpoint"]
    assert exported_note.splitlines()[:3] == taken.splitlines()[:3]  # same origin, size, root
    # The export's own access record is appended once it has answered: in the next tree only.
    assert int(after.splitlines()[1]) == int(taken.splitlines()[1]) + 1
    arguments = ["export", str(output), "--public-key", str(keys.public)]
    assert proof_verifier.main(arguments) == 0


@pytest.mark.parametrize("change", ["alter", "drop", "reorder"])
def test_an_altered_export_is_refused_by_the_verifier(
    store: Path, tmp_path: Path, change: str, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = make_keys(tmp_path)
    output = tmp_path / "history.jsonl"
    lines = _export_with_checkpoint(store, keys, output)
    rows, trailer = lines[:-1], lines[-1]
    if change == "alter":
        row = json.loads(rows[2])
        row["version"] += 1
        rows[2] = json.dumps(row)
    elif change == "drop":
        del rows[1]
    else:
        rows[1], rows[2] = rows[2], rows[1]
    output.write_text("\n".join([*rows, trailer]) + "\n", encoding="utf-8")
    assert proof_verifier.main(["export", str(output), "--public-key", str(keys.public)]) == 1
    assert "NOT verified" in capsys.readouterr().err


def _stored_events(store: Path) -> int:
    with sqlite3.connect(store) as connection:
        (count,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
    return int(count)


def test_an_export_without_a_key_keeps_its_rows_only(store: Path) -> None:
    before = _stored_events(store)
    result = invoke("--db", str(store), "audit", "export")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert all("checkpoint" not in row for row in rows)
    assert len(rows) == before  # every record, up to the export's own access record
    assert _stored_events(store) == before + 1  # which is appended once it has answered
    assert all(len(row["chain"]) == 64 for row in rows)  # SHA-256 in hex
