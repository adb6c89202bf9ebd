"""Charts of a goal's progress: measurements against the expected trajectory.

:func:`text_chart` draws in the terminal with plain characters;
:func:`chart_figure` draws a matplotlib figure a clinician can show a client
(title, dated time axis, the measure and its unit, legend, target and
expected trajectory), and :func:`png_chart` its PNG bytes. Both put time on
the x axis (start date to the later of the due date and the last
observation) and the measure on the y axis, measurements in the order they
were observed, whatever order they were recorded in.

matplotlib draws through its Agg canvas on a :class:`~matplotlib.figure.Figure`
of its own, never through ``pyplot``: no window, no global state, safe in a
server's threads. It was chosen as the plotting library most clinical and
scientific Python users know, with a fixed non-interactive backend.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Final

import matplotlib.dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from goalpath.core.errors import InvalidValueError
from goalpath.projections.progress import ProgressReport
from goalpath.projections.records import MeasurementRecord

__all__ = ["NothingToChartError", "chart_figure", "png_chart", "text_chart"]

_TRAJECTORY: Final = "#2870c8"
_TARGET: Final = "#28a050"
_SERIES: Final = "#c83232"
_SIZE_INCHES: Final = (6.4, 4.0)
_DPI: Final = 100


class NothingToChartError(InvalidValueError):
    """A goal without a measure, or with neither measurements nor a target, has no chart."""


def _observed(report: ProgressReport) -> list[tuple[date, float]]:
    """The measurements that have a value, in the order they were observed."""
    points: list[MeasurementRecord] = sorted(
        (m for m in report.series if m.value is not None), key=lambda m: m.observed_on
    )
    return [(m.observed_on, m.value) for m in points if m.value is not None]


def _domain(report: ProgressReport) -> tuple[date, date, float, float]:
    points = _observed(report)
    days = [report.start_on, *(day for day, _ in points)]
    values = [value for _, value in points]
    if report.target is not None:
        days.append(report.target.due_on)
        values += [report.target.baseline, report.target.value]
    first, last = min(days), max(days)
    if last == first:
        last = first + timedelta(days=1)
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        high = low + 1
    margin = (high - low) * 0.05
    return first, last, low - margin, high + margin


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def text_chart(report: ProgressReport, width: int = 56, height: int = 12) -> str:
    """A chart in plain characters: ``●`` measurements, ``·`` expected trajectory, ``┄`` target.

    Returns an empty string when there is nothing to draw.
    """
    points = _observed(report)
    if not points and report.target is None:
        return ""
    first, last, low, high = _domain(report)
    span_days = (last - first).days

    def column(day: date) -> int:
        return round((day - first).days / span_days * (width - 1))

    def row(value: float) -> int:
        return round((high - value) / (high - low) * (height - 1))

    grid = [[" "] * width for _ in range(height)]
    if report.target is not None:
        target_row = row(report.target.value)
        for x in range(width):
            grid[target_row][x] = "┄"
        start, end = report.start_on, report.target.due_on
        for x in range(column(start), column(end) + 1):
            fraction = (x - column(start)) / max(column(end) - column(start), 1)
            value = (
                report.target.baseline + (report.target.value - report.target.baseline) * fraction
            )
            grid[row(value)][x] = "·"
    for day, value in points:
        grid[row(value)][column(day)] = "●"
    labels = [f"{_fmt(high - (high - low) * r / (height - 1)):>7} │" for r in range(height)]
    lines = [label + "".join(cells) for label, cells in zip(labels, grid, strict=True)]
    lines.append(" " * 8 + "└" + "─" * width)
    left, right = first.isoformat(), last.isoformat()
    lines.append(" " * 9 + left + " " * max(width - len(left) - len(right), 1) + right)
    legend = "         ● measurement   · expected trajectory"
    if report.target is not None:
        legend += f"   ┄ target {_fmt(report.target.value)}"
    lines.append(legend)
    return "\n".join(lines)


def chart_figure(report: ProgressReport) -> Figure:
    """The progress chart as a matplotlib figure: measurements, trajectory and target, dated.

    Raises:
        NothingToChartError: the goal has no measure, or neither a measurement
            nor a target to draw.
    """
    measure = report.measure
    points = _observed(report)
    if measure is None:
        raise NothingToChartError(
            f"goal {report.goal_id} has no measure yet, so there is nothing to chart; "
            "refine it with a measure first"
        )
    if not points and report.target is None:
        raise NothingToChartError(
            f"goal {report.goal_id} has no measurement and no target yet; nothing to chart"
        )
    first, last, low, high = _domain(report)
    figure = Figure(figsize=_SIZE_INCHES, dpi=_DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(_title(report.statement), fontsize=10)
    axes.set_xlabel("date observed")
    axes.set_ylabel(f"{measure.name} ({measure.unit})")
    if report.target is not None:
        target = report.target
        axes.axhline(
            target.value,
            color=_TARGET,
            linestyle="--",
            label=f"target {_fmt(target.value)} by {target.due_on.isoformat()}",
        )
        axes.plot(
            [_x(report.start_on), _x(target.due_on)],
            [target.baseline, target.value],
            color=_TRAJECTORY,
            label="expected trajectory",
        )
    if points:
        axes.plot(
            [_x(day) for day, _ in points],
            [value for _, value in points],
            color=_SERIES,
            marker="o",
            label="measurements",
        )
    axes.set_xlim(_x(first), _x(last))
    axes.set_ylim(low, high)
    # matplotlib's date locator and formatter carry no type annotations.
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8)
    return figure


def _x(day: date) -> float:
    """A date as matplotlib's date number, for its date axis."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]  # not annotated


def _title(statement: str, limit: int = 70) -> str:
    return statement if len(statement) <= limit else statement[: limit - 1] + "…"


def png_chart(report: ProgressReport) -> bytes:
    """The progress chart (:func:`chart_figure`) as PNG bytes, 640 by 400 pixels."""
    figure = chart_figure(report)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)  # type: ignore[no-untyped-call]  # not annotated
    return buffer.getvalue()
