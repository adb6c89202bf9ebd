"""Every goalpath command, found by walking the command tree, takes --json and --help."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import jsonschema
import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli
from goalpath.core.errors import ERROR_CODES
from goalpath.exports.schemas import SCHEMAS


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            yield from leaf_commands(command, path)
        else:
            yield path


COMMANDS = list(leaf_commands(cli))


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def test_the_tree_holds_every_documented_command() -> None:
    names = {" ".join(path) for path in COMMANDS}
    assert {
        "demo", "smart", "episode open", "episode session", "episode close", "episode show",
        "goal create", "goal refine", "goal activate", "goal measure", "goal correct",
        "goal review", "goal retire", "goal show", "goal measurements", "goal history",
        "plan show", "progress",
        "reviews due", "audit log", "audit verify", "audit export", "outcomes",
        "projections status", "projections rebuild", "templates list", "templates show",
        "plugins", "client erase", "export fhir", "import fhir",
    } <= names  # fmt: skip


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_takes_json(path: tuple[str, ...]) -> None:
    options = {opt for param in _command(path).params for opt in getattr(param, "opts", [])}
    assert "--json" in options


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert _command(path).help, f"{' '.join(path)} has no help text"


def _refused_arguments(path: tuple[str, ...]) -> list[str]:
    """Values for a command's required arguments that no store holds: most are refused."""
    values: list[str] = []
    for param in _command(path).params:
        if isinstance(param, click.Argument) and param.required:
            kind = param.type
            if isinstance(kind, click.types.UUIDParameterType):
                values.append("6f1d2c1e-0000-4000-8000-00000000dead")
            elif isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
                values.append("1")
            else:
                values.append("no-such-thing")
    if path == ("projections", "run"):
        values.append("--once")  # the long-running process, once through
    return values


def _assert_error_document(output: str, exit_code: int, what: str) -> None:
    document = json.loads(output)  # one parseable document, nothing else
    jsonschema.validate(document, SCHEMAS["error"])  # its published schema (docs/schemas/)
    assert set(document) == {"error"}, what
    error = document["error"]
    assert set(error) == {"type", "code", "message", "field", "accepted"}, what
    assert error["code"] in ERROR_CODES, what
    assert error["type"], what
    assert error["message"], what
    assert exit_code in (1, 2), what


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_refusal_with_json_is_one_error_document(
    path: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "refusals.db")
    runner = CliRunner()
    usage = runner.invoke(cli, ["--db", db, *path, "--json", "--no-such-option"])
    assert usage.exit_code == 2
    _assert_error_document(usage.stdout, usage.exit_code, f"{path} usage error")
    if not _command(path).context_settings.get("ignore_unknown_options"):  # -1 is a value
        assert "No such option" in usage.stderr  # the message for people stays on stderr
    assert usage.stderr  # the message for people stays on stderr
    attempt = runner.invoke(cli, ["--db", db, *path, *_refused_arguments(path), "--json"])
    if attempt.exit_code != 0:
        _assert_error_document(attempt.stdout, attempt.exit_code, f"{path} refusal")
