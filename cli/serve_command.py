"""``goalpath serve``: the HTTP API (:mod:`goalpath.server`) on uvicorn.

The command builds one :class:`~goalpath.server.settings.ServerSettings`
from its options and the root's ``--db``/``--tenant``, refuses settings the
server must not start with (no key set without ``--insecure-dev``: a usage
error, exit 2), opens the store once so that a store that cannot be opened
is refused before any worker starts (and a new SQLite store and its key file
are made once, not by racing workers), and hands the settings to uvicorn's
workers as JSON in :data:`~goalpath.server.settings.SETTINGS_VARIABLE`.
Each worker builds its application with
:func:`goalpath.server.app.app_from_environment`, so each opens its own
store after it starts (docs/embedding.md, "Threads and processes").

With ``--placement FILE`` the server serves many tenants, each from the
database the file places it in (:mod:`goalpath.server.placement`), the
tenant named by each token's ``--tenant-claim``; the file is checked and
every placed tenant's store opened once before the workers start.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Callable
from typing import Any, Final, TypeVar

import attrs
import click
import uvicorn
import uvicorn.config

from goalpath.cli.common import AppState, emit, refusals
from goalpath.core.application import GoalpathApp, resolve_db_path
from goalpath.core.errors import InvalidValueError
from goalpath.server.placement import load_placement
from goalpath.server.settings import (
    SETTINGS_VARIABLE,
    ClaimNames,
    ServerSettings,
    load_key_set,
)
from goalpath.server.tenants import open_placed_app

__all__ = [
    "FACTORY",
    "WORKER_HEALTHCHECK_SECONDS",
    "log_config",
    "register",
    "serve",
    "serving_document",
    "settings_from_options",
    "store_description",
]

FACTORY: Final = "goalpath.server.app:app_from_environment"
"""What each uvicorn worker calls to build its application."""

WORKER_HEALTHCHECK_SECONDS: Final = 30
"""How long uvicorn waits for a worker's answer before it takes the worker for hung.

