"""What each SMART letter looks at: a goal definition's explicit values, else what was read.

:func:`smart_parts` reads the statement once
(:func:`goalpath.core.statement_reader.read_statement`) and lets what the
definition gives explicitly (measure, target, due date) win over what is
read, keeping the words each value was read from for the reasons.
"""

from __future__ import annotations

from datetime import date

import attrs

from goalpath.core.statement_reader import (
    InstrumentFacts,
    ReadNumber,
    StatementReading,
    read_statement,
)
from goalpath.core.values import Direction, GoalDefinition

__all__ = ["SmartParts", "smart_parts"]


@attrs.frozen
class SmartParts:
    """What one letter may look at: the definition's explicit values, else what was read.

    ``reading`` is the statement as read; the measure's name, unit and
    direction, the instrument, the baseline, target and due date (each with
    the words it was read from, or a description when given explicitly)
    come from the definition when it gives them. ``explicit_target`` says
    the target came from the definition rather than the text.
    """

    reading: StatementReading
    start_on: date
    measure_name: str | None
    unit: str | None
    direction: Direction | None
    instrument: InstrumentFacts | None
    baseline: float | None
    baseline_quote: str | None
    target: float | None
    target_quote: str | None
    due_on: date | None
    due_quote: str | None
    explicit_target: bool


def smart_parts(
    definition: GoalDefinition, instruments: tuple[InstrumentFacts, ...], session_interval_days: int
) -> SmartParts:
    """The parts of ``definition`` the five letters judge, its statement read once.

    A measure with a range names its instrument: one of ``instruments`` with
    that code, or one made from the measure itself.
    """
    reading = read_statement(
        definition.statement,
        definition.start_on,
        instruments=instruments,
        session_interval_days=session_interval_days,
    )
    measure = definition.measure
    instrument = reading.instrument
    if measure is not None and measure.minimum is not None and measure.maximum is not None:
        known = [i for i in instruments if i.code == measure.instrument]
        instrument = known[0] if known else None
        if instrument is None and measure.instrument is not None:
            instrument = InstrumentFacts(
                code=measure.instrument,
                name=measure.name,
                unit=measure.unit,
                direction=measure.direction,
                minimum=measure.minimum,
                maximum=measure.maximum,
            )
    target = definition.target
    if target is not None:
        return SmartParts(
            reading=reading,
            start_on=definition.start_on,
            measure_name=None if measure is None else measure.name,
            unit=None if measure is None else measure.unit,
            direction=None if measure is None else measure.direction,
            instrument=instrument,
            baseline=target.baseline,
            baseline_quote=_quote(reading.baseline, target.baseline, "a baseline of"),
            target=target.value,
            target_quote=_quote(reading.target, target.value, "a target of"),
            due_on=target.due_on,
            due_quote=(
                reading.time_frame.quote
                if reading.time_frame is not None and reading.time_frame.due_on == target.due_on
                else None
            ),
            explicit_target=True,
        )
    read_target = reading.target
    return SmartParts(
        reading=reading,
        start_on=definition.start_on,
        measure_name=measure.name if measure is not None else reading.measure,
        unit=measure.unit if measure is not None else reading.unit,
        direction=measure.direction if measure is not None else reading.direction,
        instrument=instrument,
        baseline=None if reading.baseline is None else reading.baseline.value,
        baseline_quote=None if reading.baseline is None else reading.baseline.quote,
        target=None if read_target is None else read_target.value,
        target_quote=None if read_target is None else read_target.quote,
        due_on=None if reading.time_frame is None else reading.time_frame.due_on,
        due_quote=None if reading.time_frame is None else reading.time_frame.quote,
        explicit_target=False,
    )


def _quote(read: ReadNumber | None, value: float, lead: str) -> str:
    """The words a value was read from, or a description when it was given explicitly."""
    if read is not None and read.value == value:
        return read.quote
    return f"{lead} {value:g}"
