"""What every goalpath command shares: opening the store, the actor, output, errors.

Conventions every command follows:

- ``--json`` prints exactly one JSON document on stdout; otherwise rich tables.
- a refused command (any :class:`~goalpath.core.errors.GoalpathError`) prints
  its message on stderr and exits 1; usage errors exit 2 (click's own).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from typing import Any, Final, ParamSpec, TypeVar
from uuid import UUID

import attrs
import click
from rich.console import Console

from goalpath.cli.input_types import IDENTITY
from goalpath.core.application import GoalpathApp, resolve_db_path
from goalpath.core.authorization import UNAUTHENTICATED, Principal, Read
from goalpath.core.errors import GoalpathError
from goalpath.core.inputs import check_moment
from goalpath.core.values import ROLES, check_date, jsonable
from goalpath.exports import documents

__all__ = [
    "AppState",
    "actor_options",
    "as_of_option",
    "effective_on_option",
    "emit",
    "error_document",
    "group_of",
    "idempotency_key_option",
    "json_option",
    "open_app",
    "parse_date",
    "parse_time",
    "reader",
    "reading",
    "refusals",
    "report_refusal",
    "usage_line",
]

P = ParamSpec("P")
R = TypeVar("R")


@attrs.define
class AppState:
    """Options given before the sub-command (``goalpath --db FILE --tenant T ...``)."""

    db: str | None = None
    tenant: str | None = None

    def store_tenant(self) -> str | None:
        """The tenant whose store to open: ``--tenant``, else ``GOALPATH_TENANT``, else none."""
        tenant = self.tenant if self.tenant is not None else os.environ.get("GOALPATH_TENANT")
        return tenant or None


def console() -> Console:
    """A console for human-readable output on stdout."""
    return Console(highlight=False, soft_wrap=False)


@contextmanager
def open_app(ctx: click.Context, *, create: bool = False) -> Iterator[GoalpathApp]:
    """Open the application on the store chosen by ``--db`` and ``--tenant``.

    Without ``--db``: ``GOALPATH_DATABASE_URL``, else ``GOALPATH_DB``, else ``./goalpath.db``.
    A store that was never started (a SQLite file that does not exist, a
    tenant's PostgreSQL schema without events) is refused, naming it, unless
    ``create`` (``episode open`` starts a store): a mistyped ``--db`` or
    ``--tenant`` never answers from a new, empty store, nor makes one.
    """
    state = ctx.find_object(AppState) or AppState()
    app = GoalpathApp(resolve_db_path(state.db), tenant=state.store_tenant(), create=create)
    try:
        yield app
    finally:
        app.close()


def idempotency_key_option(function: Callable[P, R]) -> Callable[P, R]:
    """Add ``--idempotency-key`` to a write command (docs/embedding.md, Idempotency keys)."""
    return click.option(
        "--idempotency-key",
        "idempotency_key",
        metavar="KEY",
        help="Repeated with this key, the command writes nothing and answers as the first time.",
    )(function)


def json_option(function: Callable[P, R]) -> Callable[P, R]:
    """Add ``--json`` to a command."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document instead of tables."
    )(function)


