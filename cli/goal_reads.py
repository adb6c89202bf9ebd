"""``goalpath goal show``, ``goal measurements`` and ``goal history``: the reads of one goal."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar
from uuid import UUID

import click

from goalpath.cli.common import (
    as_of_option,
    console,
    effective_on_option,
    emit,
    json_option,
    open_app,
    parse_date,
    parse_time,
    read_purpose,
    reader,
    reading,
    refusals,
)
from goalpath.cli.record_ids import GOAL_ID
from goalpath.cli.render import history_table, measurements_table, render_goal
from goalpath.core.history import history_of
from goalpath.exports.documents import goal_document, measurements_document

__all__ = ["register"]

P = ParamSpec("P")
R = TypeVar("R")

_version_option = click.option("--version", type=int, help="The goal as it was at this version.")


def _when_options(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """``--version``, ``--as-of`` and ``--effective-on``: which state of ``what`` to read."""

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        return _version_option(as_of_option(what)(effective_on_option(what)(command)))

    return decorate


@click.command("show")
@click.argument("goal_id", type=GOAL_ID)
@_when_options("the goal")
@json_option
@click.pass_context
@refusals
def show_goal(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    version: int | None,
    as_of: str | None,
    effective_on: str | None,
    as_json: bool,
) -> None:
    """Show a goal: definition, status, SMART verdict, measurements and reviews."""
    with open_app(ctx) as app:
        found = app.get_goal(
            goal_id,
            version=version,
            as_of=parse_time(as_of, "--as-of"),
            effective_on=parse_date(effective_on, "--effective-on"),
            principal=reader(),
            purpose=read_purpose(),
        )
        if as_json:
            emit(goal_document(found))
        else:
            render_goal(console(), found)


@click.command("measurements")
@click.argument("goal_id", type=GOAL_ID)
@_when_options("the goal's measurements")
@json_option
@click.pass_context
@refusals
def goal_measurements(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    version: int | None,
    as_of: str | None,
    effective_on: str | None,
    as_json: bool,
) -> None:
    """List every measurement of a goal by number, with corrections applied and voided ones."""
    with open_app(ctx) as app:
        recorded = parse_time(as_of, "--as-of")
        in_effect = parse_date(effective_on, "--effective-on")
        with reading(app, "goal", goal_id=goal_id):
            found = app.get_goal(goal_id, version=version, as_of=recorded, effective_on=in_effect)
            series = app.goal_measurements(
                goal_id, version=version, as_of=recorded, effective_on=in_effect
            )
        if as_json:
            emit(measurements_document(found, series))
        else:
            console().print(
                measurements_table(
                    series,
                    f"{found.measurement_count} measurements of goal {str(goal_id)[:8]}, "
                    f"{found.valid_measurement_count} valid "
                    "(correct one with: goal correct GOAL N)",
                )
            )


@click.command("history")
@click.argument("goal_id", type=GOAL_ID)
@json_option
@click.pass_context
@refusals
def goal_history(ctx: click.Context, /, *, goal_id: UUID, as_json: bool) -> None:
    """List every event of a goal: version, time, actor, reason, and each field's before/after."""
    with open_app(ctx) as app:
        entries = history_of(app.goal_events(goal_id, principal=reader(), purpose=read_purpose()))
        if as_json:
            emit(
                {
                    "goal_id": str(goal_id),
                    "events": [entry.document() for entry in entries],
                }
            )
        else:
            console().print(history_table(entries))


def register(goal: click.Group) -> None:
    """Add the reads to the ``goalpath goal`` group."""
    for command in (show_goal, goal_measurements, goal_history):
        goal.add_command(command)