uvicorn's default (5 s) is shorter than a new worker takes to import goalpath
on a busy two-core machine, so workers were killed and restarted while
starting; a hung worker is still replaced, later.
"""

R = TypeVar("R")

_CLAIM_HELP: Final[dict[str, str]] = {
    "principal": "The claim holding the caller's id.",
    "role": "The claim holding the caller's goalpath role.",
    "client": "The claim holding a client's own id (SMART's launch context calls it patient).",
    "scope": "The claim holding the granted scopes.",
    "tenant": "The claim naming the caller's tenant (with --placement).",
}
"""Each field of :class:`~goalpath.server.settings.ClaimNames` -> the help of its option."""


def _claim_options(command: Callable[..., R]) -> Callable[..., R]:
    """Give ``command`` a ``--NAME-claim`` option per field of ``ClaimNames``, taken as ``claims``.

    Each option defaults to the field's default and is described by
    :data:`_CLAIM_HELP`; ``command`` takes their values as one ``claims: ClaimNames``.
    """
    fields = attrs.fields(ClaimNames)

    @functools.wraps(command)
    def with_claims(*args: Any, **options: Any) -> R:
        names = {field.name: options.pop(f"{field.name}_claim") for field in fields}
        return command(*args, claims=ClaimNames(**names), **options)

    decorated: Callable[..., R] = with_claims
    for field in reversed(fields):  # click lists the option applied last first
        decorated = click.option(
            f"--{field.name}-claim",
            default=field.default,
            show_default=True,
            help=_CLAIM_HELP[field.name],
        )(decorated)
    return decorated


def settings_from_options(
    state: AppState,
    *,
    keys: str | None,
    issuer: str | None,
    audience: str | None,
    claims: ClaimNames,
    insecure_dev: bool,
    leeway: int,
    placement: str | None = None,
) -> ServerSettings:
    """The server's settings from the command's options, checked as the server checks them.

    A missing key set (without ``--insecure-dev``), issuer or audience, or
    ``--insecure-dev`` beside ``--keys``, or ``--placement`` beside
    ``--db``/``--tenant``, is a usage error naming the option; a key set file
    that cannot be read or holds no public key is refused.
    """
    settings = ServerSettings(
        db=state.db,
        tenant=state.store_tenant(),
        placement=placement,
        keys=keys,
        issuer=issuer,
        audience=audience,
        claims=claims,
        insecure_dev=insecure_dev,
        leeway_seconds=leeway,
    )
    try:
        settings.check()
    except InvalidValueError as error:
        option = f"--{(error.field or 'keys').replace('_', '-')}"
        if error.field in ("insecure_dev", "placement"):
            raise click.BadParameter(str(error), param_hint=option) from None
        raise click.MissingParameter(str(error), param_hint=option, param_type="option") from None
    if keys is not None:
        load_key_set(keys)
    return settings


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address to listen on (0.0.0.0 for every interface).",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="The TCP port."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes; each opens its own store.",
)
@click.option(
    "--keys",
    metavar="FILE",
    help="The public keys that verify bearer tokens: a JWKS document, a JWK or a PEM public key.",
)
@click.option("--issuer", metavar="ISS", help="The issuer (iss) every token must carry.")
@click.option(
    "--audience", metavar="AUD", help="The audience (aud) every token must carry or include."
)
@_claim_options
@click.option(
    "--placement",
    metavar="FILE",
    help="Serve many tenants: a TOML or JSON file placing each tenant's store "
    "(docs/serving.md, Tenants); instead of --db/--tenant.",
)
@click.option(
    "--leeway",
    type=click.IntRange(0, 300),
    default=30,
    show_default=True,
    help="Seconds a token's exp and nbf may be off the server's clock.",
)
@click.option(
    "--insecure-dev",
    is_flag=True,
    help="Serve without a key set, taking tokens UNVERIFIED: a developer's machine only. "
    "Every response and the log say so.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON document (where it serves, how tokens are checked) before serving, "
    "or a refusal as an error document; the log is on stderr.",
)
@click.pass_context
@refusals
def serve(
    ctx: click.Context,
    /,
    *,
    host: str,
    port: int,
    workers: int,
    keys: str | None,
    issuer: str | None,
    audience: str | None,
    claims: ClaimNames,
    placement: str | None,
    leeway: int,
    insecure_dev: bool,
    as_json: bool,
) -> None:
    """Serve the goalpath HTTP API (docs/serving.md) until stopped (Ctrl-C or SIGTERM).

    Tokens are verified against --keys, --issuer and --audience; the
    store is the one --db and --tenant name, with the master key found as
    every command finds it (GOALPATH_KEY, GOALPATH_KEY_FILE or the key file
    beside a SQLite store). The OpenAPI document is served at /openapi.json.
    """
    settings = settings_from_options(
        ctx.find_object(AppState) or AppState(),
        keys=keys,
        issuer=issuer,
        audience=audience,
        claims=claims,
        insecure_dev=insecure_dev,
        leeway=leeway,
        placement=placement,
    )
    store = store_description(settings)
    serving = serving_document(settings, store, host=host, port=port, workers=workers)
    if as_json:
        emit(serving)
    else:
        click.echo(f"goalpath serve: {store} at {serving['url']}, {workers} worker(s)")
    os.environ[SETTINGS_VARIABLE] = settings.to_json()
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        log_config=log_config(),
    )


def store_description(settings: ServerSettings) -> str:
    """Open the store of ``settings`` once (each placed tenant's, with a placement); describe it.

    A store that cannot be opened, or a placement file goalpath cannot take,
    is refused here, before any worker starts.
    """
    if settings.placement is None:
        app = GoalpathApp(resolve_db_path(settings.db), tenant=settings.tenant)
        try:
            return app.store.description
        finally:
            app.close()
    placement = load_placement(settings.placement)
    described = []
    for name in sorted(placement.tenants):
        app = open_placed_app(placement, name, None)
        try:
            described.append(app.store.description)
        finally:
            app.close()
    return f"placement {settings.placement}: " + ", ".join(described)


def serving_document(
    settings: ServerSettings, store: str, *, host: str, port: int, workers: int
) -> dict[str, Any]:
    """What ``goalpath serve --json`` prints before it serves: where, and how tokens are checked.

    ``store`` is the store's description (a PostgreSQL URL without its password).
    """
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{port}"
    return {
        "store": store,
        "tenant": settings.tenant,
        "placement": settings.placement,
        "url": url,
        "openapi": f"{url}/openapi.json",
        "workers": workers,
        "issuer": settings.issuer,
        "audience": settings.audience,
        "claims": attrs.asdict(settings.claims),
        "insecure_dev": settings.insecure_dev,
    }


def log_config() -> dict[str, Any]:
    """The logging of the server: uvicorn's, with its access log on stderr, and goalpath's.

    stdout holds only what the command prints (with ``--json``, one document);
    the server's log, the access log and ``goalpath.server``'s warnings (the
    insecure-dev announcement, failures behind a 500) go to stderr.
    """
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["goalpath"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def register(cli: click.Group) -> None:
    """Add ``goalpath serve`` to the root group."""
    cli.add_command(serve)
