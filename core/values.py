"""Value objects: immutable, validated on construction, so an invalid one cannot exist.

They travel inside events through the transcodings in
:mod:`goalpath.core.storage.transcodings`.

This module is a little over 500 lines because each value object sits with
the vocabulary and the checks it is validated by (statuses, areas, dates,
texts), which the aggregates and the plugins' values use too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final, Literal, get_args
from uuid import UUID

import attrs

from goalpath.core.errors import InvalidValueError
from goalpath.core.inputs import (
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_NUMBER,
    check_identity,
    check_number,
    normalise_identity,
)

__all__ = [
    "ACHIEVEMENT_STATUSES",
    "GAS_LEVELS",
    "GAS_RATINGS",
    "GOAL_AREAS",
    "LIFECYCLE_STATUSES",
    "MAX_GAS_LEVEL_LENGTH",
    "MAX_STATEMENT_LENGTH",
    "MAX_TEXT_LENGTH",
    "RETIREMENT_REASONS",
    "REVIEW_DECISIONS",
    "ROLES",
    "AchievementStatus",
    "Actor",
    "Direction",
    "Focus",
    "GoalArea",
    "GoalDefinition",
    "LifecycleStatus",
    "Measure",
    "Measurement",
    "Priority",
    "RetirementReason",
    "Review",
    "ReviewDecision",
    "Role",
    "Target",
    "as_uuid",
    "jsonable",
]

MAX_STATEMENT_LENGTH: Final = 2000
"""Longest goal statement accepted, in characters."""

MAX_TEXT_LENGTH: Final = 4000
"""Longest reason or note accepted, in characters."""

GAS_RATINGS: Final = (0, 1, 2, 3)
"""The ratings of a goal's GAS importance and difficulty (Turner-Stokes 2009): none to very."""

GAS_LEVELS: Final = (-2, -1, 0, 1, 2)
"""The GAS attainment levels, from much less than expected (-2) to much better (+2)."""

MAX_GAS_LEVEL_LENGTH: Final = 500
"""Longest description of one GAS level accepted, in characters."""

Role = Literal["client", "therapist", "supervisor", "auditor", "system"]
"""Who acts or reads: the person's part in the episode, or ``system`` for integrations and jobs."""
ROLES: Final[tuple[str, ...]] = get_args(Role)

Direction = Literal["increase", "decrease"]
DIRECTIONS: Final[tuple[str, ...]] = get_args(Direction)

GoalArea = Literal[
    "symptom-relief",
    "behavioural-change",
    "relationships",
    "personal-growth",
]
"""The four primary goal areas: symptom relief and emotional regulation,
behavioural change, relationships and social skills, personal growth and
self-understanding."""
GOAL_AREAS: Final[tuple[str, ...]] = get_args(GoalArea)

Focus = Literal["symptom-reduction", "strength-building"]
FOCUSES: Final[tuple[str, ...]] = get_args(Focus)

Priority = Literal["high-priority", "medium-priority", "low-priority"]
"""FHIR goal-priority codes."""
PRIORITIES: Final[tuple[str, ...]] = get_args(Priority)

LifecycleStatus = Literal[
    "proposed", "active", "on-hold", "completed", "cancelled", "entered-in-error"
]
"""FHIR Goal.lifecycleStatus codes used by goalpath."""
LIFECYCLE_STATUSES: Final[tuple[str, ...]] = get_args(LifecycleStatus)

AchievementStatus = Literal[
    "in-progress",
    "improving",
    "worsening",
    "no-change",
    "achieved",
    "sustaining",
    "not-achieved",
    "no-progress",
    "not-attainable",
]
"""FHIR Goal.achievementStatus codes."""
ACHIEVEMENT_STATUSES: Final[tuple[str, ...]] = get_args(AchievementStatus)

ReviewDecision = Literal["continue", "adjust", "pause", "resume"]
REVIEW_DECISIONS: Final[tuple[str, ...]] = get_args(ReviewDecision)

RetirementReason = Literal[
    "achieved", "no-longer-relevant", "replaced", "client-discharged", "entered-in-error"
]
RETIREMENT_REASONS: Final[tuple[str, ...]] = get_args(RetirementReason)

