"""Commands for modality plugins: ``templates list``, ``templates show`` and ``plugins``."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from goalpath.cli.common import console, emit, json_option, refusals
from goalpath.core.application import local_today
from goalpath.core.errors import InvalidValueError
from goalpath.core.values import jsonable
from goalpath.modalities import (
    DISABLED_VARIABLE,
    Plugins,
    PluginStatus,
    Template,
    load_plugins,
)

__all__ = ["register"]


def _template_summary(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "version": template.version,
        "modality": template.modality,
        "title": template.title,
        "area": template.area,
        "focus": template.focus,
    }


def _template_document(plugins: Plugins, template: Template) -> dict[str, Any]:
    example = template.instantiate(template.example_parameters(), local_today())
    suggestions = plugins.suggest_interventions(example.definition, template)
    params = " ".join(
        f"--param {name}={value:g}" if not isinstance(value, str) else f"--param '{name}={value}'"
        for name, value in template.example_parameters().items()
    )
    return {
        **_template_summary(template),
        "plugin": plugins.template_plugin(template.id),
        "statement": template.statement,
        "measure": jsonable(template.measure),
        "parameters": [
            {
                "name": parameter.name,
                "kind": parameter.kind,
                "accepts": parameter.describe(),
                "default": parameter.default,
                "example": parameter.example,
                "description": parameter.description,
            }
            for parameter in template.all_parameters
        ],
        "duration_weeks": template.duration_weeks,
        "review_every_days": template.review_every_days,
        "practices": list(template.practices),
        "description": template.description,
        "example_statement": example.definition.statement,
        "example_command": f"goalpath goal create EPISODE_ID --template {template.id} {params}",
        "interventions": [
            {"plugin": suggestion.plugin, **jsonable(suggestion.intervention)}
            for suggestion in suggestions
        ],
    }


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
        emit({"templates": [_template_summary(template) for template in chosen]})
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
    document = _template_document(plugins, plugins.template(template_id))
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
@json_option
@refusals
def list_plugins(as_json: bool) -> None:
    """List the modality plugins found: distribution, version, hooks, and whether they loaded.

    Disable a plugin by name with the environment variable
    GOALPATH_DISABLED_PLUGINS (comma-separated names).
    """
    plugins = load_plugins()
    if as_json:
        emit({"plugins": [_status_document(status) for status in plugins.statuses]})
        return
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


def register(cli: click.Group) -> None:
    """Add ``templates`` and ``plugins`` to the root group."""
    cli.add_command(templates)
    cli.add_command(list_plugins)


def _short(hook: str) -> str:
    """A hook's name without the project prefix, for narrow tables."""
    return hook.removeprefix("goalpath_").removeprefix("register_")
