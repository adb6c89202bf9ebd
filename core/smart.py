"""SMART evaluation: a pure function from a goal definition to a report.

Each of the five letters gets a verdict, the reason for it, and (when it
fails) a suggestion a clinician can act on. Nothing here touches storage.

The statement is read by :func:`goalpath.core.statement_reader.read_statement`;
what the definition gives explicitly (measure, target, due date) wins over
what is read (:mod:`goalpath.core.smart_parts`). Achievable's rules are in
:mod:`goalpath.core.achievability`, the goal areas Relevant looks for in
:mod:`goalpath.core.goal_areas`. Each letter is judged on its own parts
only, so that adding a due date changes Time-bound and nothing else. The
checks are explainable rules rather than a model: a clinician must be able
to see why a goal was judged as it was, and each reason quotes the words it
was read from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Literal

import attrs

from goalpath.core.achievability import (
    HEAVY_DRINKING_UNITS_PER_DAY,
    MAX_HORIZON_DAYS,
    MAX_INSTRUMENT_WEEKLY_SHARE,
    MAX_WEEKLY_RELATIVE_CHANGE,
    MAX_WEEKLY_TARGET_SHARE,
    MIN_DAILY_CALORIES,
    MIN_HORIZON_DAYS,
    MIN_WEEKLY_STEP,
    SAFE_WEIGHT_CHANGE_KG_PER_WEEK,
    achievability_problem,
    achievable_checks,
)
from goalpath.core.errors import GoalpathError
from goalpath.core.goal_areas import area_words, infer_area
from goalpath.core.smart_parts import SmartParts, smart_parts
from goalpath.core.statement_reader import InstrumentFacts, StatementReading, read_statement
from goalpath.core.values import GoalArea, GoalDefinition, Measure, Target

__all__ = [
    "HEAVY_DRINKING_UNITS_PER_DAY",
    "MAX_HORIZON_DAYS",
    "MAX_INSTRUMENT_WEEKLY_SHARE",
    "MAX_WEEKLY_RELATIVE_CHANGE",
    "MAX_WEEKLY_TARGET_SHARE",
    "MIN_DAILY_CALORIES",
    "MIN_HORIZON_DAYS",
    "MIN_WEEKLY_STEP",
    "SAFE_WEIGHT_CHANGE_KG_PER_WEEK",
    "InstrumentFacts",
    "SmartReport",
    "SmartVerdict",
    "draft_definition",
    "evaluate_smart",
    "evaluate_statement",
    "infer_area",
]

Letter = Literal["specific", "measurable", "achievable", "relevant", "time-bound"]


@attrs.frozen
class SmartVerdict:
    """The verdict on one SMART letter."""

    letter: Letter
    passed: bool
    reason: str
    suggestion: str | None = None


@attrs.frozen
class SmartReport:
    """One verdict per SMART letter."""

    specific: SmartVerdict
    measurable: SmartVerdict
    achievable: SmartVerdict
    relevant: SmartVerdict
    time_bound: SmartVerdict

    @property
    def verdicts(self) -> tuple[SmartVerdict, ...]:
        """The five verdicts in S, M, A, R, T order."""
        return (self.specific, self.measurable, self.achievable, self.relevant, self.time_bound)

    @property
    def passed(self) -> bool:
        """Whether every letter passed."""
        return all(verdict.passed for verdict in self.verdicts)

    @property
    def failed_letters(self) -> tuple[Letter, ...]:
        """The letters that did not pass."""
        return tuple(verdict.letter for verdict in self.verdicts if not verdict.passed)

    def summary(self) -> str:
        """A short one-line verdict: ``S M A R T``; a letter not met is lower case with ``?``.

        ``S m? A R t?`` reads "specific, not yet measurable, achievable,
        relevant, not yet time-bound"; ``goal show`` and ``goalpath smart`` give
        the reason for each letter.
        """
        letters = ("S", "M", "A", "R", "T")
        return " ".join(
            letter if verdict.passed else letter.lower() + "?"
            for letter, verdict in zip(letters, self.verdicts, strict=True)
        )


def _check_specific(definition: GoalDefinition, parts: SmartParts) -> SmartVerdict:
    reading = parts.reading
    situation = reading.situation or (
        f"by {definition.practices[0]}" if definition.practices else None
    )
    suggestion_example = (
        "for example 'walk to the shop alone 3 times a week' or 'use the breathing space "
        "when I notice worry'"
    )
    if reading.behaviour and situation and not _only_a_wish(reading):
        return SmartVerdict(
            "specific",
            passed=True,
            reason=f"read a behaviour ('{reading.behaviour}') and when or how ('{situation}')",
        )
    if reading.behaviour is None or _only_a_wish(reading):
        wish = f"states a wish or a feeling ('{reading.wish}')" if reading.wish else "states"
        reason = (
            f"{wish} but no behaviour the client will do"
            if reading.wish
            else ("read no behaviour the client will do")
        )
        suggestion = "say what the client will do differently and in which situation, " + (
            suggestion_example
        )
    else:
        reason = f"read a behaviour ('{reading.behaviour}') but not when, where, how often or how"
        suggestion = (
            f"say when, where, how often or by what means the client will "
            f"{reading.behaviour.split()[0]}, {suggestion_example}"
        )
    return SmartVerdict("specific", passed=False, reason=reason, suggestion=suggestion)


def _only_a_wish(reading: StatementReading) -> bool:
    """A wish that comes before any behaviour, or global words, is a wish, not a behaviour."""
    if reading.wish is None:
        return False
    if any(word in ("everything",) for word in reading.absolutes):
        return True
    if reading.behaviour is None:
        return True
    return reading.text.find(reading.wish) <= reading.text.find(reading.behaviour.split()[0])


def _check_measurable(parts: SmartParts) -> SmartVerdict:
    missing: list[str] = []
    what = parts.measure_name or parts.unit or (parts.instrument.name if parts.instrument else None)
    has_target = parts.target is not None
    if what is None and not has_target:
        missing.append("a measure (what is counted or rated)")
    if not has_target:
        missing.append("a target (where the client wants to be)")
    if parts.baseline is None and not parts.reading.maintenance:
        missing.append("a baseline (where the client is now)")
    if missing:
        read = f"read {parts.target_quote!r}; " if parts.target_quote else ""
        examples = {
            "a measure (what is counted or rated)": "what will be counted or rated "
            "(panic attacks a week, "
            "a PHQ-9 total)",
            "a target (where the client wants to be)": "the number aimed for ('to 1 a week', "
            "'at least 3 times a week')",
            "a baseline (where the client is now)": "where the client is now ('up from 0', "
            "'from 3 a week')",
        }
        return SmartVerdict(
            "measurable",
            passed=False,
            reason=f"{read}missing " + "; ".join(missing),
            suggestion="add " + "; and ".join(examples[item] for item in missing),
        )
    direction = parts.direction
    if (
        parts.baseline is not None
        and parts.target is not None
        and not math.isnan(parts.target)
        and direction is not None
        and (parts.target - parts.baseline) * (1 if direction == "increase" else -1) <= 0
        and parts.explicit_target
    ):
        return SmartVerdict(
            "measurable",
            passed=False,
            reason=(
                f"the target {parts.target:g} is not an improvement on the baseline "
                f"{parts.baseline:g} for a measure that should {direction}"
            ),
            suggestion=(
                f"set a target {'above' if direction == 'increase' else 'below'} "
                f"the baseline, or check the measure's direction"
            ),
        )
    quotes = [q for q in (parts.baseline_quote, parts.target_quote) if q]
    if parts.reading.maintenance and parts.baseline is None:
        quotes.append("a level to keep")
    measured = what or "the count"
    return SmartVerdict(
        "measurable",
        passed=True,
        reason=f"read {measured}"
        + (f" ({parts.unit})" if parts.unit and parts.unit != measured else "")
        + ": "
        + "; ".join(dict.fromkeys(f"'{q}'" for q in quotes)),
    )


def _check_achievable(parts: SmartParts) -> SmartVerdict:
    failure = achievability_problem(parts)
    if failure is not None:
        reason, suggestion = failure
        return SmartVerdict("achievable", passed=False, reason=reason, suggestion=suggestion)
    return SmartVerdict("achievable", passed=True, reason=achievable_checks(parts))


def _words(statement: str) -> list[str]:
    return re.findall(r"[a-z][a-z'\-]*", statement.lower())


def _check_relevant(
    definition: GoalDefinition, parts: SmartParts, concerns: tuple[str, ...]
) -> SmartVerdict:
    text = parts.reading.text
    area = definition.area or infer_area(text)
    if area is None:
        return SmartVerdict(
            "relevant",
            passed=False,
            reason="read nothing that ties it to one of the four goal areas (symptom relief, "
            "behavioural change, relationships, personal growth)",
            suggestion="say which area the goal serves or what it is for (for example 'to lift "
            "my mood'), or link it to a presenting concern",
        )
    if concerns:
        statement_words = {word for word in _words(text) if len(word) >= 4}
        concern_words = {word for concern in concerns for word in _words(concern) if len(word) >= 4}
        overlap = _stems(statement_words) & _stems(concern_words)
        if not overlap and definition.area is None:
            return SmartVerdict(
                "relevant",
                passed=False,
                reason=(
                    f"belongs to {area}, but does not mention any presenting concern "
                    f"({'; '.join(concerns)})"
                ),
                suggestion="link the goal to what brought the client to therapy, or set "
                "its goal area explicitly if it serves a concern in another way",
            )
    words = area_words(area, text)
    read = f" (read '{words[0]}')" if words and definition.area is None else ""
    return SmartVerdict("relevant", passed=True, reason=f"serves the goal area {area}{read}")


def _stems(words: set[str]) -> set[str]:
    return {word[:4] for word in words}


def _check_time_bound(definition: GoalDefinition, parts: SmartParts) -> SmartVerdict:
    if parts.due_on is None:
        vague = parts.reading.vague_time
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"read '{vague}', which is not a date" if vague else "read no due date",
            suggestion="agree when the goal should be reached, for example 'within 6 weeks', "
            "'over the next 8 sessions' or 'by 30 June'",
        )
    days = (parts.due_on - definition.start_on).days
    read = f"read '{parts.due_quote}': " if parts.due_quote else ""
    if days < MIN_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"{read}due in {days} days: too soon for change to be observed",
            suggestion="allow at least a week, so that more than one measurement is possible",
        )
    if days > MAX_HORIZON_DAYS:
        return SmartVerdict(
            "time-bound",
            passed=False,
            reason=f"{read}due in {days} days: too far away to steer therapy by",
            suggestion="set an intermediate goal due within a year, and review it on the way",
        )
    return SmartVerdict(
        "time-bound",
        passed=True,
        reason=f"{read}due on {parts.due_on.isoformat()} ({days} days)",
    )


def evaluate_smart(
    definition: GoalDefinition,
    concerns: Iterable[str] = (),
    *,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> SmartReport:
    """Evaluate a goal definition against the five SMART letters.

    ``concerns`` are the episode's presenting concerns; when given, a goal
    whose area is not set explicitly must mention one of them to be Relevant.
    ``instruments`` are the instruments a statement may name (from the plugin
    registry, passed in by the caller); ``session_interval_days`` is the
    episode's session cadence, for time frames counted in sessions.
    """
    concern_tuple = tuple(concerns)
    parts = smart_parts(definition, tuple(instruments), session_interval_days)
    return SmartReport(
        specific=_check_specific(definition, parts),
        measurable=_check_measurable(parts),
        achievable=_check_achievable(parts),
        relevant=_check_relevant(definition, parts, concern_tuple),
        time_bound=_check_time_bound(definition, parts),
    )


def evaluate_statement(
    statement: str,
    start_on: date,
    concerns: Iterable[str] = (),
    *,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> SmartReport:
    """Evaluate a statement on its own: :func:`draft_definition`, then :func:`evaluate_smart`."""
    instrument_tuple = tuple(instruments)
    definition = draft_definition(
        statement,
        start_on,
        instruments=instrument_tuple,
        session_interval_days=session_interval_days,
    )
    return evaluate_smart(
        definition,
        concerns,
        instruments=instrument_tuple,
        session_interval_days=session_interval_days,
    )


def draft_definition(
    statement: str,
    start_on: date,
    *,
    measure: Measure | None = None,
    target: Target | None = None,
    area: GoalArea | None = None,
    instruments: Iterable[InstrumentFacts] = (),
    session_interval_days: int = 7,
) -> GoalDefinition:
    """Build a goal definition from a statement, reading what it says about numbers and time.

    A statement such as "reduce my panic attacks from 3 to 1 per week within 6
    weeks" gives a measure (panic attacks, per week, decrease), a baseline of
    3, a target of 1 and a due date six weeks after ``start_on``. Anything
    given explicitly wins over what is read from the text. A target is drafted
    only when a baseline, a target and a due date are all read and valid for
    the measure; otherwise SMART feedback says what is missing.
    """
    reading = read_statement(
        statement,
        start_on,
        instruments=instruments,
        session_interval_days=session_interval_days,
    )
    if measure is None:
        measure = _drafted_measure(reading)
    if target is None and measure is not None:
        target = _drafted_target(reading, start_on, measure)
    practices: tuple[str, ...] = ()
    by_practice = re.search(r"\bby\s+(practi[sc]ing\s+[^.,;]+)", statement, re.IGNORECASE)
    if by_practice:
        practices = (by_practice.group(1).strip(),)
    return GoalDefinition(
        statement=statement,
        start_on=start_on,
        measure=measure,
        target=target if measure is not None else None,
        area=area,
        practices=practices,
    )


def _drafted_measure(reading: StatementReading) -> Measure | None:
    if reading.target is None or reading.direction is None:
        return None
    instrument = reading.instrument
    if instrument is not None:
        return Measure(
            name=instrument.name,
            unit=instrument.unit,
            direction=instrument.direction,
            instrument=instrument.code,
            minimum=instrument.minimum,
            maximum=instrument.maximum,
        )
    name = reading.measure or "count"
    unit = reading.unit or "count"
    if name == unit:
        name = f"{name} recorded"
    return Measure(name=name[:200], unit=unit[:100], direction=reading.direction, minimum=0.0)


def _drafted_target(reading: StatementReading, start_on: date, measure: Measure) -> Target | None:
    if reading.baseline is None or reading.target is None or reading.time_frame is None:
        return None
    baseline, value = reading.baseline.value, reading.target.value
    if math.isnan(value) or reading.time_frame.due_on <= start_on:
        return None
    try:
        measure.check_value(baseline)
        measure.check_value(value)
    except GoalpathError:
        return None  # out of the measure's range: Achievable says why
    return Target(baseline=baseline, value=value, due_on=reading.time_frame.due_on)