MeasurementStatus = Literal["final", "amended", "entered-in-error"]
"""FHIR Observation.status of a measurement: as recorded, corrected, or voided."""


def refused(
    name: str,
    accepted: str,
    value: object,
    *,
    field: str | None = None,
    codes: tuple[str, ...] | None = None,
) -> InvalidValueError:
    """The refusal of ``value`` for the input ``name``: ``"{name} must be {accepted}; got …"``.

    Every validator's message is made here, so each names the input and what
    it accepts, and shows the value given (shortened), never a library's
    internals. ``field`` is the input's name for a host's form (the error's
    ``field``), ``codes`` the accepted codes when it is one of a fixed set
    (the error's ``accepted``; else the ``accepted`` sentence).
    """
    shown = repr(value)
    if len(shown) > 80:
        shown = f"{shown[:77]}..."
    return InvalidValueError(
        f"{name} must be {accepted}; got {shown}",
        field=field,
        accepted=accepted if codes is None else codes,
    )


def field_of(instance: object, attribute: attrs.Attribute[Any]) -> str:
    """An attrs value's attribute as a host's form names it: ``target.value``, ``measure.unit``.

    A :class:`GoalDefinition`'s attributes are ``definition.…`` (the
    commands' parameter name); another value's are its class name in snake
    case (``measure``, ``target``, ``actor``).
    """
    kind = type(instance).__name__
    owner = "definition" if kind == "GoalDefinition" else _snake(kind)
    return f"{owner}.{attribute.name}"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def validator(check: Callable[[object], object], *, required: bool = True) -> Any:
    """An attrs validator running ``check(value)``, its refusal naming the attribute's field.

    ``None`` passes when the attribute is not ``required``. A refusal
    without a ``field`` gets the attribute's (:func:`field_of`).
    """

    def run(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and not required:
            return
        try:
            check(value)
        except InvalidValueError as error:
            if error.field is None:
                error.field = field_of(instance, attribute)
            raise

    return run


def check_one_of(name: str, value: object, allowed: tuple[str, ...]) -> str:
    """Validate a code: one of ``allowed``."""
    if not isinstance(value, str) or value not in allowed:
        raise refused(name, f"one of {', '.join(allowed)}", value, codes=allowed)
    return value


def one_of(name: str, allowed: tuple[str, ...], *, required: bool = True) -> Any:
    """Return an attrs validator that accepts only the ``allowed`` codes."""
    return validator(lambda value: check_one_of(name, value, allowed), required=required)


def kind_of(name: str, kind: type, described: str, *, required: bool = True) -> Any:
    """Return an attrs validator accepting only a ``kind`` (``described`` in the message)."""

    def check(value: object) -> None:
        if not isinstance(value, kind):
            raise refused(name, described, value)

    return validator(check, required=required)


def check_text(name: str, value: object, maximum: int, *, required: bool = True) -> str:
    """Validate a free-text field: a string, not blank when required, not over ``maximum``."""
    if not isinstance(value, str):
        raise refused(name, f"text of at most {maximum} characters", value)
    if required and not value.strip():
        raise InvalidValueError(f"{name} must not be empty", accepted="text that is not blank")
    if len(value) > maximum:
        raise InvalidValueError(
            f"{name} is {len(value)} characters long; at most {maximum} are accepted",
            accepted=f"text of at most {maximum} characters",
        )
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidValueError(
            f"{name} holds characters that are not valid text (lone surrogates); "
            "give it as valid UTF-8",
            accepted="valid UTF-8 text",
        ) from None
    return value


def check_identifier(name: str, value: object) -> str:
    """Validate an id from the host system; return it NFC normalised (:func:`check_identity`)."""
    return check_identity(name, value)


def identifier(name: str) -> Any:
    """Return an attrs validator for an id (see :func:`check_identifier`)."""
    return validator(lambda value: check_identifier(name, value))


def text(name: str, maximum: int = MAX_TEXT_LENGTH, *, required: bool = True) -> Any:
    """Return an attrs validator for a free-text field."""
    return validator(
        lambda value: check_text(name, value, maximum, required=required), required=required
    )


def finite(name: str, *, required: bool = True) -> Any:
    """Return an attrs validator for a finite number."""
    return validator(lambda value: check_number(name, value), required=required)


def to_float(value: object) -> object:
    """Convert ints to floats so that equal values compare and serialise alike."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def to_optional_float(value: object) -> object:
    """Like :func:`to_float`, keeping ``None``."""
    return None if value is None else to_float(value)


def check_date(name: str, value: object) -> date:
    """Validate a calendar date: a date (not a date and time), within 1900-2199."""
    # datetime is a subclass of date; a timestamp where a date belongs is a mistake.
    if not isinstance(value, date) or type(value).__name__ == "datetime":
        raise refused(name, "a date (YYYY-MM-DD)", value)
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise InvalidValueError(
            f"{name} {value.isoformat()} is outside the accepted years "
            f"{EARLIEST_DATE.year} to {LATEST_DATE.year}",
            accepted=f"a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}",
        )
    return value


def is_date(name: str, *, required: bool = True) -> Any:
    """Return an attrs validator for a calendar date (see :func:`check_date`)."""
    return validator(lambda value: check_date(name, value), required=required)


def to_text_tuple(value: object) -> tuple[str, ...]:
    """Convert a list of strings to a tuple, so the value object stays immutable.

    Anything else is left as it is, for the attribute's validator
    (:func:`texts`) to refuse, naming the attribute and what it accepts.
    """
    if isinstance(value, list | tuple):
        return tuple(value)
    return value  # type: ignore[return-value]  # refused by the validator, texts()


def texts(name: str, maximum: int = 500, most: int = 50) -> Any:
    """Return an attrs validator for a tuple of non-empty texts."""

    def check(value: object) -> None:
        if not isinstance(value, tuple):
            raise refused(name, "a list of texts", value)
        if len(value) > most:
            raise InvalidValueError(
                f"at most {most} {name} are accepted; got {len(value)}",
                accepted=f"at most {most} texts",
            )
        for item in value:
            check_text(name, item, maximum)

    return validator(check)


def check_reason(value: object, what: str, hint: str = "say why in a sentence") -> str:
    """Validate the reason a command requires: text, not blank, not over the text limit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValueError(
            f"a reason is required to {what}; {hint}", field="reason", accepted="a sentence"
        )
    try:
        return check_text("reason", value, MAX_TEXT_LENGTH)
    except InvalidValueError as error:
        error.field = "reason"
        raise


@attrs.frozen
class Actor:
    """Who made a change: an id in the host system and a role."""

    id: str = attrs.field(converter=normalise_identity, validator=identifier("actor id"))
    role: Role = attrs.field(validator=one_of("actor role", ROLES))


def check_actor(value: object) -> Actor:
    """Validate the actor of a command: an :class:`Actor` (id and role), nothing else."""
    if not isinstance(value, Actor):
        raise refused("actor", "an Actor (id and role)", value, field="actor")
    return value


@attrs.frozen
class Measure:
    """What a goal is measured with.

    ``direction`` says whether improvement means the value goes up or down.
    ``minimum`` and ``maximum`` bound the accepted values when given (a
    questionnaire's total score range, or zero for a count).
    ``instrument`` is a code such as ``phq-9`` for standardised measures.
    """

    name: str = attrs.field(validator=text("measure name", 200))
    unit: str = attrs.field(validator=text("measure unit", 100))
    direction: Direction = attrs.field(validator=one_of("measure direction", DIRECTIONS))
    instrument: str | None = attrs.field(
        default=None, validator=text("instrument code", 100, required=False)
    )
    minimum: float | None = attrs.field(
        default=None, converter=to_optional_float, validator=finite("minimum", required=False)
    )
    maximum: float | None = attrs.field(
        default=None, converter=to_optional_float, validator=finite("maximum", required=False)
    )

    def __attrs_post_init__(self) -> None:
        if self.minimum is not None and self.maximum is not None and self.minimum >= self.maximum:
            raise InvalidValueError(
                f"measure range is empty: minimum {self.minimum} must be below "
                f"maximum {self.maximum}",
                field="measure.maximum",
                accepted=f"a number above {self.minimum:g}",
            )

    def check_value(self, value: object, name: str = "value", *, field: str | None = None) -> float:
        """Return ``value`` as a float if it is finite and inside this measure's range.

        A refusal names the input ``field`` (``name`` when not given).
        """
        field = name if field is None else field
        try:
            number = check_number(name, value)
        except InvalidValueError as error:
            error.field = field
            raise
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            side = "below" if self.minimum is not None and number < self.minimum else "above"
            raise InvalidValueError(
                f"{name} {number:g} is {side} the range of {self.name} ({self.describe_range()})",
                field=field,
                accepted=self.describe_range().removeprefix("accepted: "),
            )
        return number

    def describe_range(self) -> str:
        """Say which values this measure accepts, for error messages."""
        low = f"{-MAX_NUMBER:,.0f}" if self.minimum is None else f"{self.minimum:g}"
        high = f"{MAX_NUMBER:,.0f}" if self.maximum is None else f"{self.maximum:g}"
        return f"accepted: {low} to {high} {self.unit}"

    def improvement(self, before: float, after: float) -> float:
        """Return how much ``after`` improves on ``before`` (positive is better)."""
        change = after - before
        return change if self.direction == "increase" else -change


@attrs.frozen
class Target:
    """Where a goal starts from and what it aims for, by when."""

    baseline: float = attrs.field(converter=to_float, validator=finite("baseline"))
    value: float = attrs.field(converter=to_float, validator=finite("target value"))
    due_on: date = attrs.field(validator=is_date("due date"))


@attrs.frozen
class GoalDefinition:
    """Everything that defines a goal, as SMART evaluation sees it.

    A goal may start vague (no measure, no target): that is a ``proposed``
    goal, which SMART feedback helps refine.
    """

    statement: str = attrs.field(validator=text("goal statement", MAX_STATEMENT_LENGTH))
    start_on: date = attrs.field(validator=is_date("start date"))
    measure: Measure | None = attrs.field(
        default=None,
        validator=kind_of("measure", Measure, "a Measure (name, unit, direction)", required=False),
    )
    target: Target | None = attrs.field(
        default=None,
        validator=kind_of("target", Target, "a Target (baseline, value, due date)", required=False),
    )
    area: GoalArea | None = attrs.field(
        default=None, validator=one_of("goal area", GOAL_AREAS, required=False)
    )
    focus: Focus | None = attrs.field(
        default=None, validator=one_of("focus", FOCUSES, required=False)
    )
    practices: tuple[str, ...] = attrs.field(
        default=(), converter=to_text_tuple, validator=texts("practices")
    )
    priority: Priority = attrs.field(
        default="medium-priority", validator=one_of("priority", PRIORITIES)
    )
    review_every_days: int = attrs.field(default=28)
    gas_importance: int | None = attrs.field(default=None)
    """How much the goal matters to the client, 0 to 3, for the weighted GAS T-score."""
    gas_difficulty: int | None = attrs.field(default=None)
    """How hard the clinician judges the goal, 0 to 3; its GAS weight is importance x difficulty."""
    gas_levels: tuple[str, ...] = attrs.field(default=(), converter=to_text_tuple)
    """The goal's GAS scale: what each attainment level looks like for this client, five
    descriptions from much less than expected (-2) to much better than expected (+2), or none."""

    @gas_levels.validator
    def _check_gas_levels(self, attribute: attrs.Attribute[Any], value: object) -> None:
        field = field_of(self, attribute)
        accepted = "five descriptions, from much less than expected (-2) to much better (+2)"
        if not isinstance(value, tuple):
            raise refused("GAS levels", accepted, value, field=field)
        if value and len(value) != len(GAS_LEVELS):
            raise InvalidValueError(
                f"a GAS scale describes all {len(GAS_LEVELS)} levels, from -2 to +2; "
                f"got {len(value)}",
                field=field,
                accepted=accepted,
            )
        for index, description in enumerate(value):
            try:
                check_text(f"GAS level {GAS_LEVELS[index]:+d}", description, MAX_GAS_LEVEL_LENGTH)
            except InvalidValueError as error:
                error.field = f"{field}[{index}]"
                raise

    @gas_importance.validator
    @gas_difficulty.validator
    def _check_gas_rating(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value not in GAS_RATINGS:
            raise refused(
                attribute.name.replace("gas_", "GAS "),
                "a whole number from 0 to 3 (0 none, 1 a little, 2 moderately, 3 very)",
                value,
                field=field_of(self, attribute),
            )

    @property
    def gas_weight(self) -> int | None:
        """The goal's GAS weight, importance x difficulty, or ``None`` when they are not rated."""
        if self.gas_importance is None or self.gas_difficulty is None:
            return None
        return self.gas_importance * self.gas_difficulty

    @review_every_days.validator
    def _check_cadence(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
            raise refused(
                "review cadence",
                "a whole number of days from 1 to 365",
                value,
                field=field_of(self, attribute),
            )

    def __attrs_post_init__(self) -> None:
        if self.target is not None:
            if self.target.due_on <= self.start_on:
                raise InvalidValueError(
                    f"due date {self.target.due_on.isoformat()} must be after the start "
                    f"date {self.start_on.isoformat()}",
                    field="definition.target.due_on",
                    accepted=f"a date after {self.start_on.isoformat()}",
                )
            if self.measure is not None:
                self.measure.check_value(
                    self.target.baseline, "baseline", field="definition.target.baseline"
                )
                self.measure.check_value(
                    self.target.value, "target value", field="definition.target.value"
                )
        if self.target is not None and self.measure is None:
            raise InvalidValueError(
                "a target needs a measure: say what is measured (name, unit, direction)",
                field="definition.measure",
                accepted="a Measure (name, unit, direction)",
            )
        if (self.gas_importance is None) != (self.gas_difficulty is None):
            raise InvalidValueError(
                "a GAS weight needs both ratings: give the goal's GAS importance and "
                "GAS difficulty (0 to 3 each), or neither",
                field=(
                    "definition.gas_difficulty"
                    if self.gas_difficulty is None
                    else "definition.gas_importance"
                ),
                accepted="a whole number from 0 to 3",
            )

    @property
    def effective_focus(self) -> Focus:
        """The goal's focus, inferred from its measure when not given.

        A goal whose measure should go down reduces a symptom; one whose
        measure should go up builds a strength.
        """
        if self.focus is not None:
            return self.focus
        if self.measure is not None and self.measure.direction == "increase":
            return "strength-building"
        if self.area in ("relationships", "personal-growth"):
            return "strength-building"
        return "symptom-reduction"


@attrs.frozen
class Measurement:
    """One measurement recorded against a goal, with its correction state."""

    sequence: int
    value: float | None
    observed_on: date
    recorded_by: Actor
    note: str | None = None
    status: MeasurementStatus = "final"
    original_value: float | None = None
    correction_reason: str | None = None


def corrected(
    value: float | None, status: str, original_value: float | None, new_value: float | None
) -> tuple[MeasurementStatus, float | None]:
    """The status and the first recorded value of a measurement after a correction to ``new_value``.

    ``value``, ``status`` and ``original_value`` are the measurement's before
    it; ``None`` as ``new_value`` voids it. The first value recorded is kept
    across any number of corrections.
    """
    first_value = original_value if status == "amended" else value
    return ("entered-in-error" if new_value is None else "amended"), first_value


@attrs.frozen
class Review:
    """One progress review of a goal."""

    reviewed_on: date
    achievement: AchievementStatus
    decision: ReviewDecision
    reviewed_by: Actor
    attainment: int | None = None
    note: str | None = None


def as_uuid(value: object, kind: str) -> UUID:
    """``value`` as a UUID (a UUID, or its text), or :class:`InvalidValueError` naming ``kind``."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            pass
    raise refused(f"{kind} id", "a UUID", value, field=f"{kind}_id")


def jsonable(value: Any) -> Any:
    """Convert attrs values, dates, UUIDs, dicts, tuples and sets to JSON-compatible data."""
    if attrs.has(type(value)):
        return {f.name: jsonable(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return value
