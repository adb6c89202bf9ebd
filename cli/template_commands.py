"""Commands for modality plugins: ``templates``, ``plugins``, ``instruments``, ``plugin new``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from goalpath.cli.common import console, emit, json_option, refusals
from goalpath.core.application import local_today
from goalpath.core.errors import InvalidValueError
from goalpath.core.values import jsonable
from goalpath.exports.documents import template_document, template_summary_document
from goalpath.modalities import (
    DISABLED_VARIABLE,
    Plugins,
    PluginStatus,
    load_plugins,
)
from goalpath.modalities.scaffold import write_plugin_project

__all__ = ["register"]


def _status_document(status: PluginStatus) -> dict[str, Any]:
    return {**jsonable(status), "loaded": status.loaded}


def _warn_problems(plugins: Plugins) -> None:
    if plugins.problems:
        click.echo(
            f"goalpath: {len(plugins.problems)} plugin problem(s); see 'goalpath plugins'",
            err=True,
        )


@click.group("templates")
def templates() -> None:
    """Goal templates contributed by modality plugins (CBT, mindfulness, psychodynamic...)."""


@templates.command("list")
@click.option("--modality", metavar="M", help="Only the templates of this modality (e.g. cbt).")
@json_option
@refusals
def list_templates(modality: str | None, as_json: bool) -> None:
    """List the templates of every loaded plugin."""
    plugins = load_plugins()
    chosen = plugins.templates(modality)
    if modality is not None and not chosen:
        known = ", ".join(plugins.modalities()) or "none"
        raise InvalidValueError(f"no templates for modality {modality!r}; modalities: {known}")
    if as_json:
        emit({"templates": [template_summary_document(template) for template in chosen]})
        return
    _warn_problems(plugins)
    table = Table(title="goal templates")
    table.add_column("id", no_wrap=True)
    for column in ("version", "area", "focus", "title"):
        table.add_column(column, overflow="fold")
    for template in chosen:
        table.add_row(template.id, template.version, template.area, template.focus, template.title)
    console().print(table)


@templates.command("show")
@click.argument("template_id")
@json_option
@refusals
def show_template(template_id: str, as_json: bool) -> None:
    """Show a template: statement, measure, parameters, defaults and an example."""
    plugins = load_plugins()
    document = template_document(plugins, plugins.template(template_id), local_today())
    if as_json:
        emit({"template": document})
        return
    out = console()
    out.print(f"[bold]{document['id']}[/bold] {document['version']}: {document['title']}")
    out.print(
        f"modality {document['modality']}, area {document['area']}, focus {document['focus']}, "
        f"from plugin {document['plugin']}"
    )
    out.print(f"\n{document['description']}\n")
    out.print(f"statement: {document['statement']}")
    measure = document["measure"]
    out.print(
        f"measure: {measure['name']} ({measure['unit']}, {measure['direction']})"
        + (f", instrument {measure['instrument']}" if measure["instrument"] else "")
    )
    out.print(
        f"due after {document['duration_weeks']} weeks by default; review every "
        f"{document['review_every_days']} days"
    )
    table = Table(title="parameters")
    table.add_column("name", no_wrap=True)
    for column in ("accepts", "default", "example", "description"):
        table.add_column(column, overflow="fold")
    for parameter in document["parameters"]:
        table.add_row(
            parameter["name"],
            parameter["accepts"],
            str(parameter["default"]),
            str(parameter["example"]),
            parameter["description"],
        )
    out.print(table)
    out.print(f"example: {document['example_statement']}")
    out.print(f"  {document['example_command']}", soft_wrap=True)
    for intervention in document["interventions"]:
        out.print(f"suggested: {intervention['name']}: {intervention['rationale']}")


@click.command("plugins")
@click.option(
    "--strict", is_flag=True, help="Exit 1 if any plugin failed or any problem was found."
)
@json_option
@click.pass_context
@refusals
def list_plugins(ctx: click.Context, /, strict: bool, as_json: bool) -> None:
    """List the modality plugins found: distribution, version, hooks, and whether they loaded.

    Disable a plugin by name with the environment variable
    GOALPATH_DISABLED_PLUGINS (comma-separated names); a name there that no
    plugin has is warned about.
    """
    plugins = load_plugins()
    for name in plugins.unknown_disabled:
        click.echo(f"goalpath: {DISABLED_VARIABLE} names {name!r}, which no plugin has", err=True)
    failed = [status.name for status in plugins.statuses if status.state == "failed"]
    if as_json:
        emit(
            {
                "plugins": [_status_document(status) for status in plugins.statuses],
                "unknown_disabled": list(plugins.unknown_disabled),
                "problems": [str(problem) for problem in plugins.problems],
            }
        )
    else:
        _plugins_table(plugins)
    if strict and (failed or plugins.problems):
        click.echo(
            f"goalpath: {len(failed)} plugin(s) failed and {len(plugins.problems)} problem(s) "
            "were found (--strict)",
            err=True,
        )
        ctx.exit(1)


def _plugins_table(plugins: Plugins) -> None:
    table = Table(title=f"modality plugins (disable with {DISABLED_VARIABLE}=name,...)")
    for column in ("name", "distribution", "version"):
        table.add_column(column, no_wrap=True)
    for column in ("hooks", "status"):
        table.add_column(column, overflow="fold")
    for status in plugins.statuses:
        hooks = "\n".join(_short(hook) for hook in status.hooks) or "-"
        state = {"loaded": "[green]loaded[/green]", "disabled": "[dim]disabled[/dim]"}.get(
            status.state, "[red]failed[/red]"
        )
        detail = "\n".join([state, *status.problems])
        table.add_row(status.name, status.distribution or "-", status.version or "-", hooks, detail)
    console().print(table)


@click.command("instruments")
@json_option
@refusals
def list_instruments(as_json: bool) -> None:
    """List the standard measures (instruments) of the loaded plugins, with their thresholds."""
    plugins = load_plugins()
    instruments = plugins.instruments()
    if as_json:
        emit({"instruments": [jsonable(instrument) for instrument in instruments]})
        return
    _warn_problems(plugins)
    table = Table(title="instruments")
    table.add_column("id", no_wrap=True)
    for column in ("name", "range", "better", "caseness", "reliable change", "LOINC"):
        table.add_column(column, overflow="fold")
    for instrument in instruments:
        table.add_row(
            instrument.id,
            instrument.name,
            f"{instrument.minimum:g}-{instrument.maximum:g} {instrument.unit}",
            "lower" if instrument.direction == "decrease" else "higher",
            "-" if instrument.caseness is None else f"{instrument.caseness:g}",
            "-" if instrument.reliable_change is None else f"{instrument.reliable_change:g}",
            instrument.loinc or "-",
        )
    console().print(table)


@click.group("plugin")
def plugin_group() -> None:
    """Write modality plugins."""


@plugin_group.command("new")
@click.argument("name")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=True,
    help="Where to make the project's folder.",
)
@json_option
@refusals
def new_plugin(name: str, directory: Path, as_json: bool) -> None:
    """Make a plugin project NAME (such as dbt-skills) whose tests pass as generated."""
    directory.mkdir(parents=True, exist_ok=True)
    project = write_plugin_project(name, directory)
    if as_json:
        emit({"project": str(project), "plugin": name})
        return
    click.echo(
        f"made {project}\n  cd {project}\n  pip install -e '.[test]'\n  python -m pytest\n"
        "  goalpath plugins --strict"
    )


def register(cli: click.Group) -> None:
    """Add ``templates``, ``plugins``, ``instruments`` and ``plugin`` to the root group."""
    cli.add_command(templates)
    cli.add_command(list_plugins)
    cli.add_command(list_instruments)
    cli.add_command(plugin_group)


def _short(hook: str) -> str:
    """A hook's name without the project prefix, for narrow tables."""
    return hook.removeprefix("goalpath_").removeprefix("register_")
