"""The ``goalpath`` command: a root group and the sub-commands each module registers."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any, Final

import click

from goalpath.cli.common import AppState, error_document, report_refusal, usage_line
from goalpath.cli.input_types import tenant_option_value
from goalpath.core.errors import GoalpathError

__all__ = ["cli", "main"]

COMMAND_MODULES = (
    "goalpath.cli.goal_commands",
    "goalpath.cli.episode_commands",
    "goalpath.cli.smart_command",
    "goalpath.cli.demo",
    "goalpath.cli.template_commands",
    "goalpath.cli.projection_commands",
    "goalpath.cli.projection_process",
    "goalpath.cli.audit_commands",
    "goalpath.cli.access_commands",
    "goalpath.cli.fhir_commands",
    "goalpath.cli.list_commands",
    "goalpath.cli.serve_command",
)
"""Each module has ``register(cli)``, which adds its commands to the root group."""


class _Root(click.Group):
    """The root group: every refusal and usage error is one line on stderr.

    A goalpath refusal raised while the options are read (an id or a number
    an option's type refuses) prints as a refused command does (exit 1), and
    a usage error as one line too (exit 2), never click's usage block; with
    ``--json`` anywhere, either is also a JSON error document on stdout.
    """

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; see :meth:`click.Group.main`."""
        argv = _options_where_they_belong(self, list(sys.argv[1:] if args is None else args))
        if not standalone_mode:
            return super().main(argv, prog_name, complete_var, standalone_mode, **extra)
        as_json = "--json" in argv
        try:
            # Not standalone, click returns a ctx.exit(code)'s code instead of exiting.
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except GoalpathError as error:
            report_refusal(error, as_json=as_json)
            sys.exit(1)
        except click.ClickException as error:
            if as_json:
                click.echo(json.dumps(error_document(error), ensure_ascii=False))
            click.echo(usage_line(error), err=True)
            sys.exit(error.exit_code)
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except click.Abort:
            if as_json:
                click.echo(json.dumps(error_document(click.Abort())))
            click.echo("Aborted!", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


_ROOT_OPTIONS: Final = ("--db", "--database-url", "--tenant")
"""The root's options, with a value: accepted after the subcommand too."""

_COMMAND_OPTIONS: Final = {"--json": False, "--actor": True, "--role": True}
"""Options of the commands (with or without a value): accepted before the subcommand too."""


def _own_options(root: click.Group, argv: list[str]) -> set[str]:
    """The options of the command ``argv`` names (a command's own ``--db`` stays its own)."""
    command: click.Command = root
    words = iter(argv)
    for word in words:
        if word in _ROOT_OPTIONS:
            next(words, None)
            continue
        if word.startswith("-"):
            continue
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
    if command is root:
        return set()
    return {option for param in command.params for option in getattr(param, "opts", [])}


def _options_where_they_belong(root: click.Group, argv: list[str]) -> list[str]:
    """Options accepted where people put them: ``plan show CLIENT --db clinic.db``.

    ``--db`` and ``--tenant`` given after the subcommand move to the front;
    ``--json``, ``--actor`` and ``--role`` given before it move to the end.
    Nothing after ``--`` moves.
    """
    own = _own_options(root, argv)
    front: list[str] = []
    rest: list[str] = []
    moved_back: list[str] = []
    index, seen_command = 0, False
    while index < len(argv):
        word = argv[index]
        if word == "--":
            rest += argv[index:]
            break
        name, has_equals, _value = word.partition("=")
        if seen_command and name in _ROOT_OPTIONS and name not in own:
            taken = 1 if has_equals else 2
            front += argv[index : index + taken]
            index += taken
            continue
        if not seen_command and name in _COMMAND_OPTIONS:
            taken = 2 if _COMMAND_OPTIONS[name] and not has_equals else 1
            moved_back += argv[index : index + taken]
            index += taken
            continue
        if not seen_command and name in _ROOT_OPTIONS:
            taken = 1 if has_equals else 2
            rest += argv[index : index + taken]
            index += taken
            continue
        if not word.startswith("-"):
            seen_command = True
        rest.append(word)
        index += 1
    if "--" in rest:
        cut = rest.index("--")
        return [*front, *rest[:cut], *moved_back, *rest[cut:]]
    return [*front, *rest, *moved_back]


@click.group(
    cls=_Root,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--db",
    "--database-url",
    "db",
    metavar="PATH|URL",
    default=None,
    help=(
        "The store: a SQLite file or a postgresql:// URL (default: GOALPATH_DATABASE_URL, "
        "else GOALPATH_DB, else ./goalpath.db)."
    ),
)
@click.option(
    "--tenant",
    default=None,
    callback=tenant_option_value,
    help="The organisation whose store to use (its own schema or file; default GOALPATH_TENANT).",
)
@click.version_option(package_name="goalpath")
@click.pass_context
def cli(ctx: click.Context, db: str | None, tenant: str | None) -> None:
    """goalpath: personalised, SMART therapy goals, with every change recorded as an event."""
    ctx.obj = AppState(db=db, tenant=tenant)


for _module_name in COMMAND_MODULES:
    importlib.import_module(_module_name).register(cli)


def main() -> None:
    """Run the command line (the ``goalpath`` console script)."""
    sys.exit(cli.main(prog_name="goalpath", standalone_mode=True))
