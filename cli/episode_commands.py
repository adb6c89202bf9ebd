"""``goalpath episode ...``: open, record sessions, assign therapists, close, show."""

from __future__ import annotations

from uuid import UUID

import click

from goalpath.cli.common import (
    actor_options,
    console,
    emit,
    idempotency_key_option,
    json_option,
    make_actor,
    open_app,
    parse_date,
    refusals,
)
from goalpath.cli.input_types import IDENTITY
from goalpath.cli.record_ids import EPISODE_ID
from goalpath.cli.render import render_episode
from goalpath.exports.documents import episode_document

__all__ = ["register"]


@click.group()
def episode() -> None:
    """Episodes of care: one client, their therapists, sessions and goals."""


@episode.command("open")
@click.option(
    "--client",
    "client_id",
    type=IDENTITY,
    required=True,
    help="The client's id in the host system.",
)
@click.option(
    "--therapist",
    "therapist_ids",
    type=IDENTITY,
    multiple=True,
    required=True,
    help="A therapist's id (repeat for several).",
)
@click.option("--concern", "concerns", multiple=True, help="A presenting concern (repeatable).")
@click.option("--on", "opened_on", metavar="DATE", help="Opening date (default today).")
@click.option("--id", "episode_id", type=click.UUID, help="Use this id instead of a new one.")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def open_episode(
    ctx: click.Context,
    /,
    *,
    client_id: str,
    therapist_ids: tuple[str, ...],
    concerns: tuple[str, ...],
    opened_on: str | None,
    episode_id: UUID | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Open an episode of care for a client."""
    actor = make_actor(actor_id, role)
    with open_app(ctx, create=True) as app:
        new_id = app.open_episode(
            client_id=client_id,
            therapist_ids=therapist_ids,
            concerns=concerns,
            opened_on=parse_date(opened_on, "--on"),
            actor=actor,
            episode_id=episode_id,
            idempotency_key=idempotency_key,
        )
        if as_json:
            emit(episode_document(app.get_episode(new_id)))
        else:
            click.echo(f"opened episode {new_id}")


@episode.command("session")
@click.argument("episode_id", type=EPISODE_ID)
@click.option("--on", "held_on", metavar="DATE", help="Session date (default today).")
@click.option("--missed", is_flag=True, help="The client did not attend.")
@click.option("--number", type=int, help="Expected session number (checked).")
@click.option("--expected-version", type=int, help="Refuse if the episode changed since.")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def record_session(
    ctx: click.Context,
    /,
    *,
    episode_id: UUID,
    held_on: str | None,
    missed: bool,
    number: int | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Record the next session of an episode."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        recorded = app.record_session(
            episode_id,
            held_on=parse_date(held_on, "--on"),
            attended=not missed,
            number=number,
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        if as_json:
            emit(episode_document(app.get_episode(episode_id)))
        else:
            click.echo(f"recorded session {recorded} of episode {episode_id}")


@episode.command("assign")
@click.argument("episode_id", type=EPISODE_ID)
@click.argument("therapist_id", type=IDENTITY, required=False)
@click.option(
    "--therapist",
    "therapist_option",
    type=IDENTITY,
    metavar="ID",
    help="The therapist to assign (as episode open takes it; or give it after EPISODE_ID).",
)
@click.option("--expected-version", type=int, help="Refuse if the episode changed since.")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def assign_therapist(
    ctx: click.Context,
    /,
    *,
    episode_id: UUID,
    therapist_id: str | None,
    therapist_option: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Assign another therapist to an episode: --therapist ID (or ID after EPISODE_ID)."""
    if (therapist_id is None) == (therapist_option is None):
        raise click.UsageError("name the therapist once: --therapist ID (or ID after EPISODE_ID)")
    therapist_id = therapist_id or therapist_option or ""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.assign_therapist(
            episode_id,
            therapist_id,
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        if as_json:
            emit(episode_document(app.get_episode(episode_id)))
        else:
            click.echo(f"assigned {therapist_id} to episode {episode_id}")


@episode.command("close")
@click.argument("episode_id", type=EPISODE_ID)
@click.option("--reason", required=True, help="Why the episode ends.")
@click.option("--on", "closed_on", metavar="DATE", help="Closing date (default today).")
@click.option("--expected-version", type=int, help="Refuse if the episode changed since.")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def close_episode(
    ctx: click.Context,
    /,
    *,
    episode_id: UUID,
    reason: str,
    closed_on: str | None,
    expected_version: int | None,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Close an episode."""
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        app.close_episode(
            episode_id,
            reason=reason,
            closed_on=parse_date(closed_on, "--on"),
            actor=actor,
            expected_version=expected_version,
            idempotency_key=idempotency_key,
        )
        if as_json:
            emit(episode_document(app.get_episode(episode_id)))
        else:
            click.echo(f"closed episode {episode_id}")


@episode.command("show")
@click.argument("episode_id", type=EPISODE_ID)
@json_option
@click.pass_context
@refusals
def show_episode(ctx: click.Context, /, *, episode_id: UUID, as_json: bool) -> None:
    """Show an episode, its sessions and its goals."""
    with open_app(ctx) as app:
        found = app.get_episode(episode_id)
        goals = app.list_goals(episode_id)
        if as_json:
            document = episode_document(found)
            document["goals"] = [
                {"id": str(goal.id), "status": goal.status, "statement": goal.definition.statement}
                for goal in goals
            ]
            emit(document)
        else:
            render_episode(console(), found, goals)


def register(cli: click.Group) -> None:
    """Add ``goalpath episode`` to the root group."""
    cli.add_command(episode)
