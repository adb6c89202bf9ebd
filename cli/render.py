"""How goals, episodes, SMART reports and histories look on the terminal and in JSON."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.core.history import HistoryEntry
from goalpath.core.smart import SmartReport
from goalpath.core.values import Measurement

__all__ = [
    "history_table",
    "measurement_chart",
    "measurements_table",
    "render_episode",
    "render_goal",
    "smart_table",
]

_STATUS_STYLE = {
    "proposed": "yellow",
    "active": "green",
    "on-hold": "magenta",
    "completed": "cyan",
    "cancelled": "dim",
    "entered-in-error": "red",
}


def smart_table(report: SmartReport, title: str = "SMART") -> Table:
    """A table with one row per SMART letter."""
    table = Table(title=title, show_lines=False)
    table.add_column("letter")
    table.add_column("verdict")
    table.add_column("reason")
    table.add_column("suggestion")
    for verdict in report.verdicts:
        table.add_row(
            verdict.letter,
            Text("pass", style="green") if verdict.passed else Text("fail", style="red"),
            verdict.reason,
            verdict.suggestion or "",
        )
    return table


def measurement_chart(goal: Goal, width: int = 42, height: int = 8) -> str:
    """A small text chart of a goal's recent valid measurements, with its target line.

    Each column is one measurement, in the order they were observed (oldest
    left, a backdated one in its place); ``●`` marks a value and ``┄`` the
    target. Returns an empty string when there is nothing to draw.
    """
    values = [m.value for m in goal.recent_measurements if m.value is not None]
    target = goal.definition.target
    if not values:
        return ""
    points = list(values)
    reference = [target.baseline, target.value] if target else []
    low = min(points + reference)
    high = max(points + reference)
    if high == low:
        high = low + 1
    columns = min(len(points), width)
    points = points[-columns:]

    def row_of(value: float) -> int:
        return round((high - value) / (high - low) * (height - 1))

    grid = [[" "] * (columns * 3) for _ in range(height)]
    if target is not None:
        target_row = row_of(target.value)
        for column in range(columns * 3):
            grid[target_row][column] = "┄"
    for index, value in enumerate(points):
        grid[row_of(value)][index * 3 + 1] = "●"
    labels = [f"{high - (high - low) * row / (height - 1):>6.1f} │" for row in range(height)]
    lines = [label + "".join(cells) for label, cells in zip(labels, grid, strict=True)]
    lines.append(" " * 7 + "└" + "─" * (columns * 3))
    unit = goal.definition.measure.unit if goal.definition.measure else ""
    legend = f"        ● {goal.definition.measure.name if goal.definition.measure else 'value'}"
    if target is not None:
        legend += f" ({unit})   ┄ target {target.value:g} by {target.due_on.isoformat()}"
    lines.append(legend)
    return "\n".join(lines)


def _measurement_cell(measurement: Measurement | None) -> str:
    if measurement is None or measurement.value is None:
        return "none yet"
    return f"{measurement.value:g} on {measurement.observed_on.isoformat()}"


def render_goal(console: Console, goal: Goal, *, chart: bool = True) -> None:
    """Print a goal: definition, status, SMART summary, latest measurement, reviews, chart."""
    definition = goal.definition
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("goal", str(goal.id))
    table.add_row("status", Text(goal.status, style=_STATUS_STYLE.get(goal.status, "")))
    table.add_row("statement", definition.statement)
    if definition.measure is not None:
        measure = definition.measure
        instrument = f" [{measure.instrument}]" if measure.instrument else ""
        table.add_row(
            "measure", f"{measure.name} ({measure.unit}, {measure.direction}){instrument}"
        )
    if definition.target is not None:
        target = definition.target
        table.add_row(
            "target",
            f"from {target.baseline:g} to {target.value:g} by {target.due_on.isoformat()}",
        )
    table.add_row("started", definition.start_on.isoformat())
    table.add_row("focus", definition.effective_focus)
    if definition.practices:
        table.add_row("practices", "; ".join(definition.practices))
    table.add_row("SMART", goal.smart.summary())
    table.add_row("latest", _measurement_cell(goal.latest_measurement))
    if goal.reviews:
        review = goal.reviews[-1]
        attainment = f", GAS {review.attainment:+d}" if review.attainment is not None else ""
        table.add_row(
            "last review",
            f"{review.reviewed_on.isoformat()}: {review.achievement}, {review.decision}"
            f"{attainment}",
        )
    if goal.next_review_due is not None:
        table.add_row("review due", goal.next_review_due.isoformat())
    if goal.template_id:
        table.add_row("template", f"{goal.template_id} {goal.template_version}")
    table.add_row("version", str(goal.version))
    parts: list[Any] = [table]
    if goal.measurement_count:
        parts.append(
            measurements_table(
                goal.recent_measurements,
                f"latest {len(goal.recent_measurements)} valid of "
                f"{goal.measurement_count} measurements (all: goal measurements GOAL; "
                "correct one with: goal correct GOAL N)",
            )
        )
    if chart:
        drawn = measurement_chart(goal)
        if drawn:
            parts.append(Text("\n" + drawn))
    console.print(Panel(Group(*parts), title=f"goal {str(goal.id)[:8]}", expand=False))


def measurements_table(measurements: Sequence[Measurement], title: str) -> Table:
    """Measurements with their numbers, which ``goal correct GOAL N`` takes."""
    table = Table(title=title, title_justify="left")
    table.add_column("N", justify="right", no_wrap=True)
    table.add_column("observed", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for measurement in measurements:
        value = "-" if measurement.value is None else f"{measurement.value:g}"
        status: str = measurement.status
        if measurement.status == "amended" and measurement.original_value is not None:
            status = f"amended (was {measurement.original_value:g})"
        table.add_row(str(measurement.sequence), measurement.observed_on.isoformat(), value, status)
    return table


def render_episode(console: Console, episode: Episode, goals: list[Goal]) -> None:
    """Print an episode with its sessions and goals."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("episode", str(episode.id))
    table.add_row("client", episode.client_id)
    table.add_row("therapists", ", ".join(episode.therapist_ids))
    table.add_row("concerns", "; ".join(episode.concerns) or "none recorded")
    table.add_row("opened", episode.opened_on.isoformat())
    if episode.closed_on is not None:
        table.add_row("closed", f"{episode.closed_on.isoformat()} ({episode.close_reason})")
    table.add_row(
        "sessions", f"{len(episode.sessions)} recorded, {episode.sessions_attended} attended"
    )
    goal_table = Table(title="goals")
    goal_table.add_column("goal")
    goal_table.add_column("status")
    goal_table.add_column("SMART")
    goal_table.add_column("statement")
    for goal in goals:
        goal_table.add_row(
            str(goal.id)[:8],
            Text(goal.status, style=_STATUS_STYLE.get(goal.status, "")),
            goal.smart.summary(),
            goal.definition.statement,
        )
    console.print(Panel(Group(table, goal_table), title="episode", expand=False))


