"""The Goal aggregate: one therapy goal of one episode, and every change to it.

Public command methods (``refine``, ``activate``, ``measure``...) check the
rules and raise a typed error before anything happens; only then do they
trigger an event, whose ``apply`` method changes state. Replaying stored
events runs only the ``apply`` methods, so it never re-checks rules that
depend on the day the command was given.

This module is over 500 lines because it is one aggregate: its events, its
command methods with the rules each checks, its apply methods, and the
status transitions every reader of its events asks (:func:`status_after`)
belong together, as in eventsourcing's own aggregates; splitting them would
put the rules of one goal in several places.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from goalpath.core.errors import (
    InvalidCommandError,
    InvalidValueError,
    NotSmartError,
    UnhandledEventError,
)
from goalpath.core.measurement_window import (
    corrected_measurement,
    find_in,
    window_corrected,
    window_measured,
    window_of,
)
from goalpath.core.smart import SmartReport, evaluate_smart
from goalpath.core.values import (
    ACHIEVEMENT_STATUSES,
    GAS_LEVELS,
    MAX_TEXT_LENGTH,
    RETIREMENT_REASONS,
    REVIEW_DECISIONS,
    AchievementStatus,
    Actor,
    GoalDefinition,
    LifecycleStatus,
    Measurement,
    RetirementReason,
    Review,
    ReviewDecision,
    check_actor,
    check_date,
    check_reason,
    check_text,
)

__all__ = [
    "RETIRED_STATUS",
    "REVIEWABLE_STATUSES",
    "TERMINAL_STATUSES",
    "EventAppender",
    "Goal",
    "latest_attainment_by_review_date",
    "latest_review_by_date",
    "status_after",
    "status_after_review",
    "trigger_each",
]

EventAppender = Callable[[Aggregate, type[Any], Iterable[dict[str, Any]]], object]
"""Triggers events of one class on an aggregate, one per dict of fields, in turn.

The events of one call are recorded at one moment (one timestamp): they are
stored together, so there is no moment at which only some of them were
recorded, and a read "as of" a time shows all of them or none.
:func:`trigger_each` is the library's way; the application passes the storage
layer's faster equivalent (:func:`goalpath.core.storage.replay.append_events`)
for imports, so the domain does not depend on storage.
"""


def trigger_each(
    aggregate: Aggregate, event_class: type[Any], rows: Iterable[dict[str, Any]]
) -> None:
    """Trigger one event of ``event_class`` per dict of fields: the library's own path."""
    timestamp = event_class.create_timestamp()
    for fields in rows:
        aggregate.trigger_event(event_class, timestamp=timestamp, **fields)


TERMINAL_STATUSES: Final[frozenset[str]] = frozenset({"completed", "cancelled", "entered-in-error"})
"""Statuses after which a goal accepts no further change."""

RETIRED_STATUS: Final[dict[str, LifecycleStatus]] = {
    "achieved": "completed",
    "entered-in-error": "entered-in-error",
    "no-longer-relevant": "cancelled",
    "replaced": "cancelled",
    "client-discharged": "cancelled",
}
"""The lifecycle status a goal takes for each retirement reason."""

REVIEWABLE_STATUSES: Final[tuple[str, ...]] = ("active", "on-hold")
"""Statuses in which a goal is reviewed (and must stay SMART)."""

_STATUS_AFTER_DECISION: Final[dict[str, LifecycleStatus]] = {"pause": "on-hold", "resume": "active"}


def status_after_review(decision: str) -> LifecycleStatus | None:
    """The status a review decision gives a goal, or ``None`` when it leaves the status alone."""
    return _STATUS_AFTER_DECISION.get(decision)


def latest_attainment_by_review_date(
    reviews: Iterable[tuple[date, int | None]],
) -> tuple[int | None, date | None]:
    """The GAS level of the latest review by review date that scored one, with that date.

    ``reviews`` are ``(reviewed_on, attainment)`` in recording order. A review
    backdated to before another does not win; of two on the same date the one
    recorded later does. ``(None, None)`` when no review scored GAS.
    """
    latest: tuple[int | None, date | None] = (None, None)
    for reviewed_on, attainment in reviews:
        if attainment is None:
            continue
        if latest[1] is None or reviewed_on >= latest[1]:
            latest = (attainment, reviewed_on)
    return latest


