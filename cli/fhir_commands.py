"""``goalpath export fhir`` and ``goalpath import fhir``: plans as FHIR Bundles, out and in."""

from __future__ import annotations

import json
import sys
from datetime import tzinfo
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from dateutil import tz  # type: ignore[import-untyped]  # no stubs installed

from goalpath.cli.common import (
    actor_options,
    as_of_option,
    emit,
    group_of,
    json_option,
    make_actor,
    open_app,
    parse_time,
    reading,
    refusals,
)
from goalpath.exports.fhir import (
    BUNDLE_TYPES,
    FHIR_VERSIONS,
    ReferenceFor,
    export_client,
    export_episode,
    validate_bundle,
)
from goalpath.exports.fhir_import import FhirImportError, import_bundle, reverse_mapping

_MAPPING_KINDS = ("client", "actor")

__all__ = ["export_fhir", "import_fhir", "register"]


@click.command("fhir")
@click.argument("client", required=False)
@click.option("--episode", "episode_id", metavar="ID", help="Export this episode only.")
@click.option(
    "--fhir-version",
    type=click.Choice(FHIR_VERSIONS, case_sensitive=False),
    default="R5",
    show_default=True,
    help="FHIR release of the resources.",
)
@as_of_option("the plan")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the bundle to this file instead of printing it.",
)
@click.option(
    "--bundle-type",
    type=click.Choice(BUNDLE_TYPES, case_sensitive=False),
    default="collection",
    show_default=True,
    help="collection to read or archive; transaction to post to a FHIR server.",
)
@click.option(
    "--map",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON file mapping ids to the host\'s references: {"client": {"client-0042": '
    '"Patient/123"}, "actor": {"therapist-7": "Practitioner/9"}}; others go by identifier.',
)
@click.option(
    "--time-zone",
    "time_zone",
    metavar="ZONE",
    help="The clinic's time zone (IANA name, such as Europe/London) for dates of changes "
    "recorded without one; default: this machine's.",
)
@click.option(
    "--validate",
    is_flag=True,
    help="Check every resource with fhir.resources first (needs the goalpath[fhir] extra).",
)
@json_option
@click.pass_context
@refusals
def export_fhir(
    ctx: click.Context,
    *,
    client: str | None,
    episode_id: str | None,
    fhir_version: str,
    as_of: str | None,
    output: Path | None,
    bundle_type: str,
    mapping_file: Path | None,
    time_zone: str | None,
    validate: bool,
    as_json: bool,
) -> None:
    """Export a plan as a FHIR Bundle: every episode of CLIENT, or one --episode.

    The bundle is the one JSON document printed, with or without --json: a
    CarePlan per episode, a Goal per goal, an Observation per measurement and
    a Provenance per goal event. A transaction bundle can be posted to a FHIR
    server's base URL as it is.
    """
    del as_json  # the bundle is always JSON; the flag is accepted like everywhere else
    if (client is None) == (episode_id is None):
        raise click.UsageError("name a CLIENT or give --episode ID (one of the two)")
    moment = parse_time(as_of, "--as-of")
    options: dict[str, Any] = {
        "fhir_version": fhir_version,
        "as_of": moment,
        "bundle_type": bundle_type.lower(),
        "reference_for": None if mapping_file is None else _mapping(mapping_file),
        "time_zone": _zone(time_zone),
    }
    with open_app(ctx) as app:
        episode = None if episode_id is None else _episode_uuid(episode_id)
        bundle: dict[str, Any]
        with reading(app, "fhir-export", client_id=client, episode_id=episode):
            if client is not None:
                bundle = export_client(app, client, **options)
            else:
                bundle = export_episode(app, _episode_uuid(episode_id or ""), **options)
            if validate:
                validate_bundle(bundle)
    document = json.dumps(bundle, indent=2, ensure_ascii=False)
    if output is None:
        click.echo(document)
        return
    output.write_text(document + "\n", encoding="utf-8")
    click.echo(
        f"wrote a FHIR {fhir_version} bundle of {len(bundle['entry'])} resources to {output}",
        err=True,
    )


