"""Goal templates: parameterised goals that instantiate into SMART goal definitions.

A template such as ``cbt.panic-frequency`` holds a statement with
placeholders (``{baseline}``, ``{target}``, ``{weeks}`` and any parameter
of its own), a measure, a goal area and focus, and defaults. Instantiating
it with parameter values and a start date gives a
:class:`~goalpath.core.values.GoalDefinition` that passes SMART, or a typed
error that says which parameter is wrong and what would be accepted.
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Final, Literal, get_args

import attrs

from goalpath.core.errors import GoalpathError
from goalpath.core.smart import SmartReport, evaluate_smart
from goalpath.core.values import (
    FOCUSES,
    GOAL_AREAS,
    Focus,
    GoalArea,
    GoalDefinition,
    Measure,
    Target,
    text,
    texts,
    to_text_tuple,
)
from goalpath.modalities.errors import (
    InvalidTemplateError,
    TemplateNotSmartError,
    TemplateParameterError,
)
from goalpath.modalities.instruments import ID_PATTERN

__all__ = [
    "MAX_WEEKS",
    "PARAMETER_KINDS",
    "RESERVED_PARAMETERS",
    "ParameterKind",
    "ParameterValue",
    "Template",
    "TemplateInstance",
    "TemplateParameter",
]

ParameterKind = Literal["number", "integer", "text"]
PARAMETER_KINDS: Final[tuple[str, ...]] = get_args(ParameterKind)

ParameterValue = float | int | str
"""A parameter value after conversion: a number, a whole number or a text."""

MAX_WEEKS: Final = 52
"""The longest duration a template goal may have, in weeks (SMART wants a horizon under a year)."""

RESERVED_PARAMETERS: Final = ("weeks",)
"""Parameters every template accepts without declaring them."""

MAX_TEXT_PARAMETER_LENGTH: Final = 200

_PARAMETER_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_VERSION: Final = re.compile(r"^\d+\.\d+\.\d+$")
_TEMPLATE_NAME: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _one_of(name: str, allowed: tuple[str, ...]) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value not in allowed:
            raise InvalidTemplateError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")

    return check


def _whole(name: str, low: int, high: int) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidTemplateError(
                f"{name} must be a whole number from {low} to {high}; got {value!r}"
            )

    return check


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _format_value(value: ParameterValue) -> str:
    if isinstance(value, str):
        return value
    return f"{value:g}"


def placeholders(pattern: str) -> tuple[str, ...]:
    """Return the placeholder names of a statement pattern, refusing anything but ``{name}``."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as error:
        raise InvalidTemplateError(
            f"statement {pattern!r} is not a valid pattern ({error}); write placeholders as "
            "{name} and a literal brace as {{ or }}"
        ) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _PARAMETER_NAME.match(field) or spec or conversion:
            raise InvalidTemplateError(
                f"placeholder {{{field}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} in {pattern!r} is not accepted; "
                "write a bare parameter name such as {baseline}"
            )
        names.append(field)
    return tuple(names)