def latest_review_by_date(reviews: Iterable[Review]) -> Review | None:
    """The latest review by review date; of two on the same date, the one recorded later.

    ``reviews`` in recording order; ``None`` when there is none.
    """
    latest: Review | None = None
    for review in reviews:
        if latest is None or review.reviewed_on >= latest.reviewed_on:
            latest = review
    return latest


def _check_note(value: object) -> str | None:
    if value is None:
        return None
    return check_text("note", value, MAX_TEXT_LENGTH)


class Goal(Aggregate):
    """A therapy goal: its definition, status, a summary of its measurements, and its reviews.

    Its state keeps how many measurements were recorded and are valid, and
    the latest valid ones (:attr:`recent_measurements`); the full series is
    in its events (:func:`goalpath.core.measurements.measurement_series`),
    so a goal with years of daily measurements loads and snapshots in the
    same time and space as a new one.
    """

    class_version = 2
    """2: the state keeps a summary of the measurements, not each (see :meth:`upcast_v1_v2`)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A version 1 snapshot's state (every measurement, in ``measurements``) as version 2's."""
        series = state.pop("measurements")
        state["measurement_count"] = len(series)
        state["valid_measurement_count"] = sum(1 for m in series if m.value is not None)
        state["recent_measurements"], state["recent_floor"] = window_of(series)

    class Created(Aggregate.Created):
        """A goal was stated, possibly in the client's own vague words."""

        episode_id: UUID
        client_id: str
        definition: GoalDefinition
        status: LifecycleStatus
        concerns: tuple[str, ...]
        actor: Actor
        template_id: str | None
        template_version: str | None

    class Refined(Aggregate.Event):
        """The statement, target, due date, practices or priority changed, for a reason."""

        definition: GoalDefinition
        reason: str
        actor: Actor

    class Activated(Aggregate.Event):
        """Client and therapist agreed to pursue the goal."""

        actor: Actor

    class Measured(Aggregate.Event):
        """A measurement against the goal's measure."""

        sequence: int
        value: float
        observed_on: date
        note: str | None
        actor: Actor

    class MeasurementCorrected(Aggregate.Event):
        """A recorded measurement was corrected (new value) or voided (no value)."""

        sequence: int
        value: float | None
        reason: str
        actor: Actor

    class Reviewed(Aggregate.Event):
        """A progress review with an achievement status and a decision."""

        reviewed_on: date
        achievement: AchievementStatus
        decision: ReviewDecision
        attainment: int | None
        note: str | None
        actor: Actor

    class Retired(Aggregate.Event):
        """The goal ended; nothing may follow."""

        reason_code: RetirementReason
        reason: str
        retired_on: date
        replaced_by: UUID | None
        actor: Actor

    @event(Created)
    def __init__(
        self,
        *,
        episode_id: UUID,
        client_id: str,
        definition: GoalDefinition,
        status: LifecycleStatus,
        concerns: tuple[str, ...],
        actor: Actor,
        template_id: str | None,
        template_version: str | None,
    ) -> None:
        self.episode_id = episode_id
        self.client_id = client_id
        self.definition = definition
        self.status: LifecycleStatus = status
        self.concerns = list(concerns)
        self.created_by = actor
        self.template_id = template_id
        self.template_version = template_version
        self.measurement_count = 0
        self.valid_measurement_count = 0
        self.recent_measurements: list[Measurement] = []
        self.recent_floor: Measurement | None = None
        self.reviews: list[Review] = []
        self.retirement_reason: RetirementReason | None = None
        self.replaced_by: UUID | None = None
        self.ended_on: date | None = None

    # -- creation -----------------------------------------------------------

    @classmethod
    def state(
        cls,
        *,
        episode_id: UUID,
        client_id: str,
        definition: GoalDefinition,
        actor: Actor,
        concerns: tuple[str, ...] = (),
        activate: bool = False,
        goal_id: UUID | None = None,
        template_id: str | None = None,
        template_version: str | None = None,
        episode_opened_on: date | None = None,
    ) -> Goal:
        """State a new goal; with ``activate`` it starts ``active``, which needs it to be SMART.

        A goal cannot start before its episode opened (``episode_opened_on``).
        """
        check_actor(actor)
        if not isinstance(definition, GoalDefinition):
            raise InvalidValueError(f"definition must be a GoalDefinition; got {definition!r}")
        if episode_opened_on is not None and definition.start_on < episode_opened_on:
            raise InvalidValueError(
                f"the goal's start date {definition.start_on.isoformat()} is before episode "
                f"{episode_id} opened ({episode_opened_on.isoformat()})"
            )
        status: LifecycleStatus = "proposed"
        if activate:
            report = evaluate_smart(definition, concerns)
            if not report.passed:
                raise _not_smart(report)
            status = "active"
        return cls._create(
            cls.Created,
            id=goal_id,
            episode_id=episode_id,
            client_id=client_id,
            definition=definition,
            status=status,
            concerns=tuple(concerns),
            actor=actor,
            template_id=template_id,
            template_version=template_version,
        )

    # -- reads ----------------------------------------------------------------

    @property
    def smart(self) -> SmartReport:
        """The SMART report of the current definition."""
        return evaluate_smart(self.definition, self.concerns)

    @property
    def is_terminal(self) -> bool:
        """Whether the goal has been retired."""
        return self.status in TERMINAL_STATUSES

    @property
    def latest_measurement(self) -> Measurement | None:
        """The most recently observed valid measurement, if any (see :attr:`latest_known`)."""
        return self.recent_measurements[-1] if self.recent_measurements else None

    @property
    def latest_known(self) -> bool:
        """Whether :attr:`latest_measurement` is known from the state alone.

        Not known only when every recent measurement was voided and older
        valid ones remain outside the window: a reader then takes the
        series from the events
        (:func:`goalpath.core.measurements.with_recent_from`).
        """
        return bool(self.recent_measurements) or self.recent_floor is None

    def recent_measurement(self, sequence: int) -> Measurement | None:
        """Measurement number ``sequence`` if it is among the recent valid ones, else ``None``."""
        index = find_in(self.recent_measurements, sequence)
        return None if index is None else self.recent_measurements[index]

    @property
    def last_reviewed_on(self) -> date | None:
        """The date of the latest review, if any."""
        return max((r.reviewed_on for r in self.reviews), default=None)

    @property
    def next_review_due(self) -> date | None:
        """When the next review is due, or ``None`` for a retired goal."""
        if self.is_terminal:
            return None
        since = self.last_reviewed_on or self.definition.start_on
        return since + timedelta(days=self.definition.review_every_days)

    @property
    def latest_attainment(self) -> int | None:
        """The GAS level of the latest review by review date that recorded one.

        By :func:`latest_attainment_by_review_date`: a review backdated to
        before another does not replace its level.
        """
        level, _reviewed_on = latest_attainment_by_review_date(
            (review.reviewed_on, review.attainment) for review in self.reviews
        )
        return level

    @property
    def latest_achievement(self) -> AchievementStatus | None:
        """The achievement status of the latest review by date (of one day, the last recorded)."""
        latest = latest_review_by_date(self.reviews)
        return None if latest is None else latest.achievement

    # -- commands ---------------------------------------------------------------

    def _refuse_if_terminal(self, action: str) -> None:
        if self.is_terminal:
            raise InvalidCommandError(
                f"goal {self.id} is {self.status} (retired): it cannot {action}; "
                "state a new goal instead"
            )

    def refine(self, definition: GoalDefinition, reason: str, actor: Actor) -> None:
        """Change the goal's definition, for a reason.

        The measure, once set, cannot change: a different measure is a new
        goal that replaces this one. An active goal must stay SMART.
        """
        self._refuse_if_terminal("be refined")
        check_actor(actor)
        checked_reason = check_reason(reason, "refine a goal")
        if not isinstance(definition, GoalDefinition):
            raise InvalidValueError(f"definition must be a GoalDefinition; got {definition!r}")
        current = self.definition.measure
        if current is not None and definition.measure != current:
            raise InvalidCommandError(
                f"the measure of goal {self.id} ({current.name}, {current.unit}, "
                f"{current.direction}) cannot change: a goal measured differently is a new "
                "goal; retire this one as 'replaced' and state the new one"
            )
        if definition.start_on != self.definition.start_on:
            raise InvalidCommandError(
                f"the start date of goal {self.id} ({self.definition.start_on.isoformat()}) "
                "cannot change; measurements and reviews are dated from it"
            )
        if definition == self.definition:
            raise InvalidCommandError(
                "the refinement changes nothing; give a new statement, target, due date, "
                "practices, priority, cadence or GAS scale"
            )
        if self.status in REVIEWABLE_STATUSES:
            report = evaluate_smart(definition, self.concerns)
            if not report.passed:
                raise _not_smart(report, "an active goal must stay SMART")
        self._refined(definition=definition, reason=checked_reason, actor=actor)

    @event(Refined)
    def _refined(self, definition: GoalDefinition, reason: str, actor: Actor) -> None:
        self.definition = definition

    def activate(self, actor: Actor) -> None:
        """Agree to pursue the goal; only a proposed, SMART goal can be activated."""
        self._refuse_if_terminal("be activated")
        check_actor(actor)
        if self.status != "proposed":
            raise InvalidCommandError(
                f"goal {self.id} is {self.status}; only a proposed goal can be activated "
                "(resume an on-hold goal with a review)"
            )
        report = self.smart
        if not report.passed:
            raise _not_smart(report)
        self._activated(actor=actor)

    @event(Activated)
    def _activated(self, actor: Actor) -> None:
        self.status = "active"

    def measure(
        self, value: float, *, observed_on: date, actor: Actor, today: date, note: str | None = None
    ) -> int:
        """Record a measurement; return its sequence number (1 for the first)."""
        self._refuse_if_terminal("be measured")
        check_actor(actor)
        measure = self.definition.measure
        if measure is None:
            raise InvalidCommandError(
                f"goal {self.id} has no measure yet; refine it with a measure first"
            )
        number = measure.check_value(value)
        observed = self._check_effective_date("observation date", observed_on, today)
        checked_note = _check_note(note)
        sequence = self.measurement_count + 1
        self._measured(
            sequence=sequence, value=number, observed_on=observed, note=checked_note, actor=actor
        )
        return sequence

    def measure_many(
        self,
        rows: Iterable[tuple[float, date, str | None]],
        *,
        actor: Actor,
        today: date,
        append: EventAppender = trigger_each,
    ) -> range:
        """Record many measurements at once, for importing history; return their numbers.

        Every row is checked before any is recorded, so a bad row (named by
        its position, from 1) leaves the goal unchanged. ``append`` triggers
        the checked events (see :data:`EventAppender`).
        """
        self._refuse_if_terminal("be measured")
        check_actor(actor)
        measure = self.definition.measure
        if measure is None:
            raise InvalidCommandError(
                f"goal {self.id} has no measure yet; refine it with a measure first"
            )
        checked: list[tuple[float, date, str | None]] = []
        for index, row in enumerate(rows, start=1):
            try:
                value, observed_on, note = row
                checked.append(
                    (
                        measure.check_value(value),
                        self._check_effective_date("observation date", observed_on, today),
                        _check_note(note),
                    )
                )
            except (InvalidValueError, TypeError, ValueError) as error:
                raise InvalidValueError(f"row {index}: {error}") from None
        first = self.measurement_count + 1
        append(
            self,
            Goal.Measured,
            (
                {
                    "sequence": first + offset,
                    "value": value,
                    "observed_on": observed_on,
                    "note": note,
                    "actor": actor,
                }
                for offset, (value, observed_on, note) in enumerate(checked)
            ),
        )
        return range(first, first + len(checked))

    def _check_effective_date(self, name: str, value: object, today: date) -> date:
        checked = check_date(name, value)
        if checked > today:
            raise InvalidValueError(
                f"{name} {checked.isoformat()} is in the future (today is {today.isoformat()})"
            )
        if checked < self.definition.start_on:
            raise InvalidValueError(
                f"{name} {checked.isoformat()} is before the goal started "
                f"({self.definition.start_on.isoformat()})"
            )
        return checked

    @event(Measured)
    def _measured(
        self, sequence: int, value: float, observed_on: date, note: str | None, actor: Actor
    ) -> None:
        self.measurement_count += 1
        self.valid_measurement_count += 1
        self.recent_floor = window_measured(
            self.recent_measurements,
            self.recent_floor,
            Measurement(
                sequence=sequence,
                value=value,
                observed_on=observed_on,
                recorded_by=actor,
                note=note,
            ),
        )

    def correct_measurement(
        self,
        sequence: int,
        *,
        reason: str,
        actor: Actor,
        value: float | None = None,
        original: Measurement | None = None,
    ) -> None:
        """Correct a measurement's value, or void it when ``value`` is ``None``.

        The original value stays in the history; the correction is a new
        event. ``original`` is the measurement as it stands, needed when it
        is not among the recent ones the state keeps (the application reads
        it from the goal's events).
        """
        self._refuse_if_terminal("have a measurement corrected")
        check_actor(actor)
        checked_reason = check_reason(reason, "correct a measurement")
        if isinstance(sequence, bool) or not isinstance(sequence, int):
            raise InvalidValueError(f"measurement number must be a whole number; got {sequence!r}")
        if not 1 <= sequence <= self.measurement_count:
            raise InvalidValueError(
                f"goal {self.id} has no measurement number {sequence}; "
                f"it has {self.measurement_count} (numbered from 1)"
            )
        current = self.recent_measurement(sequence) or original
        if current is None or current.sequence != sequence:
            raise InvalidCommandError(
                f"measurement {sequence} of goal {self.id} is not among its recent ones: "
                "give it as it stands (GoalpathApp.correct_measurement reads it from the events)"
            )
        if current.status == "entered-in-error":
            raise InvalidCommandError(
                f"measurement {sequence} of goal {self.id} was voided; record a new one instead"
            )
        number: float | None = None
        if value is not None:
            measure = self.definition.measure
            assert measure is not None  # noqa: S101  # a measured goal always has a measure
            number = measure.check_value(value)
            if number == current.value:
                raise InvalidCommandError(
                    f"measurement {sequence} already has the value {number:g}; nothing to correct"
                )
        self._measurement_corrected(
            sequence=sequence, value=number, reason=checked_reason, actor=actor
        )

    @event(MeasurementCorrected)
    def _measurement_corrected(
        self, sequence: int, value: float | None, reason: str, actor: Actor
    ) -> None:
        # Only a valid measurement is ever corrected (the command checks it).
        if value is None:
            self.valid_measurement_count -= 1
        recent = self.recent_measurement(sequence)
        if recent is not None:
            window_corrected(self.recent_measurements, corrected_measurement(recent, value, reason))

    def review(
        self,
        *,
        reviewed_on: date,
        achievement: AchievementStatus,
        decision: ReviewDecision,
        actor: Actor,
        today: date,
        attainment: int | None = None,
        note: str | None = None,
    ) -> None:
        """Record a progress review; ``pause`` puts the goal on hold, ``resume`` reactivates it."""
        self._refuse_if_terminal("be reviewed")
        check_actor(actor)
        if self.status == "proposed":
            raise InvalidCommandError(
                f"goal {self.id} is still proposed; activate it before reviewing progress"
            )
        if achievement not in ACHIEVEMENT_STATUSES:
            raise InvalidValueError(
                f"achievement must be one of {', '.join(ACHIEVEMENT_STATUSES)}; got {achievement!r}"
            )
        if decision not in REVIEW_DECISIONS:
            raise InvalidValueError(
                f"decision must be one of {', '.join(REVIEW_DECISIONS)}; got {decision!r}"
            )
        if decision == "pause" and self.status != "active":
            raise InvalidCommandError(
                f"goal {self.id} is {self.status}; only an active goal can be paused"
            )
        if decision == "resume" and self.status != "on-hold":
            raise InvalidCommandError(
                f"goal {self.id} is {self.status}; only an on-hold goal can be resumed"
            )
        if attainment is not None and (
            isinstance(attainment, bool)
            or not isinstance(attainment, int)
            or attainment not in GAS_LEVELS
        ):
            raise InvalidValueError(
                f"GAS attainment must be a whole number from -2 to +2; got {attainment!r}"
            )
        reviewed = self._check_effective_date("review date", reviewed_on, today)
        self._reviewed(
            reviewed_on=reviewed,
            achievement=achievement,
            decision=decision,
            attainment=attainment,
            note=_check_note(note),
            actor=actor,
        )

    @event(Reviewed)
    def _reviewed(
        self,
        *,
        reviewed_on: date,
        achievement: AchievementStatus,
        decision: ReviewDecision,
        attainment: int | None,
        note: str | None,
        actor: Actor,
    ) -> None:
        self.reviews.append(
            Review(
                reviewed_on=reviewed_on,
                achievement=achievement,
                decision=decision,
                reviewed_by=actor,
                attainment=attainment,
                note=note,
            )
        )
        status = status_after_review(decision)
        if status is not None:
            self.status = status

    def retire(
        self,
        *,
        reason_code: RetirementReason,
        reason: str,
        actor: Actor,
        retired_on: date,
        today: date,
        replaced_by: UUID | None = None,
    ) -> None:
        """End the goal. Nothing may follow a retirement."""
        self._refuse_if_terminal("be retired again")
        check_actor(actor)
        if reason_code not in RETIREMENT_REASONS:
            raise InvalidValueError(
                f"retirement reason must be one of {', '.join(RETIREMENT_REASONS)}; "
                f"got {reason_code!r}"
            )
        checked_reason = check_reason(reason, "retire a goal")
        if reason_code == "replaced":
            if replaced_by is None:
                raise InvalidValueError(
                    "a goal retired as 'replaced' must name the goal replacing it"
                )
            if replaced_by == self.id:
                raise InvalidValueError("a goal cannot be replaced by itself")
        elif replaced_by is not None:
            raise InvalidValueError("only a goal retired as 'replaced' names a replacing goal")
        retired = self._check_effective_date("retirement date", retired_on, today)
        self._retired(
            reason_code=reason_code,
            reason=checked_reason,
            retired_on=retired,
            replaced_by=replaced_by,
            actor=actor,
        )

    @event(Retired)
    def _retired(
        self,
        *,
        reason_code: RetirementReason,
        reason: str,
        retired_on: date,
        replaced_by: UUID | None,
        actor: Actor,
    ) -> None:
        self.status = RETIRED_STATUS[reason_code]
        self.retirement_reason = reason_code
        self.replaced_by = replaced_by
        self.ended_on = retired_on


def _not_smart(report: SmartReport, lead: str = "the goal is not SMART") -> NotSmartError:
    details = "; ".join(
        f"{verdict.letter}: {verdict.reason}"
        + (f" ({verdict.suggestion})" if verdict.suggestion else "")
        for verdict in report.verdicts
        if not verdict.passed
    )
    return NotSmartError(f"{lead}, so it cannot be active. {details}", report)


def status_after(event: object, before: str | None) -> str | None:
    """The status a goal has after ``event``, given its status ``before`` it.

    The one statement of the goal's status transitions, for every reader of
    its events (the aggregate applies the same rules as it records them).
    """
    match event:
        case Goal.Created():
            return event.status
        case Goal.Activated():
            return "active"
        case Goal.Reviewed():
            return status_after_review(event.decision) or before
        case Goal.Retired():
            return RETIRED_STATUS[event.reason_code]
        case Goal.Refined() | Goal.Measured() | Goal.MeasurementCorrected():
            return before
    raise UnhandledEventError(event)
