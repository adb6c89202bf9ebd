"""``goalpath audit verify|export`` and ``goalpath client erase``: for auditors and privacy."""

from __future__ import annotations

import csv
import json
import shutil
import sys
import tempfile
from typing import IO, Any

import attrs
import click
from rich.table import Table

from goalpath.cli.checkpoint_commands import CHECKPOINT_COMMANDS, checked_against_checkpoints
from goalpath.cli.common import (
    actor_options,
    console,
    emit,
    group_of,
    idempotency_key_option,
    json_option,
    make_actor,
    open_app,
    parse_time,
    reading,
    refusals,
)
from goalpath.cli.input_types import IDENTITY
from goalpath.core.application.audit import EXPORT_FIELDS, spreadsheet_safe, verified_export
from goalpath.core.storage.checkpoints import (
    DEFAULT_ORIGIN,
    read_signing_key,
    sign_checkpoint,
    write_private_text,
)
from goalpath.core.storage.integrity import ChainProblem, VerificationReport
from goalpath.core.values import jsonable
from goalpath.exports.documents import verification_document
from goalpath.projections import Projections

__all__ = ["register"]


@click.group("audit")
def audit() -> None:
    """For auditors: verify the tamper-evident history, export it."""


@audit.command("verify")
@click.option(
    "--at-least",
    "at_least",
    type=click.IntRange(min=0),
    help="Records the store held at an earlier audit: fewer now is reported (a rollback).",
)
@click.option(
    "--checkpoint",
    "checkpoints",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint kept from an earlier audit (repeatable): the store must extend it.",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False),
    envvar="GOALPATH_LOG_PUBLIC_KEY",
    help="The log's public key (from `audit keygen`), to check the checkpoints' signatures.",
)
@json_option
@click.pass_context
@refusals
def verify(
    ctx: click.Context,
    /,
    *,
    at_least: int | None,
    checkpoints: tuple[str, ...],
    public_key: str | None,
    as_json: bool,
) -> None:
    """Recompute every hash chain; exit 1 naming the first stream and version that fails.

    Keep checkpoints (``audit checkpoint``) outside the store and give them
    back with --checkpoint: the store must prove it extends each of them, so
    a rollback, a splice or a reordering since is reported. (--at-least, an
    earlier record count, is the weaker check of earlier versions.)
    """
    with open_app(ctx) as app:
        report = app.verify()
        if checkpoints:
            report = checked_against_checkpoints(app, report, checkpoints, public_key)
    if at_least is not None and report.records_checked < at_least:
        report = attrs.evolve(
            report,
            problems=(
                *report.problems,
                ChainProblem(
                    "store",
                    0,
                    "truncated",
                    f"the store holds {report.records_checked} records, fewer than the "
                    f"{at_least} of an earlier audit: it was rolled back or records were deleted",
                ),
            ),
        )
    if as_json:
        emit(verification_document(report))
    else:
        _print_report(report)
        if checkpoints and report.ok:
            click.echo(f"the log extends every checkpoint given ({len(checkpoints)})")
    if not report.ok:
        first = report.first_problem
        assert first is not None  # noqa: S101  # not ok means a problem was found
        click.echo(
            f"goalpath: verify failed: stream {first.stream_id} version {first.version}: "
            f"{first.detail}",
            err=True,
        )
        sys.exit(1)


def _print_report(report: VerificationReport) -> None:
    out = console()
    verdict = "[green]verified[/green]" if report.ok else "[red]NOT verified[/red]"
    out.print(
        f"{verdict}: {report.records_checked} records in {report.streams_checked} streams "
        f"({report.erased_streams} of an erased client, verified by structure)"
    )
    if report.problems:
        table = Table(title="problems")
        for column in ("stream", "version", "kind", "detail"):
            table.add_column(column)
        for problem in report.problems:
            table.add_row(problem.stream_id, str(problem.version), problem.kind, problem.detail)
        out.print(table)


