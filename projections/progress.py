"""Progress of one goal: where it is between baseline and target, and whether it is on track.

Rules (explainable, so a clinician can check them):

- percentage: how far the latest valid value has moved from the baseline
  towards the target (0 at the baseline, 100 at the target; below 0 is a
  move away, above 100 beyond the target);
- trend: the least-squares slope of the valid values against time, per week;
- expected trajectory: a straight line from the baseline at the start date
  to the target at the due date;
- status at the latest observation: ``achieved`` when the target is reached;
  ``on-track`` when no more than :data:`ON_TRACK_TOLERANCE` of the
  baseline-to-target distance behind the expected trajectory; ``at-risk``
  when behind by up to :data:`AT_RISK_TOLERANCE`, or further behind while
  the trend, continued, still reaches the target by the due date;
  ``off-track`` otherwise (and always once the due date has passed
  without reaching the target); ``not-assessable`` without a target or a
  valid measurement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final, Literal
from uuid import UUID

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.core.values import Measure, Target
from goalpath.projections.outcomes import (
    Conventions,
    OutcomeClassification,
    classify_change,
    conventions_or_installed,
)
from goalpath.projections.records import GoalRecord, MeasurementRecord

__all__ = [
    "AT_RISK_TOLERANCE",
    "ON_TRACK_TOLERANCE",
    "ProgressReport",
    "ProgressStatus",
    "assess_progress",
    "expected_value",
    "percent_of_way",
    "slope_per_week",
]

ProgressStatus = Literal["achieved", "on-track", "at-risk", "off-track", "not-assessable"]

ON_TRACK_TOLERANCE: Final = 0.10
"""Behind the expected trajectory by at most this share of the baseline-to-target distance."""

AT_RISK_TOLERANCE: Final = 0.25
"""Behind by at most this share is at risk rather than off track."""


def percent_of_way(measure: Measure, target: Target, value: float) -> float:
    """Return how far ``value`` is from the baseline towards the target, in percent."""
    span = measure.improvement(target.baseline, target.value)
    if span == 0:
        return 100.0 if value == target.value else 0.0
    return 100.0 * measure.improvement(target.baseline, value) / span


def expected_value(start_on: date, target: Target, on: date) -> float:
    """The expected trajectory's value on a date: baseline at the start, target at the due date."""
    total = (target.due_on - start_on).days
    elapsed = min(max((on - start_on).days, 0), total)
    return target.baseline + (target.value - target.baseline) * elapsed / total


def slope_per_week(points: Sequence[tuple[date, float]]) -> float | None:
    """The least-squares slope of values against time, in units per week.

    ``None`` with fewer than two distinct dates.
    """
    if len({day for day, _ in points}) < 2:
        return None
    origin = points[0][0]
    xs = [(day - origin).days / 7 for day, _ in points]
    ys = [value for _, value in points]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


@attrs.frozen
class ProgressReport:
    """Progress of one goal, as of ``as_of``."""

    goal_id: UUID
    statement: str
    measure: Measure | None
    target: Target | None
    start_on: date
    as_of: date
    series: tuple[MeasurementRecord, ...]
    latest_value: float | None
    latest_on: date | None
    percent: float | None
    trend_per_week: float | None
    expected_at_latest: float | None
    status: ProgressStatus
    reason: str
    outcome: OutcomeClassification | None

    @property
    def trajectory(self) -> tuple[tuple[date, float], tuple[date, float]] | None:
        """The expected trajectory's two ends: (start, baseline) and (due date, target)."""
        if self.target is None:
            return None
        return ((self.start_on, self.target.baseline), (self.target.due_on, self.target.value))


def _status(
    *,
    measure: Measure,
    target: Target,
    start_on: date,
    latest: MeasurementRecord,
    trend: float | None,
    as_of: date,
) -> tuple[ProgressStatus, str, float]:
    assert latest.value is not None  # noqa: S101  # only valid measurements are assessed
    value = latest.value
    expected = expected_value(start_on, target, latest.observed_on)
    if measure.improvement(value, target.value) <= 0:
        return "achieved", f"{value:g} reaches the target {target.value:g}", expected
    span = abs(target.value - target.baseline)
    behind = -measure.improvement(expected, value)
    share = behind / span if span else 0.0
    if as_of >= target.due_on:
        return (
            "off-track",
            (
                f"the due date {target.due_on.isoformat()} has passed at {value:g}, "
                f"short of the target {target.value:g}"
            ),
            expected,
        )
    if share <= ON_TRACK_TOLERANCE:
        return "on-track", f"{value:g} is at or near the expected {expected:.3g}", expected
    if share <= AT_RISK_TOLERANCE:
        return "at-risk", f"{value:g} is behind the expected {expected:.3g}", expected
    if trend is not None:
        weeks_left = (target.due_on - latest.observed_on).days / 7
        projected = value + trend * weeks_left
        if measure.improvement(projected, target.value) <= 0:
            return (
                "at-risk",
                (
                    f"{value:g} is well behind the expected {expected:.3g}, but the trend of "
                    f"{trend:+.3g} a week would reach the target by the due date"
                ),
                expected,
            )
    return "off-track", f"{value:g} is well behind the expected {expected:.3g}", expected


def assess_progress(
    goal: GoalRecord, as_of: date, conventions: Conventions | None = None
) -> ProgressReport:
    """Assess a goal's progress from its valid measurements.

    ``conventions`` (the standardised instruments, for reliable change and caseness)
    defaults to the installed plugins'.
    """
    definition = goal.definition
    series = tuple(goal.valid_measurements)
    measure, target = definition.measure, definition.target
    latest = series[-1] if series else None
    points = [(m.observed_on, m.value) for m in series if m.value is not None]
    trend = slope_per_week(points)
    percent: float | None = None
    expected: float | None = None
    status: ProgressStatus = "not-assessable"
    if target is None or measure is None:
        reason = "the goal has no measure and target yet"
    elif latest is None or latest.value is None:
        reason = "no valid measurement yet"
    else:
        percent = percent_of_way(measure, target, latest.value)
        status, reason, expected = _status(
            measure=measure,
            target=target,
            start_on=definition.start_on,
            latest=latest,
            trend=trend,
            as_of=as_of,
        )
    outcome: OutcomeClassification | None = None
    instrument = measure.instrument.lower() if measure and measure.instrument else None
    table = conventions_or_installed(conventions)
    if instrument is not None and instrument in table and len(points) >= 2:
        try:
            outcome = classify_change(instrument, points[0][1], points[-1][1], table)
        except InvalidValueError:
            outcome = None  # the goal's own range allows scores the instrument does not
    return ProgressReport(
        goal_id=goal.goal_id,
        statement=definition.statement,
        measure=measure,
        target=target,
        start_on=definition.start_on,
        as_of=as_of,
        series=series,
        latest_value=latest.value if latest else None,
        latest_on=latest.observed_on if latest else None,
        percent=percent,
        trend_per_week=trend,
        expected_at_latest=expected,
        status=status,
        reason=reason,
        outcome=outcome,
    )
