"""Read-model commands: plan, progress, reviews, audit log, outcomes, projections.

``plan show``, ``progress``, ``reviews due``, ``audit log``, ``outcomes`` and
``projections status|rebuild|run`` (``run`` is the long-running projection
process that keeps the read models current as events arrive).

Each opens the read models beside the store (:class:`~goalpath.projections.Projections`),
which catch up with the events first, so what was just recorded is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import click
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from goalpath.cli.common import (
    as_of_option,
    console,
    effective_on_option,
    emit,
    group_of,
    json_option,
    open_app,
    parse_date,
    parse_time,
    reading,
    refusals,
)
from goalpath.cli.input_types import IDENTITY
from goalpath.cli.read_model_render import render_outcomes, render_plan, render_progress
from goalpath.cli.record_ids import EPISODE_ID, GOAL_ID
from goalpath.core.values import jsonable
from goalpath.exports.charts import png_chart
from goalpath.exports.documents import (
    audit_document,
    outcomes_document,
    plan_document,
    progress_document,
    review_document,
    status_document,
)
from goalpath.projections import (
    Projections,
)
from goalpath.projections.runner import CatchUpResult

__all__ = ["register"]


@contextmanager
def _projections(ctx: click.Context) -> Iterator[Projections]:
    with open_app(ctx) as app, Projections(app) as projections:
        yield projections


# -- documents --------------------------------------------------------------------


@click.group("plan")
def plan_group() -> None:
    """The current plan of a client or an episode, with plan warnings."""


@plan_group.command("show")
@click.argument("client_id", type=IDENTITY, required=False)
@click.option("--episode", "episode_id", type=EPISODE_ID, help="Show this episode's plan.")
@as_of_option("the plan")
@effective_on_option("the plan")
@json_option
@click.pass_context
@refusals
def plan_show(
    ctx: click.Context,
    /,
    *,
    client_id: str | None,
    episode_id: UUID | None,
    as_of: str | None,
    effective_on: str | None,
    as_json: bool,
) -> None:
    """Show the plan of CLIENT (every episode) or of one --episode.

    Now; or as recorded by --as-of (what the store knew then); or as in force
    on --effective-on (by the goals' start dates and the measurements' and
    reviews' own dates, including what was entered later).
    """
    if (client_id is None) == (episode_id is None):
        raise click.UsageError("give a CLIENT id or --episode ID (one of them)")
    times: dict[str, Any] = {
        "as_of": parse_time(as_of, "--as-of"),
        "effective_on": parse_date(effective_on, "--effective-on"),
    }
    with (
        _projections(ctx) as projections,
        reading(projections.app, "plan", client_id=client_id, episode_id=episode_id),
    ):
        if episode_id is not None:
            plans = [projections.plan_for_episode(episode_id, **times)]
        else:
            assert client_id is not None  # noqa: S101  # checked above
            plans = projections.plan_for_client(client_id, **times)
    if as_json:
        if episode_id is not None:
            emit(plan_document(plans[0]))
        else:
            emit({"client_id": client_id, "plans": [plan_document(plan) for plan in plans]})
        return
    out = console()
    if not plans:
        when = " and ".join(
            f"{name} {value}"
            for name, value in (("recorded by", as_of), ("in effect on", effective_on))
            if value is not None
        )
        out.print(f"no episode of {client_id} had opened ({when})")
    for plan in plans:
        render_plan(out, plan)


@click.command("progress")
@click.argument("goal_id", type=GOAL_ID)
@click.option("--png", "png_path", metavar="FILE", help="Also save the chart as a PNG image.")
@as_of_option("the goal's progress")
@effective_on_option("the goal's progress")
@json_option
@click.pass_context
@refusals
def progress(
    ctx: click.Context,
    /,
    *,
    goal_id: UUID,
    png_path: str | None,
    as_of: str | None,
    effective_on: str | None,
    as_json: bool,
) -> None:
    """Show a goal's progress against its expected trajectory, with a chart.

    Now; or as recorded by --as-of; or with the measurements observed by
    --effective-on, assessed on that day.
    """
    path = None if png_path is None else Path(png_path)
    if path is not None and (path.is_dir() or not path.parent.exists()):
        raise click.BadParameter(
            f"{png_path} is not a file path in an existing folder", param_hint="--png"
        )
    with (
        _projections(ctx) as projections,
        reading(projections.app, "progress", goal_id=goal_id),
    ):
        report = projections.progress(
            goal_id,
            as_of=parse_time(as_of, "--as-of"),
            effective_on=parse_date(effective_on, "--effective-on"),
        )
    if path is not None:
        path.write_bytes(png_chart(report))
    if as_json:
        document = progress_document(report)
        document["png"] = png_path
        emit(document)
        return
    render_progress(console(), report)
    if png_path is not None:
        click.echo(f"chart saved to {png_path}")


@click.group("reviews")
def reviews_group() -> None:
    """The review queue."""


@reviews_group.command("due")
@click.option("--therapist", "therapist_id", type=IDENTITY, help="Only this therapist's episodes.")
@click.option(
    "--within",
    "within_days",
    type=click.IntRange(0, 365),
    default=7,
    show_default=True,
    help="Also list reviews falling due within this many days.",
)
@json_option
@click.pass_context
@refusals
def reviews_due(
    ctx: click.Context, /, therapist_id: str | None, within_days: int, as_json: bool
) -> None:
    """List goal reviews that are overdue or due soon, the most overdue first."""
    with _projections(ctx) as projections:
        today = projections.app.today()
        queue = projections.reviews_due(therapist_id, within_days=within_days)
    if as_json:
        emit(
            {
                "today": today.isoformat(),
                "therapist_id": therapist_id,
                "reviews": [review_document(item) for item in queue],
            }
        )
        return
    table = Table(title=f"reviews due on {today.isoformat()}")
    for column in ("state", "due", "since", "goal", "client", "therapists", "statement"):
        table.add_column(column)
    for item in queue:
        since = (
            f"{item.days_overdue} days overdue"
            if item.days_overdue > 0
            else ("today" if item.days_overdue == 0 else f"in {-item.days_overdue} days")
        )
        table.add_row(
            Text(item.state, style="red" if item.state == "overdue" else "yellow"),
            item.due_on.isoformat(),
            since,
            str(item.goal_id)[:8],
            item.client_id,
            ", ".join(item.therapist_ids),
            item.statement,
        )
    out = console()
    if queue:
        out.print(table)
    else:
        out.print("no reviews due")


@click.command("log")
@click.option("--actor", "actor_id", type=IDENTITY, help="Only changes made by this actor.")
@click.option("--client", "client_id", type=IDENTITY, help="Only this client's goals and episodes.")
@click.option("--goal", "goal_id", type=GOAL_ID, help="Only this goal.")
@click.option("--episode", "episode_id", type=EPISODE_ID, help="Only this episode.")
@click.option("--since", metavar="TIME", help="Recorded at or after (ISO date or time).")
@click.option("--until", metavar="TIME", help="Recorded at or before (a date means its end).")
@click.option("--limit", type=click.IntRange(1), help="At most this many rows.")
@json_option
@click.pass_context
@refusals
def audit_log(  # noqa: PLR0917  # one parameter per filter
    ctx: click.Context,
    /,
    actor_id: str | None,
    client_id: str | None,
    goal_id: UUID | None,
    episode_id: UUID | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """The audit log: one row per event, with actor, what changed (before → after) and why."""
    since_time = _start_of(since)
    until_time = parse_time(until, "--until")
    with _projections(ctx) as projections:
        entries = projections.audit_log(
            actor_id=actor_id,
            client_id=client_id,
            goal_id=goal_id,
            episode_id=episode_id,
            since=since_time,
            until=until_time,
            limit=limit,
        )
    if as_json:
        emit({"entries": [audit_document(entry) for entry in entries]})
        return
    table = Table(title="audit log")
    for column in ("#", "recorded", "event", "goal/episode", "actor", "changes", "reason"):
        table.add_column(column, no_wrap=column in ("#", "event"))
    for entry in entries:
        changes = "; ".join(
            f"{change.field}: {_short(change.before)} → {_short(change.after)}"
            if change.before is not None
            else f"{change.field}: {_short(change.after)}"
            for change in entry.changes
        )
        table.add_row(
            str(entry.position),
            entry.recorded_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            entry.event_type,
            f"{entry.stream_type} {str(entry.stream_id)[:8]} v{entry.version}",
            f"{entry.actor_id} ({entry.actor_role})",
            changes,
            entry.reason or "",
        )
    console().print(table)


def _start_of(value: str | None) -> Any:
    """``--since`` takes a date as its start (``parse_time`` reads a date as its end)."""
    if value is not None and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parse_time(f"{day.isoformat()}T00:00:00", "--since")
    return parse_time(value, "--since")


def _short(value: Any, width: int = 48) -> str:
    if isinstance(value, dict):
        text = ", ".join(f"{key} {item}" for key, item in value.items() if item is not None)
    elif isinstance(value, list):
        text = "; ".join(str(item) for item in value) or "none"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command("outcomes")
@click.option("--therapist", "therapist_id", type=IDENTITY, help="Only this therapist's episodes.")
@json_option
@click.pass_context
@refusals
def outcomes(ctx: click.Context, /, therapist_id: str | None, as_json: bool) -> None:
    """Caseload outcomes by the NHS Talking Therapies paired rule, per therapist.

    Episodes are classified on paired PHQ-9 and anxiety (GAD-7 or an
    anxiety-disorder-specific measure) scores across all their goals: recovery,
    reliable improvement, reliable deterioration; rates over finished courses.
    """
    with _projections(ctx) as projections:
        result = projections.caseload_outcomes(therapist_id)
    if as_json:
        emit(outcomes_document(result))
        return
    render_outcomes(console(), result, overall=therapist_id is None)


@click.group("projections")
def projections_group() -> None:
    """The read models: where they stand, rebuilding them, keeping them current."""


@projections_group.command("status")
@json_option
@click.pass_context
@refusals
def projections_status(ctx: click.Context, /, as_json: bool) -> None:
    """Show the read models' position against the event log (without catching up)."""
    with _projections(ctx) as projections:
        status = projections.status()
    if as_json:
        emit(status_document(status))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("store", status.store)
    table.add_row("position", str(status.position))
    table.add_row("head of log", str(status.head))
    table.add_row("behind by", str(status.lag))
    for name, count in status.rows.items():
        table.add_row(name, f"{count} rows")
    console().print(Panel(table, title="projections", expand=False))


@projections_group.command("rebuild")
@json_option
@click.pass_context
@refusals
def projections_rebuild(ctx: click.Context, /, as_json: bool) -> None:
    """Empty the read models and apply every event again, in batches."""
    with _projections(ctx) as projections:
        result = projections.rebuild() if as_json else _rebuild_with_bar(projections)
        status = projections.status()
    if as_json:
        emit({"applied": result.applied, "batches": result.batches, **status_document(status)})
        return
    click.echo(f"rebuilt: {result.applied} events in {result.batches} batches")


@projections_group.command("verify")
@json_option
@click.pass_context
@refusals
def projections_verify(ctx: click.Context, /, as_json: bool) -> None:
    """Compare the read models with a rebuild from the events; exit 1 on any difference.

    Reports every row that differs and a tracking position past the log's
    end. Nothing is changed (the rebuild is made in memory).
    """
    with _projections(ctx) as projections:
        check = projections.verify()
    if as_json:
        emit({**jsonable(check), "passed": check.passed})
    else:
        click.echo(
            f"read models at position {check.position} of {check.head}, "
            f"{check.rows_checked} rows: "
            + ("equal to a rebuild" if check.passed else f"{len(check.problems)} problem(s)")
        )
        for problem in check.problems:
            click.echo(f"  {problem}")
    if not check.passed:
        ctx.exit(1)


def _rebuild_with_bar(projections: Projections) -> CatchUpResult:
    with Progress(
        TextColumn("rebuilding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(),
        transient=False,
    ) as bar:
        task = bar.add_task("rebuild", total=max(projections.runner.head(), 1))

        def advance(position: int, head: int) -> None:
            bar.update(task, completed=position, total=max(head, 1))

        return projections.rebuild(advance)


def register(cli: click.Group) -> None:
    """Add the read-model commands to the root group.

    ``goalpath audit`` may already exist (``verify``, ``export``): ``log`` joins it.
    """
    cli.add_command(plan_group)
    cli.add_command(progress)
    cli.add_command(reviews_group)
    cli.add_command(outcomes)
    cli.add_command(projections_group)
    group_of(cli, "audit", "The audit trail of every goal and episode.").add_command(audit_log)
