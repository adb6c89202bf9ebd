"""Effective time: what was clinically in force on a date, from the dates the events carry.

goalpath keeps two times apart:

- **recorded time** (``as_of``, a date and time with a time zone): what the
  store knew at that moment, from the events' timestamps; a goal entered
  today is not in the plan of any earlier moment, whatever its start date;
- **effective time** (``effective_on``, a date): what was in force on that
  day, from the dates the events carry: a goal's start date, a
  measurement's observation date, a review's, a retirement's, a session's,
  an episode's opening and closing dates (:func:`~goalpath.core.changes.effective_on`).
  A goal entered today with start date 2026-10-01 is in the plan in effect
  on 2026-11-01.

An event that carries no date of its own takes effect as follows
(:func:`takes_effect_on`): a refinement, an activation and a therapist's
assignment on the day they were recorded (the timestamp's date in this
machine's time zone, as :func:`~goalpath.core.application.local_today`);
a correction (or void) of a measurement with the measurement it corrects,
since it says what was really observed on that day; an episode's
``GoalAdded`` link when the goal it adds is in effect (from its start
date).

:func:`in_force_on` replays an aggregate's events, in recording order,
leaving out those not yet in effect on the day (:func:`in_force` selects
them). Both views can be combined: the events recorded by ``as_of``, seen as
in force on ``effective_on``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

from goalpath.core.changes import effective_on
from goalpath.core.episode import Episode
from goalpath.core.goal import Goal

__all__ = [
    "FirstEvent",
    "in_force",
    "in_force_on",
    "recorded_on",
    "replay_with_gaps",
    "takes_effect_on",
]


def recorded_on(event: Any) -> date:
    """The day an event was recorded: its timestamp's date in this machine's time zone."""
    day: date = event.timestamp.astimezone().date()
    return day


def takes_effect_on(event: object) -> date | None:
    """The day an event takes effect, or ``None`` when it follows what it amends.

    An event's own date (:func:`~goalpath.core.changes.effective_on`) where it
    has one; else the day it was recorded, except for a measurement's
    correction (it takes effect with that measurement) and an episode's
    ``GoalAdded`` link (with the goal's own start date).
    """
    own = effective_on(event)
    if own is not None:
        return own
    if isinstance(event, Goal.MeasurementCorrected | Episode.GoalAdded):
        return None
    return recorded_on(event)


FirstEvent = Callable[[UUID], Any]
"""The first known event of a stream, or ``None``: for a goal, its ``Created``."""


def in_force(domain_events: Iterable[Any], day: date, first_event_of: FirstEvent) -> Iterator[Any]:
    """The events of a stream that are in effect on ``day``, in recording order.

    None at all when the stream's first event (a goal's creation, an
    episode's opening) takes effect after ``day``. A correction is in
    effect with the measurement it corrects; an episode's ``GoalAdded``
    link when the goal's first event (from ``first_event_of``) is.
    """
    measured: set[int] = set()

    def follows_in_effect(event: object) -> bool:
        if isinstance(event, Goal.MeasurementCorrected):
            return event.sequence in measured
        assert isinstance(event, Episode.GoalAdded)  # noqa: S101  # takes_effect_on's other one
        first = first_event_of(event.goal_id)
        starts = None if first is None else takes_effect_on(first)
        return starts is not None and starts <= day

    began = False
    for domain_event in domain_events:
        starts = takes_effect_on(domain_event)
        if not began:
            if starts is not None and starts > day:
                return
            began = True
        elif not (follows_in_effect(domain_event) if starts is None else starts <= day):
            continue
        if isinstance(domain_event, Goal.Measured):
            measured.add(domain_event.sequence)
        yield domain_event


def in_force_on(domain_events: Iterable[Any], day: date, first_event_of: FirstEvent) -> Any:
    """Replay a stream's events that are in effect on ``day``; ``None`` if none is yet.

    ``None`` when the stream's first event takes effect after ``day``: the
    goal had not started, the episode not opened. Events are applied in
    recording order (:func:`in_force`); one not yet in effect is left out,
    and the aggregate's ``version`` is that of the last event applied.
    """
    return replay_with_gaps(in_force(domain_events, day, first_event_of))


def replay_with_gaps(domain_events: Iterable[Any]) -> Any:
    """Replay events of one stream, in order, some perhaps left out; ``None`` if there are none.

    The aggregate's ``version`` is that of the last event applied.
    """
    aggregate: Any = None
    for domain_event in domain_events:
        if aggregate is not None:
            # An event left out before this one leaves a gap in the versions: the
            # library's mutate checks that each event is the next, so the gap is closed first.
            aggregate.version = domain_event.originator_version - 1
        aggregate = domain_event.mutate(aggregate)
    return aggregate