@attrs.frozen
class TemplateParameter:
    """One parameter of a template: its name, type, default, an example and its range.

    ``kind`` is ``number`` (any finite number), ``integer`` (a whole number)
    or ``text`` (a short phrase put into the statement). ``minimum`` and
    ``maximum`` bound numbers; for ``baseline`` and ``target`` the measure's
    range applies too.
    """

    name: str = attrs.field()
    description: str = attrs.field(validator=text("parameter description", 500))
    default: ParameterValue = attrs.field()
    example: ParameterValue = attrs.field()
    kind: ParameterKind = attrs.field(
        default="number", validator=_one_of("parameter kind", PARAMETER_KINDS)
    )
    minimum: float | None = attrs.field(default=None)
    maximum: float | None = attrs.field(default=None)

    @name.validator
    def _check_name(self, _attribute: object, value: object) -> None:
        if not isinstance(value, str) or not _PARAMETER_NAME.match(value):
            raise InvalidTemplateError(
                f"parameter name must start with a lower-case letter and hold only a-z, 0-9 "
                f"and _; got {value!r}"
            )

    def __attrs_post_init__(self) -> None:
        for bound_name in ("minimum", "maximum"):
            bound = getattr(self, bound_name)
            if bound is not None and not _is_number(bound):
                raise InvalidTemplateError(
                    f"parameter {self.name}: {bound_name} must be a finite number; got {bound!r}"
                )
        if self.kind == "text" and (self.minimum is not None or self.maximum is not None):
            raise InvalidTemplateError(
                f"parameter {self.name}: a text parameter has no minimum or maximum"
            )
        if self.minimum is not None and self.maximum is not None and self.minimum >= self.maximum:
            raise InvalidTemplateError(
                f"parameter {self.name}: minimum {self.minimum:g} must be below "
                f"maximum {self.maximum:g}"
            )
        for role in ("default", "example"):
            try:
                self.convert(getattr(self, role))
            except TemplateParameterError as error:
                raise InvalidTemplateError(f"the {role} of {error}") from None

    def describe(self) -> str:
        """Say which values this parameter accepts, for help and error messages."""
        if self.kind == "text":
            return f"a text of at most {MAX_TEXT_PARAMETER_LENGTH} characters"
        noun = "a whole number" if self.kind == "integer" else "a number"
        if self.minimum is not None and self.maximum is not None:
            return f"{noun} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{noun} of at least {self.minimum:g}"
        if self.maximum is not None:
            return f"{noun} of at most {self.maximum:g}"
        return noun

    def convert(self, raw: object) -> ParameterValue:
        """Return ``raw`` (a text from the command line, or a value) as this parameter's type.

        Raises:
            TemplateParameterError: the value is not of the parameter's type or out of range.
        """
        wanted = f"parameter {self.name} must be {self.describe()}"
        if self.kind == "text":
            if not isinstance(raw, str) or not raw.strip():
                raise TemplateParameterError(f"{wanted}; got {raw!r}")
            if len(raw) > MAX_TEXT_PARAMETER_LENGTH:
                raise TemplateParameterError(f"{wanted}; got {len(raw)} characters")
            return raw.strip()
        number = self._to_number(raw, wanted)
        if self.minimum is not None and number < self.minimum:
            raise TemplateParameterError(f"{wanted}; got {number:g}")
        if self.maximum is not None and number > self.maximum:
            raise TemplateParameterError(f"{wanted}; got {number:g}")
        if self.kind == "integer":
            return int(number)
        return number

    def _to_number(self, raw: object, wanted: str) -> float:
        if isinstance(raw, str):
            try:
                number = float(raw.strip())
            except ValueError:
                raise TemplateParameterError(f"{wanted}; got {raw!r}") from None
        elif _is_number(raw):
            number = float(raw)  # type: ignore[arg-type]  # _is_number checked it is a real number
        else:
            raise TemplateParameterError(f"{wanted}; got {raw!r}")
        if not math.isfinite(number):
            raise TemplateParameterError(f"{wanted}; got {raw!r}")
        if self.kind == "integer" and not number.is_integer():
            raise TemplateParameterError(f"{wanted}; got {raw!r}")
        return number


@attrs.frozen
class TemplateInstance:
    """A goal definition made from a template, with where it came from.

    Pass ``template_id`` and ``template_version`` to
    :meth:`goalpath.core.application.GoalpathApp.create_goal`, so the goal's
    ``Created`` event records them.
    """

    definition: GoalDefinition
    template_id: str
    template_version: str
    parameters: tuple[tuple[str, ParameterValue], ...]
    smart: SmartReport

    @property
    def parameter_values(self) -> dict[str, ParameterValue]:
        """The parameter values used, defaults included, by name."""
        return dict(self.parameters)


def _check_template_id(_instance: object, _attribute: object, value: Any) -> None:
    modality, dot, name = value.partition(".") if isinstance(value, str) else ("", "", "")
    if not dot or not ID_PATTERN.match(modality) or not _TEMPLATE_NAME.match(name):
        raise InvalidTemplateError(
            "template id must be the modality and a name joined by a dot, in lower-case "
            f"words joined by '-' (such as 'cbt.panic-frequency'); got {value!r}"
        )


def _to_parameters(value: Iterable[TemplateParameter]) -> tuple[TemplateParameter, ...]:
    if isinstance(value, str | TemplateParameter) or not isinstance(value, Iterable):
        raise InvalidTemplateError(
            f"template parameters must be a list of TemplateParameter values; got {value!r}"
        )
    return tuple(value)


