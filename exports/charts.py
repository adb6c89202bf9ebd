"""Charts of a goal's progress: measurements against the expected trajectory.

:func:`text_chart` draws in the terminal with plain characters;
:func:`png_chart` returns PNG bytes drawn by :mod:`goalpath.exports.png`.
Both put time on the x axis (start date to the later of the due date and
the last observation) and the measure on the y axis.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Final

from goalpath.exports.png import Canvas, Colour, encode_png
from goalpath.projections.progress import ProgressReport

__all__ = ["png_chart", "text_chart"]

_AXIS: Final[Colour] = (60, 60, 60)
_TRAJECTORY: Final[Colour] = (40, 110, 200)
_TARGET: Final[Colour] = (40, 160, 80)
_SERIES: Final[Colour] = (150, 150, 150)
_POINT: Final[Colour] = (200, 50, 50)


def _domain(report: ProgressReport) -> tuple[date, date, float, float]:
    points = [(m.observed_on, m.value) for m in report.series if m.value is not None]
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
    points = [(m.observed_on, m.value) for m in report.series if m.value is not None]
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


def png_chart(report: ProgressReport, width: int = 640, height: int = 400) -> bytes:
    """The chart as PNG bytes: blue trajectory, dashed green target, red measurements."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 70, width - 20, 20, height - 40
    first, last, low, high = _domain(report)
    span_days = (last - first).days

    def x_of(day: date) -> int:
        return left + round((day - first).days / span_days * (right - left))

    def y_of(value: float) -> int:
        return top + round((high - value) / (high - low) * (bottom - top))

    canvas.line((left, top), (left, bottom), _AXIS)
    canvas.line((left, bottom), (right, bottom), _AXIS)
    target = report.target
    labelled = (low, high) if target is None else (target.baseline, target.value)
    for value in labelled:
        label = _fmt(value)
        canvas.text((left - 8 - Canvas.text_width(label), y_of(value) - 5), label, _AXIS)
        canvas.line((left - 4, y_of(value)), (left, y_of(value)), _AXIS)
    canvas.text((left, bottom + 12), first.isoformat(), _AXIS)
    end_label = last.isoformat()
    canvas.text((right - Canvas.text_width(end_label), bottom + 12), end_label, _AXIS)
    if report.target is not None:
        target_y = y_of(report.target.value)
        canvas.line((left, target_y), (right, target_y), _TARGET, dash=6)
        start = (x_of(report.start_on), y_of(report.target.baseline))
        end = (x_of(report.target.due_on), target_y)
        for offset in (0, 1):
            canvas.line((start[0], start[1] + offset), (end[0], end[1] + offset), _TRAJECTORY)
    points = [(x_of(m.observed_on), y_of(m.value)) for m in report.series if m.value is not None]
    for a, b in itertools.pairwise(points):
        canvas.line(a, b, _SERIES)
    for point in points:
        canvas.dot(point, 4, _POINT)
    return encode_png(canvas)
