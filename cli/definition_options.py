"""Command-line options that describe a goal (statement, measure, target...), shared by commands."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, ParamSpec, TypeVar

import click

from goalpath.core.values import (
    DIRECTIONS,
    FOCUSES,
    GOAL_AREAS,
    PRIORITIES,
    Measure,
    Target,
)

__all__ = ["definition_options", "measure_from_options", "target_from_options"]

P = ParamSpec("P")
R = TypeVar("R")


def definition_options(function: Callable[P, R]) -> Callable[P, R]:
    """Add the options that define a goal's measure, target, area and practices."""
    options = [
        click.option("--measure", "measure_name", help="What is measured (e.g. 'panic attacks')."),
        click.option("--unit", help="Unit of the measure (e.g. 'per week', 'points')."),
        click.option(
            "--direction",
            type=click.Choice(DIRECTIONS),
            help="Whether improvement means the value goes up or down.",
        ),
        click.option("--instrument", help="Standardised instrument code (e.g. phq-9)."),
        click.option("--min", "minimum", type=float, help="Lowest accepted value."),
        click.option("--max", "maximum", type=float, help="Highest accepted value."),
        click.option("--baseline", type=float, help="Where the client is now."),
        click.option("--target", "target_value", type=float, help="Where the client aims to be."),
        click.option("--due", metavar="DATE", help="Due date (YYYY-MM-DD)."),
        click.option("--weeks", type=int, help="Due this many weeks after the start."),
        click.option("--area", type=click.Choice(GOAL_AREAS), help="Primary goal area."),
        click.option("--focus", type=click.Choice(FOCUSES), help="Symptom reduction or strength."),
        click.option("--practice", "practices", multiple=True, help="A practice (repeatable)."),
        click.option("--priority", type=click.Choice(PRIORITIES), help="FHIR goal priority."),
        click.option("--review-every", "review_every_days", type=int, help="Review cadence, days."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def measure_from_options(options: dict[str, Any]) -> Measure | None:
    """Build a Measure from ``--measure/--unit/--direction...``, or ``None`` if none was given."""
    names = ("measure_name", "unit", "direction", "instrument", "minimum", "maximum")
    if all(options.get(name) is None for name in names):
        return None
    missing = [
        f"--{flag}"
        for flag, name in (
            ("measure", "measure_name"),
            ("unit", "unit"),
            ("direction", "direction"),
        )
        if options.get(name) is None
    ]
    if missing:
        raise click.UsageError(
            f"a measure needs --measure, --unit and --direction; missing {', '.join(missing)}"
        )
    return Measure(
        name=options["measure_name"],
        unit=options["unit"],
        direction=options["direction"],
        instrument=options.get("instrument"),
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
    )


def due_from_options(options: dict[str, Any], start_on: date) -> date | None:
    """The due date from ``--due`` or ``--weeks`` (not both)."""
    due, weeks = options.get("due"), options.get("weeks")
    if due is not None and weeks is not None:
        raise click.UsageError("give --due or --weeks, not both")
    if weeks is not None:
        try:
            return start_on + timedelta(weeks=weeks)
        except OverflowError:
            raise click.BadParameter(f"--weeks {weeks} is beyond the calendar") from None
    if due is not None:
        try:
            return date.fromisoformat(due)
        except ValueError:
            raise click.BadParameter(f"--due must be YYYY-MM-DD; got {due!r}") from None
    return None


def target_from_options(options: dict[str, Any], start_on: date) -> Target | None:
    """Build a Target from ``--baseline/--target/--due|--weeks``, or ``None`` if none was given."""
    baseline, value = options.get("baseline"), options.get("target_value")
    due_on = due_from_options(options, start_on)
    if baseline is None and value is None and due_on is None:
        return None
    missing = [
        flag
        for flag, given in (
            ("--baseline", baseline),
            ("--target", value),
            ("--due/--weeks", due_on),
        )
        if given is None
    ]
    if missing:
        raise click.UsageError(
            f"a target needs --baseline, --target and --due (or --weeks); missing "
            f"{', '.join(missing)}"
        )
    assert baseline is not None  # noqa: S101  # checked above
    assert value is not None  # noqa: S101
    assert due_on is not None  # noqa: S101
    return Target(baseline=baseline, value=value, due_on=due_on)
