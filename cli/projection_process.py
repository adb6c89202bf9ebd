"""``goalpath projections run``: a process that keeps the read models current as events arrive.

It catches up, then waits for new events (LISTEN/NOTIFY on PostgreSQL, and
polling), stops cleanly on SIGTERM or SIGINT after the batch in hand, and
resumes where it stopped.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import click
from eventsourcing.persistence import PersistenceError

from goalpath.cli.common import AppState, emit, group_of, json_option, open_app, refusals
from goalpath.cli.input_types import tenant_option_value
from goalpath.core.application.goalpath_app import GoalpathApp, engine_of
from goalpath.core.errors import GoalpathError
from goalpath.core.storage.postgres import postgres_conninfo
from goalpath.core.storage.sqlite_files import ErasureIncompleteError
from goalpath.projections import Projections
from goalpath.projections.runner import DEFAULT_BATCH_SIZE

__all__ = ["register"]


# -- the projection process -----------------------------------------------------------

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_RETRY_CEILING_SECONDS = 30.0


class _StopFlag:
    """Set by SIGTERM or SIGINT: the process finishes its batch, then stops."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name: str | None = None
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        for number in _STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, _frame: object) -> None:
        self.signal_name = signal.Signals(number).name
        self.event.set()

    @property
    def is_set(self) -> bool:
        return self.event.is_set()


class _Waker:
    """Waits for new events: LISTEN/NOTIFY on PostgreSQL, plain polling on SQLite.

    Either way it returns after ``poll_seconds`` at the latest (so a missed
    notification costs one poll interval), and soon after a stop signal.
    """

    _SLICE_SECONDS = 0.2

    def __init__(self, app: GoalpathApp, poll_seconds: float, stop: _StopFlag) -> None:
        self.poll_seconds = poll_seconds
        self.stop = stop
        self._connection: Any = None
        channel = getattr(engine_of(app).recorder, "channel_name", None)
        self._listen_to: tuple[str, str] | None = None
        if app.store.kind == "postgres" and channel:
            self._listen_to = (postgres_conninfo(app.store), channel)
            self._listen()

    def _listen(self) -> None:
        """Open the listening connection; on failure, poll until the next attempt."""
        if self._listen_to is None:
            return
        import psycopg  # noqa: PLC0415  # only PostgreSQL stores need it
        from psycopg import sql  # noqa: PLC0415

        conninfo, channel = self._listen_to
        try:
            self._connection = psycopg.connect(conninfo, autocommit=True)
            self._connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except psycopg.Error:
            self.close()  # polling still works; the next wait tries to listen again

    @property
    def mode(self) -> str:
        """How new events are noticed, for the start-up line."""
        return "LISTEN/NOTIFY and polling" if self._connection is not None else "polling"

    def wait(self) -> None:
        """Return when events may have arrived, the poll interval passed, or a stop was asked."""
        if self._connection is None:
            self.stop.event.wait(self.poll_seconds)
            self._listen()  # a listener lost to a server restart or a cut comes back
            return
        deadline = time.monotonic() + self.poll_seconds
        while not self.stop.is_set:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                for _notify in self._connection.notifies(
                    timeout=min(remaining, self._SLICE_SECONDS), stop_after=1
                ):
                    return
            except Exception:  # a lost listener falls back to polling
                self.close()
                self.stop.event.wait(max(remaining, 0))
                return

    def close(self) -> None:
        """Close the listening connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@click.command("run")
@click.option(
    "--tenant",
    default=None,
    callback=tenant_option_value,
    help="The organisation whose read models to keep (default: the root --tenant).",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=0.01),
    default=1.0,
    show_default=True,
    help="Look for new events at least this often (PostgreSQL also wakes on NOTIFY).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    help="Events applied per transaction.",
)
@click.option("--once", is_flag=True, help="Catch up with the log, then exit.")
@json_option
@click.pass_context
@refusals
def projections_run(
    ctx: click.Context,
    /,
    *,
    tenant: str | None,
    poll_seconds: float,
    batch_size: int,
    once: bool,
    as_json: bool,
) -> None:
    """Keep the read models current as events arrive, until SIGTERM or SIGINT.

    Each batch is committed with its position in one transaction, so the
    process can be stopped (or killed) at any moment and resumes where it
    stopped. A stop signal lets the current batch finish, then exits 0.
    Without --json it prints a line at start, per batch and at the stop;
    with --json, one JSON document when it stops.
    """
    if tenant is not None:
        state = ctx.find_object(AppState)
        if state is None:
            state = ctx.ensure_object(AppState)
        state.tenant = tenant
    stop = _StopFlag()
    stop.install()
    try:
        with (
            # The worker may be started before a tenant's first write: it starts the store.
            open_app(ctx, create=True) as app,
            Projections(app, batch_size=batch_size, catch_up_on_read=False) as projections,
        ):
            waker = _Waker(app, poll_seconds, stop)
            try:
                summary = _run_loop(app, projections, waker, stop, once=once, quiet=as_json)
            finally:
                waker.close()
    finally:
        stop.restore()
    if as_json:
        emit(summary)


def _run_loop(
    app: GoalpathApp,
    projections: Projections,
    waker: _Waker,
    stop: _StopFlag,
    *,
    once: bool,
    quiet: bool,
) -> dict[str, Any]:
    runner = projections.runner
    say = (lambda _line: None) if quiet else _say
    start = runner.position()
    say(
        f"projections run: {app.store.description}, position {start} of "
        f"{runner.head()}, batch size {runner.batch_size}, {waker.mode} every "
        f"{waker.poll_seconds:g} s"
    )
    failures = applied = batches = 0
    # An erasure's purge may have been kept from finishing by a reader, here or in an
    # earlier run: try it at start-up and after every failure until it completes.
    purge_pending = True
    while not stop.is_set:
        try:
            if purge_pending:
                projections.store.purge_deleted()
                purge_pending = False
            result = runner.catch_up(limit=runner.batch_size)
        except (GoalpathError, PersistenceError) as error:
            if once:
                raise
            purge_pending = purge_pending or isinstance(error, ErasureIncompleteError)
            failures += 1
            delay = min(waker.poll_seconds * 2**failures, _RETRY_CEILING_SECONDS)
            click.echo(f"goalpath: projections: {error}; trying again in {delay:g} s", err=True)
            stop.event.wait(delay)
            continue
        failures = 0
        if result.applied:
            applied += result.applied
            batches += result.batches
            say(f"applied {result.applied} events, position {result.position}")
        if result.applied >= runner.batch_size:
            continue  # more may be waiting: no pause between full batches
        if once:
            break
        waker.wait()
    position = runner.position()
    reason = f" ({stop.signal_name})" if stop.signal_name else ""
    say(f"stopped at position {position}{reason}")
    return {
        "store": app.store.description,
        "start_position": start,
        "position": position,
        "applied": applied,
        "batches": batches,
        "stopped_by": stop.signal_name,
    }


def _say(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def register(cli: click.Group) -> None:
    """Add ``goalpath projections run`` to the ``projections`` group."""
    group_of(
        cli, "projections", "The read models: where they stand, and rebuilding them."
    ).add_command(projections_run)