def _short(value: Any, limit: int = 60) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(entry: HistoryEntry, field: str) -> bool:
    """The first event sets every field; the table shows its statement, status and template."""
    return entry.version > 1 or field in (
        "definition.statement",
        "status",
        "template_id",
        "template_version",
    )


def _label(field: str) -> str:
    label = field.removeprefix("definition.")
    return re.sub(r"^(measurement|review|session)s\[(\d+)\]\.", r"\1 \2 ", label)


def history_table(entries: list[HistoryEntry]) -> Table:
    """A table of a stream's history: version, time, event, actor, reason, what changed."""
    table = Table(title="history", expand=True)
    table.add_column("v", justify="right", no_wrap=True)
    table.add_column("event / recorded", no_wrap=True)
    table.add_column("actor", max_width=14)
    table.add_column("reason and changes (before → after)", ratio=1, min_width=30)
    for entry in entries:
        lines = [f"reason: {entry.reason}"] if entry.reason else []
        lines.extend(
            f"{_label(change.field)}: {_short(change.before, 24)} → {_short(change.after, 48)}"
            for change in entry.changes
            if _shown(entry, change.field)
        )
        table.add_row(
            str(entry.version),
            f"{entry.event_type}\n{entry.recorded_at.astimezone().strftime('%Y-%m-%d %H:%M')}",
            f"{entry.actor_id}\n({entry.actor_role})" if entry.actor_id else "",
            "\n".join(lines),
        )
    return table
