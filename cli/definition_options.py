"""Command-line options that describe a goal (statement, measure, target...), shared by commands.

With ``goal create --template``, the same options override the template:
``--baseline``, ``--target``, ``--weeks`` and ``--due`` (whole weeks) are
the template's parameters, so the created goal holds them; ``--statement``,
``--area``, ``--focus``, ``--practice``, ``--priority``,
``--review-every`` and the GAS options (``--gas-level``, ``--gas-importance``,
``--gas-difficulty``) change the instantiated goal, recorded as a refinement
whose reason names the template and the options; options that cannot
apply (another measure, a ``--param`` that disagrees, a statement whose
numbers contradict the target) are refused with the clash named
(:func:`template_choice`). None is dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final, ParamSpec, TypeVar

import attrs
import click

from goalpath.cli.input_types import NUMBER
from goalpath.core.statement_reader import InstrumentFacts, read_statement
from goalpath.core.values import (
    DIRECTIONS,
    FOCUSES,
    GAS_LEVELS,
    GOAL_AREAS,
    PRIORITIES,
    GoalDefinition,
    Measure,
    Target,
)

if TYPE_CHECKING:
    from goalpath.modalities.errors import TemplateParameterError
    from goalpath.modalities.templates import Template, TemplateInstance

__all__ = [
    "TemplateChoice",
    "definition_options",
    "measure_from_options",
    "target_from_options",
    "template_choice",
]

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
        click.option("--min", "minimum", type=NUMBER, help="Lowest accepted value."),
        click.option("--max", "maximum", type=NUMBER, help="Highest accepted value."),
        click.option("--baseline", type=NUMBER, help="Where the client is now."),
        click.option("--target", "target_value", type=NUMBER, help="Where the client aims to be."),
        click.option("--due", metavar="DATE", help="Due date (YYYY-MM-DD)."),
        click.option("--weeks", type=int, help="Due this many weeks after the start."),
        click.option("--area", type=click.Choice(GOAL_AREAS), help="Primary goal area."),
        click.option("--focus", type=click.Choice(FOCUSES), help="Symptom reduction or strength."),
        click.option("--practice", "practices", multiple=True, help="A practice (repeatable)."),
        click.option("--priority", type=click.Choice(PRIORITIES), help="FHIR goal priority."),
        click.option("--review-every", "review_every_days", type=int, help="Review cadence, days."),
        click.option(
            "--gas-level",
            "gas_levels",
            multiple=True,
            metavar="LEVEL=TEXT",
            callback=_gas_levels_option,
            help="What GAS level -2..+2 looks like for this client, e.g. 0='walks 3 evenings a "
            "week' (give all five).",
        ),
        click.option(
            "--gas-importance",
            type=click.IntRange(0, 3),
            help="How much the goal matters to the client, 0-3 (GAS weight).",
        ),
        click.option(
            "--gas-difficulty",
            type=click.IntRange(0, 3),
            help="How hard the clinician judges the goal, 0-3 (GAS weight).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _gas_levels_option(
    _ctx: click.Context, _param: click.Parameter, pairs: tuple[str, ...]
) -> tuple[str, ...] | None:
    """``--gas-level LEVEL=TEXT`` given five times: the descriptions ordered -2 to +2."""
    if not pairs:
        return None
    levels: dict[int, str] = {}
    for pair in pairs:
        key, separator, text = pair.partition("=")
        try:
            level = int(key.strip()) if separator and key.strip().lstrip("+-").isdigit() else None
        except ValueError:
            level = None
        if level not in GAS_LEVELS or level in levels:
            raise click.BadParameter(
                f"takes LEVEL=TEXT with a different LEVEL from -2 to +2 each time; got {pair!r}"
            )
        levels[level] = text.strip()
    if len(levels) != len(GAS_LEVELS):
        missing = ", ".join(f"{level:+d}" for level in GAS_LEVELS if level not in levels)
        raise click.BadParameter(f"describe all five GAS levels; missing {missing}")
    return tuple(levels[level] for level in GAS_LEVELS)


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


def due_from_options(options: Mapping[str, Any], start_on: date) -> date | None:
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


TEMPLATE_PARAMETER_OPTIONS: Final = (
    ("baseline", "--baseline", "baseline"),
    ("target_value", "--target", "target"),
    ("weeks", "--weeks", "weeks"),
)
"""Options that are template parameters: (option key, flag, parameter name)."""

MEASURE_OPTIONS: Final = (
    ("measure_name", "--measure", "name"),
    ("unit", "--unit", "unit"),
    ("direction", "--direction", "direction"),
    ("instrument", "--instrument", "instrument"),
    ("minimum", "--min", "minimum"),
    ("maximum", "--max", "maximum"),
)
"""Options that describe the measure, which a template fixes: (option key, flag, field)."""

REFINING_OPTIONS: Final = (
    ("area", "--area"),
    ("focus", "--focus"),
    ("priority", "--priority"),
    ("review_every_days", "--review-every"),
    ("gas_levels", "--gas-level"),
    ("gas_importance", "--gas-importance"),
    ("gas_difficulty", "--gas-difficulty"),
)
"""Definition fields an option may change after a template is instantiated: (key, flag)."""


@attrs.frozen
class TemplateChoice:
    """A template instantiated with the explicit options, and what they change after it.

    ``instance`` holds the definition the goal is created with (parameter
    options already applied); ``changes`` are the definition fields that
    other options change (a refinement right after creation), and
    ``changed_by`` the options that ask for them; ``definition`` is the goal
    after the changes, built (and so checked) before anything is stored.
    """

    instance: TemplateInstance
    definition: GoalDefinition
    changes: tuple[tuple[str, Any], ...] = ()
    changed_by: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        """The refinement's reason: which options changed the goal made from which template."""
        return (
            f"changed at creation from template {self.instance.template_id} "
            f"{self.instance.template_version} by {', '.join(self.changed_by)}"
        )


