"""A goal's full series of measurements, from its events.

The Goal aggregate keeps only a summary of its measurements
(:mod:`goalpath.core.measurement_window`); the events are the record, and
this module reads the series from them: for ``GoalpathApp.goal_measurements``,
for a correction of a measurement outside the summary, and for exports.
"""

from __future__ import annotations

from collections.abc import Iterable

from goalpath.core.goal import Goal
from goalpath.core.measurement_window import corrected_measurement, window_of
from goalpath.core.values import Measurement

__all__ = ["measurement_series", "with_recent_from"]


def measurement_series(domain_events: Iterable[object]) -> list[Measurement]:
    """Every measurement a goal's events record, by number, with its corrections applied.

    Voided measurements are in it (status ``entered-in-error``, no value), as
    in the record. Events of other kinds are passed over, so a goal's whole
    stream (or the part of it in effect on a day) can be given.
    """
    series: list[Measurement] = []
    where: dict[int, int] = {}
    for domain_event in domain_events:
        if isinstance(domain_event, Goal.Measured):
            where[domain_event.sequence] = len(series)
            series.append(
                Measurement(
                    sequence=domain_event.sequence,
                    value=domain_event.value,
                    observed_on=domain_event.observed_on,
                    recorded_by=domain_event.actor,
                    note=domain_event.note,
                )
            )
        elif isinstance(domain_event, Goal.MeasurementCorrected):
            index = where.get(domain_event.sequence)
            if index is not None:
                series[index] = corrected_measurement(
                    series[index], domain_event.value, domain_event.reason
                )
    return series


def with_recent_from(goal: Goal, domain_events: Iterable[object]) -> Goal:
    """A copy of ``goal`` whose recent measurements are taken from its ``domain_events``.

    For a reader whose goal does not know its latest measurement
    (:attr:`Goal.latest_known`); ``goal`` itself, and its stored state, are
    unchanged.
    """
    copy = object.__new__(type(goal))
    copy.__dict__.update(goal.__dict__)
    copy.recent_measurements, copy.recent_floor = window_of(measurement_series(domain_events))
    return copy