@audit.command("export")
@click.option("--client", "client_id", type=IDENTITY, help="Only this client's episodes and goals.")
@click.option("--since", metavar="TIME", help="Only events recorded at or after this time.")
@click.option("--until", metavar="TIME", help="Only events recorded at or before this time.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False), help="Write to a file (owner-only), not stdout."
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(exists=True, dir_okay=False),
    help="End the export with a checkpoint signed with this key (from `audit keygen`).",
)
@json_option
@click.pass_context
@refusals
def export(
    ctx: click.Context,
    /,
    *,
    client_id: str | None,
    since: str | None,
    until: str | None,
    output_format: str,
    output: str | None,
    key_file: str | None,
    as_json: bool,
) -> None:
    """Write every event with actor, reason and field-level before/after, for an auditor's tools.

    The store is verified first: a store that does not verify is refused and
    nothing is written. With --key, the export ends with the checkpoint it
    was taken at; a whole-store JSON Lines export is then checkable on its
    own (``python -m goalpath.core.storage.proof_verifier export``). --json
    is accepted for uniformity: JSON Lines is already one JSON document per line.
    """
    del as_json
    key = read_signing_key(key_file) if key_file is not None else None
    with open_app(ctx) as app, tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spool:
        with reading(app, "audit-export", client_id=client_id):
            exported = verified_export(
                app,
                origin=key.name if key is not None else DEFAULT_ORIGIN,
                client_id=client_id,
                since=parse_time(since, "--since"),
                until=parse_time(until, "--until"),
            )
            # Every row goes to a private spool first: a failure part-way leaves no partial output.
            _write(exported.rows, output_format, spool)
            if key is not None:
                _write_checkpoint(sign_checkpoint(exported.checkpoint, key), output_format, spool)
        spool.seek(0)
        if output is None:
            shutil.copyfileobj(spool, sys.stdout)
        else:
            write_private_text(output, spool.read())


def _write(rows: Any, output_format: str, handle: IO[str]) -> None:
    if output_format == "jsonl":
        for row in rows:
            handle.write(json.dumps(jsonable(row), ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(handle, fieldnames=EXPORT_FIELDS)
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        flat["changes"] = json.dumps(jsonable(row["changes"]), ensure_ascii=False)
        writer.writerow({name: spreadsheet_safe(value) for name, value in flat.items()})


def _write_checkpoint(note: str, output_format: str, handle: IO[str]) -> None:
    """The export's last line: the signed checkpoint it was taken at."""
    if output_format == "jsonl":
        handle.write(json.dumps({"checkpoint": note}, ensure_ascii=False) + "\n")
    else:
        csv.DictWriter(handle, fieldnames=EXPORT_FIELDS).writerow(
            {"position": "checkpoint", "changes": note}
        )


@audit.command("purge")
@json_option
@click.pass_context
@refusals
def purge(ctx: click.Context, /, *, as_json: bool) -> None:
    """Make sure no erased content or destroyed key lingers in the store's files.

    An erasure purges by itself; run this after it reported that another
    process kept old pages (close that process first).
    """
    with open_app(ctx) as app, Projections(app) as projections:
        projections.catch_up()
        projections.store.purge_deleted()
        app.purge()
    if as_json:
        emit({"purged": True})
    else:
        click.echo("purged: no freed page of the store is left in its files")


@click.group("client")
def client() -> None:
    """Clients: erase a client's data (crypto-shredding)."""


@client.command("erase")
@click.argument("client_id", type=IDENTITY)
@click.option("--reason", required=True, help="Why (for example the request's reference).")
@idempotency_key_option
@actor_options
@json_option
@click.pass_context
@refusals
def erase(
    ctx: click.Context,
    /,
    *,
    client_id: str,
    reason: str,
    idempotency_key: str | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Erase CLIENT_ID's data: destroy their key, drop their read-model rows, record why.

    Needs the supervisor (or system) role. The events remain as structure for
    the audit; their content can no longer be read by anyone.
    """
    actor = make_actor(actor_id, role)
    with open_app(ctx) as app:
        record_id = app.erase_client(
            client_id, reason=reason, actor=actor, idempotency_key=idempotency_key
        )
        # The read models drop the client's rows and purge the write-ahead log now,
        # not at the next read: no plaintext of the client may stay in the files.
        with Projections(app) as projections:
            projections.catch_up()
    if as_json:
        emit({"client_id": client_id, "erasure_record": record_id, "erased": True})
    else:
        click.echo(f"erased client {client_id} (record {record_id})")


def register(cli: click.Group) -> None:
    """Add ``goalpath audit verify|export|…`` and ``goalpath client`` to the root group.

    ``goalpath audit`` may already hold ``log`` from the read models: merge.
    """
    target = group_of(cli, "audit", audit.help or "")
    for name, command in audit.commands.items():
        target.add_command(command, name)
    for command in CHECKPOINT_COMMANDS:
        target.add_command(command)
    cli.add_command(client)