@attrs.frozen
class Template:
    """A parameterised goal a clinician can start from.

    ``id`` is namespaced by modality (``cbt.panic-frequency``); ``version``
    is ``MAJOR.MINOR.PATCH``. ``statement`` and ``practices`` may hold
    placeholders for the declared parameters and for ``{weeks}``, the
    duration, which every template accepts (default ``duration_weeks``).
    Parameters ``baseline`` and ``target`` are required: they become the
    goal's target on ``measure``.
    """

    id: str = attrs.field(validator=_check_template_id)
    version: str = attrs.field()
    modality: str = attrs.field()
    title: str = attrs.field(validator=text("template title", 80))
    area: GoalArea = attrs.field(validator=_one_of("goal area", GOAL_AREAS))
    focus: Focus = attrs.field(validator=_one_of("focus", FOCUSES))
    statement: str = attrs.field(validator=text("template statement", 1000))
    measure: Measure = attrs.field()
    parameters: tuple[TemplateParameter, ...] = attrs.field(converter=_to_parameters)
    description: str = attrs.field(validator=text("template description", 4000))
    duration_weeks: int = attrs.field(default=8, validator=_whole("duration", 1, MAX_WEEKS))
    review_every_days: int = attrs.field(
        default=14, validator=_whole("review cadence in days", 1, 365)
    )
    practices: tuple[str, ...] = attrs.field(
        default=(), converter=to_text_tuple, validator=texts("template practices")
    )

    @version.validator
    def _check_version(self, _attribute: object, value: object) -> None:
        if not isinstance(value, str) or not _VERSION.match(value):
            raise InvalidTemplateError(
                f"template version must be MAJOR.MINOR.PATCH such as '1.0.0'; got {value!r}"
            )

    @measure.validator
    def _check_measure(self, _attribute: object, value: object) -> None:
        if not isinstance(value, Measure):
            raise InvalidTemplateError(
                f"template measure must be a goalpath.core.values.Measure; got {value!r}"
            )

    def __attrs_post_init__(self) -> None:
        if self.id.partition(".")[0] != self.modality:
            raise InvalidTemplateError(
                f"template id {self.id!r} must start with its modality {self.modality!r} "
                f"and a dot (such as '{self.modality}.{self.id.partition('.')[2]}')"
            )
        self._check_parameters()
        self._check_placeholders()

    def _check_parameters(self) -> None:
        names = [parameter.name for parameter in self.parameters]
        for parameter in self.parameters:
            if not isinstance(parameter, TemplateParameter):
                raise InvalidTemplateError(
                    f"template {self.id}: parameters must be TemplateParameter values; "
                    f"got {parameter!r}"
                )
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidTemplateError(
                f"template {self.id}: parameter {', '.join(duplicates)} is declared twice"
            )
        reserved = sorted(set(names) & set(RESERVED_PARAMETERS))
        if reserved:
            raise InvalidTemplateError(
                f"template {self.id}: {', '.join(reserved)} is given to every template; "
                "set its default with duration_weeks instead of declaring it"
            )
        for required in ("baseline", "target"):
            if required not in names:
                raise InvalidTemplateError(
                    f"template {self.id}: parameter {required!r} is required (it sets the "
                    f"goal's {required} on its measure)"
                )
            if self.parameter(required).kind == "text":
                raise InvalidTemplateError(
                    f"template {self.id}: parameter {required!r} must be a number or integer"
                )
            for role in ("default", "example"):
                value = getattr(self.parameter(required), role)
                try:
                    self.measure.check_value(value, f"{role} {required}")
                except GoalpathError as error:
                    raise InvalidTemplateError(f"template {self.id}: {error}") from None

    def _check_placeholders(self) -> None:
        declared = {parameter.name for parameter in self.parameters} | set(RESERVED_PARAMETERS)
        used: set[str] = set()
        for pattern in (self.statement, *self.practices):
            used.update(placeholders(pattern))
        unknown = sorted(used - declared)
        if unknown:
            raise InvalidTemplateError(
                f"template {self.id}: placeholder {', '.join(unknown)} is not a parameter; "
                f"declared parameters: {', '.join(sorted(declared))}"
            )
        unused = sorted(declared - used - {"baseline", "target", *RESERVED_PARAMETERS})
        if unused:
            raise InvalidTemplateError(
                f"template {self.id}: parameter {', '.join(unused)} is declared but not used "
                "in the statement or practices"
            )

    @property
    def weeks_parameter(self) -> TemplateParameter:
        """The duration parameter every template accepts, defaulting to ``duration_weeks``."""
        return TemplateParameter(
            name="weeks",
            description="Weeks from the start date until the goal is due.",
            default=self.duration_weeks,
            example=self.duration_weeks,
            kind="integer",
            minimum=1,
            maximum=MAX_WEEKS,
        )

    @property
    def all_parameters(self) -> tuple[TemplateParameter, ...]:
        """The declared parameters and the ``weeks`` parameter every template accepts."""
        return (*self.parameters, self.weeks_parameter)

    def parameter(self, name: str) -> TemplateParameter:
        """Return the parameter called ``name``.

        Raises:
            TemplateParameterError: the template has no such parameter.
        """
        for parameter in self.all_parameters:
            if parameter.name == name:
                return parameter
        accepted = ", ".join(parameter.name for parameter in self.all_parameters)
        raise TemplateParameterError(
            f"template {self.id} has no parameter {name!r}; accepted parameters: {accepted}"
        )

    def default_parameters(self) -> dict[str, ParameterValue]:
        """Every parameter's default value, by name."""
        return {parameter.name: parameter.default for parameter in self.all_parameters}

    def example_parameters(self) -> dict[str, ParameterValue]:
        """Every parameter's example value, by name."""
        return {parameter.name: parameter.example for parameter in self.all_parameters}

    def resolve(self, params: Mapping[str, object]) -> dict[str, ParameterValue]:
        """Convert given parameter values and fill in the defaults of the others.

        Raises:
            TemplateParameterError: a name is unknown, or a value has the wrong type or range.
        """
        values = self.default_parameters()
        for name, raw in params.items():
            values[name] = self.parameter(name).convert(raw)
        return values

    def instantiate(self, params: Mapping[str, object], start_on: date) -> TemplateInstance:
        """Make a SMART goal definition starting on ``start_on`` from parameter values.

        ``params`` maps parameter names to values, as texts (from the command
        line) or numbers; parameters left out take their defaults.

        Raises:
            TemplateParameterError: a parameter is unknown, of the wrong type or out of range.
            TemplateNotSmartError: the values give a goal that is not SMART (for example a
                target that is not an improvement, or too big a change for the time given).
        """
        if not isinstance(start_on, date) or type(start_on).__name__ == "datetime":
            raise TemplateParameterError(
                f"template {self.id}: the start date must be a date (YYYY-MM-DD); got {start_on!r}"
            )
        values = self.resolve(params)
        rendered = {name: _format_value(value) for name, value in values.items()}
        try:
            definition = GoalDefinition(
                statement=self.statement.format(**rendered),
                start_on=start_on,
                measure=self.measure,
                target=Target(
                    baseline=values["baseline"],
                    value=values["target"],
                    due_on=start_on + timedelta(weeks=int(values["weeks"])),
                ),
                area=self.area,
                focus=self.focus,
                practices=tuple(practice.format(**rendered) for practice in self.practices),
                review_every_days=self.review_every_days,
            )
        except TemplateParameterError:
            raise
        except GoalpathError as error:
            raise TemplateParameterError(
                f"template {self.id}: {error}", field=error.field, accepted=error.accepted
            ) from None
        report = evaluate_smart(definition)
        if not report.passed:
            failures = "; ".join(
                f"{verdict.letter}: {verdict.reason}"
                + (f" ({verdict.suggestion})" if verdict.suggestion else "")
                for verdict in report.verdicts
                if not verdict.passed
            )
            raise TemplateNotSmartError(
                f"template {self.id} with {_describe(values)} gives a goal that is not SMART: "
                f"{failures}",
                report,
            )
        return TemplateInstance(
            definition=definition,
            template_id=self.id,
            template_version=self.version,
            parameters=tuple(values.items()),
            smart=report,
        )


def _describe(values: Mapping[str, ParameterValue]) -> str:
    return ", ".join(f"{name}={_format_value(value)}" for name, value in values.items())
