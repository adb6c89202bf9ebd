"""Finding records: ``goalpath episode list`` and ``goalpath goal list``.

Both read the read models (caught up first). Their tables show each id's
first 8 characters, which every command accepts in place of the whole id.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click
from rich import box
from rich.table import Table

from goalpath.cli.common import console, emit, json_option, open_app, refusals
from goalpath.cli.episode_commands import episode
from goalpath.cli.goal_commands import goal
from goalpath.cli.input_types import IDENTITY
from goalpath.core.values import LIFECYCLE_STATUSES, jsonable
from goalpath.projections import Projections
from goalpath.projections.records import EpisodeRecord, GoalRecord

__all__ = ["register"]

_SHORT = 8


@click.command("list")
@click.option("--client", "client_id", type=IDENTITY, help="Only this client's episodes.")
@click.option(
    "--therapist", "therapist_id", type=IDENTITY, help="Only the episodes this therapist is in."
)
@json_option
@click.pass_context
@refusals
def list_episodes(
    ctx: click.Context, /, *, client_id: str | None, therapist_id: str | None, as_json: bool
) -> None:
    """List episodes of care, oldest first: id, client, therapists, dates, sessions, goals."""
    with open_app(ctx) as app, Projections(app) as projections:
        found = projections.episodes(client_id=client_id, therapist_id=therapist_id)
    if as_json:
        emit({"episodes": [_episode_document(record) for record in found]})
        return
    table = Table(title=f"episodes ({len(found)})", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)
    table.add_column("client", min_width=_widest(record.client_id for record in found))
    table.add_column(
        "therapists", min_width=_widest(t for record in found for t in record.therapist_ids)
    )
    table.add_column("opened", no_wrap=True)
    table.add_column("closed", no_wrap=True)
    table.add_column("sessions", justify="right", no_wrap=True)
    table.add_column("goals", justify="right", no_wrap=True)
    for record in found:
        table.add_row(
            record.episode_id.hex[:_SHORT],
            record.client_id,
            ", ".join(record.therapist_ids),
            record.opened_on.isoformat(),
            record.closed_on.isoformat() if record.closed_on else "-",
            str(record.sessions_recorded),
            str(len(record.goal_ids)),
        )
    console().print(table)


@click.command("list")
@click.option("--client", "client_id", type=IDENTITY, help="Only this client's goals.")
@click.option(
    "--therapist", "therapist_id", type=IDENTITY, help="Only goals of this therapist's episodes."
)
@click.option("--status", type=click.Choice(LIFECYCLE_STATUSES), help="Only goals in this status.")
@click.option("--due", is_flag=True, help="Only goals due or overdue for review.")
@json_option
@click.pass_context
@refusals
def list_goals(  # noqa: PLR0917  # one parameter per filter
    ctx: click.Context,
    /,
    client_id: str | None,
    therapist_id: str | None,
    status: str | None,
    due: bool,
    as_json: bool,
) -> None:
    """List goals in the order they were stated: id, status, client, due date, statement."""
    with open_app(ctx) as app, Projections(app) as projections:
        found = projections.goals(client_id=client_id, therapist_id=therapist_id, status=status)
        if due:
            due_ids = {item.goal_id for item in projections.reviews_due(therapist_id)}
            found = [record for record in found if record.goal_id in due_ids]
    if as_json:
        emit({"goals": [_goal_document(record) for record in found]})
        return
    table = Table(title=f"goals ({len(found)})", box=box.SIMPLE_HEAD)
    table.add_column("id", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("client", min_width=_widest(record.client_id for record in found))
    table.add_column("due", no_wrap=True)
    table.add_column("statement", ratio=1)
    for record in found:
        target = record.definition.target
        table.add_row(
            record.goal_id.hex[:_SHORT],
            record.status,
            record.client_id,
            target.due_on.isoformat() if target else "-",
            record.definition.statement,
        )
    console().print(table)


def _widest(values: Iterable[str]) -> int:
    """The width of the longest value: an id is never cut or folded."""
    return max((len(value) for value in values), default=1)


def _episode_document(record: EpisodeRecord) -> dict[str, Any]:
    document: dict[str, Any] = jsonable(record)
    document["id"] = document.pop("episode_id")
    return document


def _goal_document(record: GoalRecord) -> dict[str, Any]:
    document: dict[str, Any] = jsonable(record)
    document["id"] = document.pop("goal_id")
    document.pop("measurements", None)
    return document


def register(cli: click.Group) -> None:
    """Add ``episode list`` and ``goal list`` to their groups."""
    del cli  # the groups are the episode and goal modules' own
    episode.add_command(list_episodes)
    goal.add_command(list_goals)
