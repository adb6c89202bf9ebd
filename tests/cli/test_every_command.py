"""Every goalpath command, found by walking the command tree, takes --json and --help."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from goalpath.cli.main import cli


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
        "goal review", "goal retire", "goal show", "goal history", "plan show", "progress",
        "reviews due", "audit log", "audit verify", "audit export", "outcomes",
        "projections status", "projections rebuild", "templates list", "templates show",
        "plugins", "client erase", "export fhir",
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