def template_choice(
    template: Template,
    params: Mapping[str, str],
    options: Mapping[str, Any],
    statement: str | None,
    start_on: date,
    *,
    instruments: Iterable[InstrumentFacts] = (),
) -> TemplateChoice:
    """Instantiate ``template`` with ``params`` and the explicit ``options``, or refuse a clash.

    Raises:
        TemplateParameterError: an option disagrees with a ``--param``, asks for another
            measure, gives a due date that is not whole weeks after the start, or a statement
            whose numbers or time frame contradict the goal's target; or a value is out of
            the parameter's range.
        TemplateNotSmartError: the parameters give a goal that is not SMART.
    """
    _refuse_measure_options(template, options)
    instance = template.instantiate(_parameters(template, params, options, start_on), start_on)
    definition = instance.definition
    changes: dict[str, Any] = {}
    changed_by: list[str] = []
    if statement is not None and statement != definition.statement:
        _check_statement_agrees(template, definition, statement, tuple(instruments))
        changes["statement"] = statement
        changed_by.append("--statement")
    practices = tuple(options.get("practices") or ())
    if practices and practices != definition.practices:
        changes["practices"] = practices
        changed_by.append("--practice")
    for key, flag in REFINING_OPTIONS:
        value = options.get(key)
        if value is not None and value != getattr(definition, key):
            changes[key] = value
            changed_by.append(flag)
    return TemplateChoice(
        instance,
        attrs.evolve(definition, **changes),
        tuple(changes.items()),
        tuple(changed_by),
    )


def _template_error(message: str) -> TemplateParameterError:
    from goalpath.modalities.errors import TemplateParameterError  # noqa: PLC0415  # plugins on demand

    return TemplateParameterError(message)


def _parameters(
    template: Template, params: Mapping[str, str], options: Mapping[str, Any], start_on: date
) -> dict[str, object]:
    merged: dict[str, object] = dict(params)
    given: list[tuple[str, str, object]] = [
        (flag, name, options[key])
        for key, flag, name in TEMPLATE_PARAMETER_OPTIONS
        if options.get(key) is not None
    ]
    if options.get("due") is not None:
        due_on = due_from_options(options, start_on)
        assert due_on is not None  # noqa: S101  # --due was given
        days = (due_on - start_on).days
        if days <= 0 or days % 7:
            raise _template_error(
                f"--due {due_on.isoformat()} is {days} days after the start "
                f"({start_on.isoformat()}); a goal from template {template.id} is due a whole "
                "number of weeks after its start: give --weeks N instead"
            )
        given.append(("--due", "weeks", days // 7))
    for flag, name, value in given:
        parameter = template.parameter(name)
        if name in params and parameter.convert(params[name]) != parameter.convert(value):
            raise _template_error(
                f"{flag} {_shown(value)} and --param {name}={params[name]} disagree for "
                f"template {template.id}; give the {name} once"
            )
        merged[name] = value
    return merged


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _refuse_measure_options(template: Template, options: Mapping[str, Any]) -> None:
    measure = template.measure
    clashing = [
        f"{flag} {_shown(options[key])}"
        for key, flag, field in MEASURE_OPTIONS
        if options.get(key) is not None and options[key] != getattr(measure, field)
    ]
    if clashing:
        raise _template_error(
            f"{', '.join(clashing)} cannot change the measure of template {template.id} "
            f"({measure.name}, {measure.unit}, {measure.direction}): a template's baseline, "
            "target and checks are for its own measure; leave the option out, or create the "
            "goal without --template"
        )


def _check_statement_agrees(
    template: Template,
    definition: GoalDefinition,
    statement: str,
    instruments: tuple[InstrumentFacts, ...],
) -> None:
    """Refuse a statement whose numbers or time frame say otherwise than the goal's target."""
    target = definition.target
    if target is None:
        return
    reading = read_statement(statement, definition.start_on, instruments=instruments)
    clashes = []
    for read, value, name, flag in (
        (reading.baseline, target.baseline, "baseline", "--baseline"),
        (reading.target, target.value, "target", "--target"),
    ):
        if read is not None and not math.isnan(read.value) and read.value != value:
            clashes.append(
                f"it reads a {name} of {read.value:g} ('{read.quote}') but the goal's {name} "
                f"is {value:g} (give {flag} {read.value:g})"
            )
    frame = reading.time_frame
    if frame is not None and frame.due_on != target.due_on:
        clashes.append(
            f"it reads a due date of {frame.due_on.isoformat()} ('{frame.quote}') but the goal "
            f"is due on {target.due_on.isoformat()} (give --weeks or change the statement)"
        )
    if clashes:
        raise _template_error(
            f"--statement disagrees with the goal made from template {template.id}: "
            + "; ".join(clashes)
        )
