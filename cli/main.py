"""The ``goalpath`` command: a root group and the sub-commands each module registers."""

from __future__ import annotations

import importlib
import sys

import click

from goalpath.cli.common import AppState

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
    "goalpath.cli.fhir_commands",
)
"""Each module has ``register(cli)``, which adds its commands to the root group."""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