def as_of_option(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Add ``--as-of TIME``, recorded time: ``what`` as the store knew it at that moment."""
    return click.option(
        "--as-of",
        "as_of",
        metavar="TIME",
        help=f"Recorded time: {what} as the store knew it at this moment, whatever dates the "
        "events carry (ISO date or time; a date alone means its end, locally).",
    )


def effective_on_option(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Add ``--effective-on DATE``, effective time: ``what`` in force on that day."""
    return click.option(
        "--effective-on",
        "effective_on",
        metavar="DATE",
        help=f"Effective time: {what} in force on this date (YYYY-MM-DD), by the events' own "
        "dates (a goal's start, a measurement's observation, a review's date), however late "
        "they were entered; with --as-of, as the store knew it then.",
    )


def actor_options(function: Callable[P, R]) -> Callable[P, R]:
    """Add ``--actor`` and ``--role`` (defaults from ``GOALPATH_ACTOR`` and ``GOALPATH_ROLE``)."""
    function = click.option(
        "--role",
        type=click.Choice(ROLES),
        default=lambda: os.environ.get("GOALPATH_ROLE", "therapist"),
        show_default="GOALPATH_ROLE or therapist",
        help="Role of the person making the change.",
    )(function)
    return click.option(
        "--actor",
        "actor_id",
        type=IDENTITY,
        default=lambda: os.environ.get("GOALPATH_ACTOR") or None,
        help="Who is making the change (an id in the host system); default GOALPATH_ACTOR.",
    )(function)


def production() -> bool:
    """Whether ``GOALPATH_ENV=production``: every command and read needs an explicit principal."""
    return os.environ.get("GOALPATH_ENV", "").strip().lower() == "production"


def _asserted_by() -> str:
    """Who vouches for the principal: ``GOALPATH_ASSERTED_BY``, set by the host's wrapper."""
    return os.environ.get("GOALPATH_ASSERTED_BY", "").strip() or UNAUTHENTICATED


def _check_explicit(actor_id: str | None, role_given: bool) -> None:
    """In production, refuse a principal the host did not state: id, role and who vouches."""
    missing = [
        name
        for name, given in (
            ("--actor or GOALPATH_ACTOR", bool(actor_id)),
            ("--role or GOALPATH_ROLE", role_given),
            ("GOALPATH_ASSERTED_BY", _asserted_by() != UNAUTHENTICATED),
        )
        if not given
    ]
    if production() and missing:
        raise click.UsageError(
            "GOALPATH_ENV=production needs an explicit principal: give "
            + ", ".join(missing)
            + " (GOALPATH_ASSERTED_BY names the host component that authenticated the user)"
        )


def _role_given() -> bool:
    context = click.get_current_context(silent=True)
    source = context.get_parameter_source("role") if context is not None else None
    given_on_line = source is not None and source.name != "DEFAULT"
    return given_on_line or bool(os.environ.get("GOALPATH_ROLE"))


def make_actor(actor_id: str | None, role: str) -> Principal:
    """Build the principal of a write command, or stop with a usage error if none was given.

    ``--actor``/``--role`` (or ``GOALPATH_ACTOR``/``GOALPATH_ROLE``) name them;
    ``GOALPATH_ASSERTED_BY`` says who authenticated them (``caller`` when unset).
    With ``GOALPATH_ENV=production`` all three must be given.
    """
    _check_explicit(actor_id, _role_given())
    if not actor_id:
        raise click.UsageError(
            "who is making this change? Pass --actor ID (and --role) or set GOALPATH_ACTOR"
        )
    return Principal(actor_id, role, _asserted_by())  # type: ignore[arg-type]  # a Choice


LOCAL_READER: Final = "local-operator"
"""The id of a read made on the command line without ``GOALPATH_ACTOR`` (outside production)."""


def reader() -> Principal:
    """The principal of a read command, from ``GOALPATH_ACTOR``, ``_ROLE`` and ``_ASSERTED_BY``.

    Without ``GOALPATH_ACTOR`` (and outside production) the read is made as
    ``local-operator`` in the role ``system``: whoever runs the command on
    the store's machine already holds its files and key. The access log
    records it as such.
    """
    actor_id = os.environ.get("GOALPATH_ACTOR") or None
    role = os.environ.get("GOALPATH_ROLE") or None
    _check_explicit(actor_id, role is not None)
    if actor_id is None:
        return Principal(LOCAL_READER, "system", _asserted_by())
    return Principal(actor_id, role or "therapist", _asserted_by())  # type: ignore[arg-type]


PURPOSE_VARIABLE: Final = "GOALPATH_PURPOSE"
"""The environment variable holding a read command's purpose of use, for the access log."""


def read_purpose() -> str | None:
    """The purpose of use the read commands state (``GOALPATH_PURPOSE``; none when unset)."""
    return os.environ.get(PURPOSE_VARIABLE) or None


def reading(
    app: GoalpathApp,
    read: Read,
    *,
    client_id: str | None = None,
    episode_id: UUID | None = None,
    goal_id: UUID | None = None,
) -> AbstractContextManager[UUID]:
    """Decide a read by :func:`reader`, and log it (``GOALPATH_PURPOSE``) once it has answered.

    :meth:`~goalpath.core.application.GoalpathApp.reading` for the command
    line: a refused read reads nothing; an allowed read that fails in the
    block records nothing.
    """
    return app.reading(
        reader(),
        read,
        client_id=client_id,
        episode_id=episode_id,
        goal_id=goal_id,
        purpose=read_purpose(),
    )


def refusals(function: Callable[P, R]) -> Callable[P, R]:
    """Turn a refused command into its message on stderr and exit status 1.

    With ``--json`` the refusal is also one JSON error document on stdout
    (:func:`error_document`), so a script reads it as it reads an answer.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except GoalpathError as error:
            report_refusal(error, as_json=bool(kwargs.get("as_json")))
            sys.exit(1)

    return wrapper


def _one_line(text: str) -> str:
    return " ".join(text.split("\n"))


def report_refusal(error: GoalpathError, *, as_json: bool) -> None:
    """Print a refusal: one line on stderr, and with ``as_json`` its JSON document on stdout."""
    if as_json:
        click.echo(json.dumps(error_document(error), ensure_ascii=False))
    click.echo(f"goalpath: refused: {_one_line(str(error))}", err=True)


def usage_line(error: click.ClickException) -> str:
    """A usage error as one line, with the command whose ``--help`` explains its usage."""
    context = getattr(error, "ctx", None)
    hint = f" (see '{context.command_path} --help')" if context is not None else ""
    return f"goalpath: usage: {_one_line(error.format_message())}{hint}"


def error_document(error: Exception) -> dict[str, Any]:
    """A refusal as JSON-ready data (:func:`goalpath.exports.documents.error_document`).

    A usage error (``BadParameter``, ``NoSuchOption``…) has the code
    ``invalid-usage`` and, as ``field``, the option or argument at fault
    where it is known; a command stopped before it answered has ``aborted``.
    """
    if isinstance(error, GoalpathError):
        return documents.error_document(error)
    if isinstance(error, click.ClickException):
        param = getattr(error, "param", None)
        field = getattr(param, "name", None) or getattr(error, "param_hint", None)
        if isinstance(field, list | tuple):
            field = " / ".join(str(hint) for hint in field)
        return documents.refusal_document(
            type(error).__name__, "invalid-usage", error.format_message(), field=field
        )
    if isinstance(error, click.Abort):
        return documents.refusal_document("Aborted", "aborted", "aborted")
    return documents.refusal_document(type(error).__name__, "refused", str(error))


def parse_date(value: str | None, name: str = "date") -> date | None:
    """Parse ``YYYY-MM-DD`` (or ``today``) given on the command line."""
    if value is None:
        return None
    if value == "today":
        return datetime.now(UTC).astimezone().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{name} must be YYYY-MM-DD; got {value!r}") from None


def parse_time(value: str | None, name: str = "time") -> datetime | None:
    """Parse an ISO time (``2026-05-01T12:00:00+00:00``); a date alone means its end, locally.

    A time outside the accepted years (:func:`goalpath.core.inputs.check_moment`),
    in its own zone or in UTC, is refused.
    """
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            # Naive on purpose: the local zone is applied once the years are checked.
            moment = datetime(day.year, day.month, day.day, 23, 59, 59, 999999)  # noqa: DTZ001
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{name} must be an ISO date or time such as 2026-05-01 or "
            f"2026-05-01T12:00:00+00:00; got {value!r}"
        ) from None
    # The accepted years are checked before the local zone is applied, which could overflow.
    check_date(name, moment.date())
    return check_moment(name, moment if moment.tzinfo is not None else moment.astimezone())


def emit(document: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(jsonable(document), indent=2, ensure_ascii=False))


def group_of(cli: click.Group, name: str, help_text: str) -> click.Group:
    """The root's sub-group ``name``, made if no module has added it yet.

    Several command modules add commands to one group (``goalpath audit``,
    ``goalpath projections``), whatever the order they register in.
    """
    existing = cli.commands.get(name)
    if isinstance(existing, click.Group):
        return existing
    group = click.Group(name, help=help_text)
    cli.add_command(group)
    return group
