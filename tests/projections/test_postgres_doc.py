"""docs/postgres.md: its Python example runs on the test server, and its commands work.

The doc's tenants (``north``, ``south``) are renamed to fresh ones for the
run, so that runs at the same time on one server do not meet, and dropped
afterwards. The doc's server URL is replaced by the test server's.
"""

from __future__ import annotations

import re
import shlex
import uuid
from collections.abc import Iterator
from pathlib import Path

import click
import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from goalpath.cli.main import cli
from goalpath.core.storage.keys import MasterKey
from tests.postgres_support import require_postgres

DOC = Path(__file__).resolve().parents[2] / "docs" / "postgres.md"
DOC_URL = "postgresql://goalpath@db.example.org/clinics"
DOC_TENANTS = ("north", "south")
ROOT_OPTIONS = ("--db", "--database-url", "--tenant")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)


@pytest.fixture
def fresh_tenants() -> Iterator[dict[str, str]]:
    url = require_postgres()
    names = {name: f"{name}_{uuid.uuid4().hex[:10]}" for name in DOC_TENANTS}
    yield names
    with psycopg.connect(url, autocommit=True) as connection:
        for name in names.values():
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(f"goalpath_{name}")
                )
            )


def _renamed(text: str, tenants: dict[str, str]) -> str:
    for name, fresh in tenants.items():
        text = re.sub(rf'(?<=["\s]){name}(?=["\s])', fresh, text)
    return text


def test_the_python_example_runs(
    fresh_tenants: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    [example] = _blocks("python")
    monkeypatch.setenv("GOALPATH_DATABASE_URL", require_postgres())
    code = _renamed(example, fresh_tenants)
    assert code != example
    exec(compile(code, str(DOC), "exec"), {"__name__": "postgres_doc"})  # noqa: S102  # the doc's own


def _command_of(words: list[str]) -> tuple[click.Command, list[str]]:
    rest = list(words[1:])
    command: click.Command = cli
    while rest:
        if rest[0] in ROOT_OPTIONS and command is cli:
            del rest[:2]
        elif isinstance(command, click.Group) and rest[0] in command.commands:
            command = command.commands[rest.pop(0)]
        else:
            break
    return command, rest


def test_every_documented_command_exists_with_its_options() -> None:
    [commands] = _blocks("sh")
    assert commands.strip()
    for line in commands.splitlines():
        words = shlex.split(line)
        assert words[0] == "goalpath"
        command, rest = _command_of(words)
        assert not isinstance(command, click.Group), line
        options = {name for param in command.params for name in getattr(param, "opts", [])}
        for word in rest:
            if word.startswith("--"):
                assert word in options, f"{line}: {word}"


def test_the_documented_commands_that_return_run_on_the_test_server(
    fresh_tenants: dict[str, str],
) -> None:
    [commands] = _blocks("sh")
    key = MasterKey.generate().to_text()
    ran = 0
    for line in commands.splitlines():
        if DOC_URL not in line or not ("--once" in line or line.endswith("status")):
            continue  # the long-running forms are exercised in test_projection_process.py
        words = shlex.split(_renamed(line.replace(DOC_URL, require_postgres()), fresh_tenants))
        result = CliRunner().invoke(cli, words[1:], env={"GOALPATH_KEY": key})
        assert result.exit_code == 0, f"{line}: {result.output}"
        ran += 1
    assert ran == 2
