"""docs/projections.md: its Python example runs, and its commands exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click

from goalpath.cli.main import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "projections.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


def test_the_python_example_runs() -> None:
    [example] = _blocks("python")
    exec(compile(example, str(DOC), "exec"), {})  # noqa: S102  # the documentation's own example


def test_every_documented_command_exists_with_its_options() -> None:
    [commands] = _blocks("sh")
    for line in commands.splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == "goalpath"
        command: click.Command = cli
        rest = words[1:]
        while isinstance(command, click.Group) and rest and rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
        assert not isinstance(command, click.Group), line
        options = {name for param in command.params for name in getattr(param, "opts", [])}
        for word in rest:
            if word.startswith("--"):
                assert word in options, f"{line}: {word}"
        assert "--json" in options
