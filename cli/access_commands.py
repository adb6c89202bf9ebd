"""``goalpath audit access``: who read which client's data, when, and what kind of read."""

from __future__ import annotations

import click
from rich.table import Table

from goalpath.cli.common import (
    console,
    emit,
    group_of,
    json_option,
    open_app,
    parse_time,
    read_purpose,
    reader,
    refusals,
)
from goalpath.cli.input_types import IDENTITY

__all__ = ["access", "register"]


@click.command("access")
@click.option(
    "--client",
    "client_id",
    type=IDENTITY,
    metavar="CLIENT",
    help="Only reads of this client's data.",
)
@click.option(
    "--actor", "actor_id", type=IDENTITY, metavar="ID", help="Only reads by this principal."
)
@click.option("--since", metavar="TIME", help="Only reads at or after this ISO date or time.")
@click.option("--until", metavar="TIME", help="Only reads at or before this ISO date or time.")
@json_option
@click.pass_context
@refusals
def access(
    ctx: click.Context,
    /,
    *,
    client_id: str | None,
    actor_id: str | None,
    since: str | None,
    until: str | None,
    as_json: bool,
) -> None:
    """List the access log: every read of a client's data (identifiers only), oldest first.

    Reading the access log is itself a read: it is recorded after the listing,
    by the principal of ``GOALPATH_ACTOR``/``GOALPATH_ROLE``.
    """
    with open_app(ctx) as app:
        entries = app.access_log(
            principal=reader(),
            client_id=client_id,
            actor_id=actor_id,
            since=parse_time(since, "--since"),
            until=parse_time(until, "--until"),
            purpose=read_purpose(),
        )
    if as_json:
        emit({"reads": [entry.document() for entry in entries]})
        return
    table = Table("read at", "who", "role", "asserted by", "read", "client", "episode / goal")
    for entry in entries:
        target = entry.goal_id or entry.episode_id
        table.add_row(
            entry.read_at.isoformat(timespec="seconds"),
            entry.actor_id,
            entry.actor_role,
            entry.asserted_by,
            entry.read,
            entry.client_id or "(every client)",
            "" if target is None else str(target),
        )
    console().print(table)


def register(cli: click.Group) -> None:
    """Add ``goalpath audit access`` to the ``audit`` group."""
    group_of(cli, "audit", "Audit: verify, export, the access log.").add_command(access)
