"""The window of recent measurements a goal's state keeps, and its rules.

A goal measured daily holds hundreds of measurements a year, and a host
migrating years of history holds thousands. The Goal aggregate does not keep
them all: its state, and so its snapshot, holds a summary whose size does not
grow with the history (:func:`window_measured`): how many measurements were
recorded, how many are valid, and the latest valid ones by observation date
(at most :data:`RECENT_MEASUREMENTS`). Commands need no more: a new
measurement's number is the count plus one, and a correction of an older
measurement is given that measurement as it stands, read from the events.

The full series, with every correction applied, comes from the goal's events
(:func:`goalpath.core.measurements.measurement_series`), which are the
record; the read models keep it too, for the plan and progress.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterable, Sequence
from typing import Any, Final

from goalpath.core.values import Measurement, corrected

__all__ = [
    "RECENT_MEASUREMENTS",
    "corrected_measurement",
    "find_in",
    "observation_order",
    "window_corrected",
    "window_measured",
    "window_of",
]

RECENT_MEASUREMENTS: Final = 20
"""How many of the latest valid measurements (by observation date) a goal's state keeps."""


def observation_order(measurement: Measurement) -> tuple[Any, int]:
    """The order of measurements by observation: date, then number (the later recorded last)."""
    return (measurement.observed_on, measurement.sequence)


def corrected_measurement(original: Measurement, value: float | None, reason: str) -> Measurement:
    """``original`` after a correction to ``value`` (``None`` voids it), for ``reason``."""
    status, first_value = corrected(original.value, original.status, original.original_value, value)
    return Measurement(
        sequence=original.sequence,
        value=value,
        observed_on=original.observed_on,
        recorded_by=original.recorded_by,
        note=original.note,
        status=status,
        original_value=first_value,
        correction_reason=reason,
    )


def window_measured(
    window: list[Measurement], floor: Measurement | None, measurement: Measurement
) -> Measurement | None:
    """Add a new valid ``measurement`` to a goal's ``window``; return the window's new floor.

    The window holds the valid measurements observed after its ``floor`` (by
    :func:`observation_order`), oldest first: every valid one when the floor
    is ``None``. When it would hold more than :data:`RECENT_MEASUREMENTS` its
    oldest leaves it and becomes the floor. A measurement observed before the
    floor (a backdated one, on a long history) is outside it.
    """
    if floor is not None and observation_order(measurement) < observation_order(floor):
        return floor
    insort(window, measurement, key=observation_order)
    if len(window) > RECENT_MEASUREMENTS:
        return window.pop(0)
    return floor


def window_corrected(window: list[Measurement], correction: Measurement) -> None:
    """Apply a correction to a goal's window: a voided measurement leaves it, an amended one stays.

    A voided measurement leaves the window without another taking its
    place (the window then holds fewer than the limit, never a wrong one).
    """
    index = find_in(window, correction.sequence)
    if index is None:
        return
    if correction.value is None:
        del window[index]
    else:
        window[index] = correction


def find_in(window: Sequence[Measurement], sequence: int) -> int | None:
    """Where measurement number ``sequence`` is in ``window``, or ``None``."""
    return next((i for i, m in enumerate(window) if m.sequence == sequence), None)


def window_of(series: Iterable[Measurement]) -> tuple[list[Measurement], Measurement | None]:
    """The window of a full series and its floor: its latest valid measurements, oldest first.

    The window a goal's state holds after replaying every event may differ
    from this one (a voided measurement is not replaced in it): both keep
    :func:`window_measured`'s rule.
    """
    valid = sorted((m for m in series if m.value is not None), key=observation_order)
    if len(valid) <= RECENT_MEASUREMENTS:
        return valid, None
    return valid[-RECENT_MEASUREMENTS:], valid[-RECENT_MEASUREMENTS - 1]