def _zone(name: str | None) -> tzinfo:
    """The named IANA time zone, or this machine's (with its daylight-saving rules)."""
    if name is None:
        local: tzinfo = tz.tzlocal()
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{name!r} is not a time zone name; give an IANA name such as Europe/London",
            param_hint="--time-zone",
        ) from None


def _mapping(path: Path) -> ReferenceFor:
    """The host's id mapping from a JSON file, checked before anything is exported."""
    document = _mapping_document(path)
    return lambda kind, local_id: document.get(kind, {}).get(local_id)


def _mapping_document(path: Path) -> dict[str, dict[str, str]]:
    """The ``--map`` file's ``{"client": {...}, "actor": {...}}``, checked."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.BadParameter(
            f"{path} is not a JSON file: {error}", param_hint="--map"
        ) from None
    if not isinstance(document, dict) or not set(document) <= set(_MAPPING_KINDS):
        raise click.BadParameter(
            f"{path} must be a JSON object with the keys {' and '.join(_MAPPING_KINDS)} only",
            param_hint="--map",
        )
    for kind, ids in document.items():
        if not isinstance(ids, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in ids.items()
        ):
            raise click.BadParameter(
                f"{path}: {kind!r} must map ids to references, each a string",
                param_hint="--map",
            )
    return document


def _episode_uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise click.BadParameter(
            f"an episode id must be a UUID; got {value!r}", param_hint="--episode"
        ) from None


@click.command("fhir")
@click.argument(
    "bundle_file", metavar="FILE", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--map",
    "mapping_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The export's --map file: the host's references are read back as these ids.",
)
@actor_options
@json_option
@click.pass_context
def import_fhir(
    ctx: click.Context,
    *,
    bundle_file: Path,
    mapping_file: Path | None,
    actor_id: str | None,
    role: str,
    as_json: bool,
) -> None:
    """Import a FHIR Bundle (R5 or R4B) of Goals and Observations; all or nothing.

    A bundle goalpath exported comes back with each goal's whole history (its
    Provenances); another system's Goals become goals as they stand, their
    Observations measurements. A bundle that cannot be mapped is refused,
    naming the resource and the element, and nothing is stored; with --json
    the refusal is printed as a FHIR OperationOutcome.
    """
    actor = make_actor(actor_id, role)
    local_id_for = (
        None if mapping_file is None else reverse_mapping(_mapping_document(mapping_file))
    )
    try:
        bundle = json.loads(bundle_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.BadParameter(f"{bundle_file} is not a JSON file: {error}") from None
    _import(ctx, bundle, actor, local_id_for, as_json=as_json)


@refusals
def _import(
    ctx: click.Context, bundle: Any, actor: Any, local_id_for: Any, *, as_json: bool
) -> None:
    """Store the bundle; a FHIR refusal is an OperationOutcome with --json, others as usual."""
    try:
        with open_app(ctx, create=True) as app:
            result = import_bundle(app, bundle, actor=actor, local_id_for=local_id_for)
    except FhirImportError as error:
        if as_json:
            click.echo(json.dumps(error.operation_outcome(), indent=2, ensure_ascii=False))
        click.echo(f"goalpath: refused: {error}", err=True)
        sys.exit(1)
    if as_json:
        emit(result.document())
        return
    click.echo(
        f"imported {len(result.episode_ids)} episodes, {len(result.goal_ids)} goals and "
        f"{result.measurements} measurements ({result.events} events)"
    )


def register(cli: click.Group) -> None:
    """Add ``goalpath export fhir`` and ``goalpath import fhir`` (with their groups)."""
    group_of(cli, "import", "Import plans from other systems' formats.").add_command(import_fhir)
    group = cli.commands.get("export")
    if not isinstance(group, click.Group):

        @click.group("export")
        def export() -> None:
            """Export plans to other systems' formats."""

        cli.add_command(export)
        group = export
    group.add_command(export_fhir)
