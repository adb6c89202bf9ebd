"""The goal commands: stating, refining, activating, measuring, reviewing and retiring goals.

Each loads a goal (and its episode, for the policy), is authorized, calls
one command method of :class:`~goalpath.core.goal.Goal`, where the rule
lives, and lets the engine save the new events. Part of
:class:`~goalpath.core.application.GoalpathApp`.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any, Final, ParamSpec, TypeVar
from uuid import UUID

import attrs

from goalpath.core.application import idempotency
from goalpath.core.application.goal_reads import GoalReads
from goalpath.core.application.retries import retried_on_conflict
from goalpath.core.authorization import Principal
from goalpath.core.episode import Episode
from goalpath.core.errors import DuplicateIdError, GoalpathError, InvalidValueError
from goalpath.core.goal import Goal
from goalpath.core.inputs import DEFAULT_MAX_IMPORT_ROWS, bounded_rows
from goalpath.core.measurement_window import find_in
from goalpath.core.storage.replay import append_events, collect_events
from goalpath.core.storage.sealed_recorders import SealedSnapshots, insert_sealed
from goalpath.core.values import (
    AchievementStatus,
    Actor,
    Focus,
    GoalArea,
    GoalDefinition,
    Measure,
    Measurement,
    Priority,
    RetirementReason,
    ReviewDecision,
    Target,
    as_uuid,
)

__all__ = ["UNCHANGED", "GoalCommands"]


class _Unchanged:
    """The default of a refinement parameter: that field keeps its value."""

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""A refinement parameter left at this keeps the goal's current value."""


P = ParamSpec("P")
R = TypeVar("R")


def _cycle_collection_paused(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method`` with Python's cyclic garbage collector paused, if it was running.

    An import allocates tens of thousands of short-lived objects (rows,
    events, sealed records), none of them in reference cycles, and the
    collector would otherwise walk them again and again as they pile up. The
    collector is switched back on when the method returns or raises, and
    only by the call that switched it off (a host that keeps it off keeps it off).
    """

    @functools.wraps(method)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return method(*args, **kwargs)
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            gc.enable()

    return paused


class GoalCommands(GoalReads):
    """The commands on goals of :class:`~goalpath.core.application.GoalpathApp`."""

    @idempotency.idempotent(creates="goal_id")
    def create_goal(
        self,
        episode_id: UUID,
        definition: GoalDefinition,
        *,
        actor: Principal | Actor,
        activate: bool = False,
        goal_id: UUID | None = None,
        template_id: str | None = None,
        template_version: str | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> UUID:
        """State a new goal in an episode; return its id.

        With ``activate`` the goal starts active, which it may only if it is SMART.
        """
        if goal_id is not None:
            goal_id = as_uuid(goal_id, "goal")
            if self._engine._exists(goal_id):
                raise DuplicateIdError("goal", goal_id)
        episode = self._engine._load(Episode, episode_id)
        subject = self._episode_subject(episode)
        actor = self._authorize(actor, "create_goal", subject)
        if activate:
            stated = attrs.evolve(subject, goal_stated_by=actor.role, goal_status="proposed")
            self._authorize(actor, "activate_goal", stated)
        loaded = episode.version
        goal = Goal.state(
            episode_id=episode.id,
            client_id=episode.client_id,
            episode_opened_on=episode.opened_on,
            definition=definition,
            actor=actor,
            concerns=tuple(episode.concerns),
            activate=activate,
            goal_id=goal_id,
            template_id=template_id,
            template_version=template_version,
        )
        episode.add_goal(goal.id, actor, stated_at=goal.created_on)
        self._engine._save(goal, episode, based_on={episode.id: loaded})
        return goal.id

    @idempotency.idempotent()
    def refine_goal(
        self,
        goal_id: UUID,
        *,
        reason: str,
        actor: Principal | Actor,
        expected_version: int | None = None,
        statement: str | _Unchanged = UNCHANGED,
        measure: Measure | _Unchanged | None = UNCHANGED,
        target: Target | _Unchanged | None = UNCHANGED,
        area: GoalArea | _Unchanged | None = UNCHANGED,
        focus: Focus | _Unchanged | None = UNCHANGED,
        practices: Sequence[str] | _Unchanged = UNCHANGED,
        priority: Priority | _Unchanged = UNCHANGED,
        review_every_days: int | _Unchanged = UNCHANGED,
        gas_importance: int | _Unchanged | None = UNCHANGED,
        gas_difficulty: int | _Unchanged | None = UNCHANGED,
        gas_levels: Sequence[str] | _Unchanged = UNCHANGED,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Change a goal's statement, target, practices, priority, cadence or GAS, for a reason.

        A field left out keeps its value. The goal itself decides what may change
        (:meth:`Goal.refine <goalpath.core.goal.Goal.refine>`: not the measure, not the
        start date, and an active goal stays SMART).
        """
        given: dict[str, Any] = {
            "statement": statement,
            "measure": measure,
            "target": target,
            "area": area,
            "focus": focus,
            "practices": practices if isinstance(practices, _Unchanged) else tuple(practices),
            "priority": priority,
            "review_every_days": review_every_days,
            "gas_importance": gas_importance,
            "gas_difficulty": gas_difficulty,
            # A bare string is left for the definition to refuse, not split into letters.
            "gas_levels": (
                gas_levels if isinstance(gas_levels, _Unchanged | str) else tuple(gas_levels)
            ),
        }
        changes = {name: value for name, value in given.items() if value is not UNCHANGED}
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "refine_goal", self._goal_subject(goal))
            goal.refine(attrs.evolve(goal.definition, **changes), reason, actor)

    @idempotency.idempotent()
    def activate_goal(
        self,
        goal_id: UUID,
        *,
        actor: Principal | Actor,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Agree to pursue a goal; refused with the SMART reasons if it is not SMART."""
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "activate_goal", self._goal_subject(goal))
            goal.activate(actor)

    @retried_on_conflict
    @idempotency.idempotent()
    def record_measurement(
        self,
        goal_id: UUID,
        value: float,
        *,
        actor: Principal | Actor,
        observed_on: date | None = None,
        note: str | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> int:
        """Record a measurement against a goal's measure; return its number.

        A measurement is an observation of one day, whatever the goal's other
        measurements are (its number is the next one when it lands), so
        without ``expected_version`` a concurrent write is retried, not
        refused (:func:`retried_on_conflict`).
        """
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "record_measurement", self._goal_subject(goal))
            today = self.today()
            return goal.measure(
                value,
                observed_on=today if observed_on is None else observed_on,
                actor=actor,
                today=today,
                note=note,
            )

    @_cycle_collection_paused
    def import_measurements(
        self,
        goal_id: UUID,
        rows: Iterable[tuple[float, date, str | None]],
        *,
        actor: Principal | Actor,
        expected_version: int | None = None,
        max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> range:
        """Import many measurements of one goal in one transaction; return their numbers.

        For history migrated from another system: ``rows`` are ``(value,
        observed_on, note)``. All rows are checked first; a bad one is refused
        with its position and nothing is written. More than ``max_rows`` rows
        (:data:`~goalpath.core.inputs.DEFAULT_MAX_IMPORT_ROWS` unless given) are
        refused with :class:`~goalpath.core.errors.LimitExceededError`.
        """
        rows = bounded_rows(rows, max_rows, "rows")
        goal = self._engine._load(Goal, goal_id, expected_version)
        actor = self._authorize(actor, "import_measurements", self._goal_subject(goal))
        loaded = goal.version
        numbers = goal.measure_many(rows, actor=actor, today=self.today(), append=append_events)
        if numbers:
            self._save_import([goal], based_on={goal.id: loaded})
        return numbers

    @_cycle_collection_paused
    def import_measurements_of_goals(
        self,
        batches: Mapping[UUID, Iterable[tuple[float, date, str | None]]],
        *,
        actor: Principal | Actor,
        max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> dict[UUID, range]:
        """Import the measurements of many goals in one transaction; return each goal's numbers.

        Like :meth:`import_measurements`, for several goals at once
        (``batches`` maps a goal id to its rows): every row of every goal is
        checked first; a bad one is refused, naming its goal and position, and
        nothing is written for any goal. ``max_rows`` bounds the rows of all
        goals together.
        """
        goals: list[Goal] = []
        based_on: dict[UUID, int] = {}
        numbers: dict[UUID, range] = {}
        today = self.today()
        taken = 0
        for goal_id, given in batches.items():
            rows = bounded_rows(given, max_rows, "rows", already=taken)
            taken += len(rows)
            goal = self._engine._load(Goal, goal_id)
            if goal.id in based_on:
                raise InvalidValueError(f"goal {goal.id} is given twice; give its rows once")
            recorded = self._authorize(actor, "import_measurements", self._goal_subject(goal))
            based_on[goal.id] = goal.version
            try:
                numbers[goal.id] = goal.measure_many(
                    rows, actor=recorded, today=today, append=append_events
                )
            except GoalpathError as error:
                raise type(error)(f"goal {goal.id}: {error}") from None
            goals.append(goal)
        if any(numbers.values()):
            self._save_import(goals, based_on=based_on)
        return numbers

    def _save_import(self, goals: Sequence[Goal], *, based_on: dict[UUID, int]) -> None:
        """Seal and insert imported events in one transaction, with their goals' due snapshots.

        The same records as the engine's ``_save`` writes, faster for large batches:
        the events are sealed in one pass (``GoalpathMapper.seal_rows``), and a
        due snapshot is taken of the goal in memory, which holds exactly the
        state its events replay to, instead of reading the events back from
        the store. The snapshots are best effort, as every snapshot: written
        after the events, in their transaction where the store allows
        (:func:`~goalpath.core.storage.sealed_recorders.insert_sealed`), and a
        failure to take or write them leaves them owed to the goals' next saves.
        """
        engine = self._engine
        if engine._unit is not None:
            engine._unit.stash(goals, based_on)
            return
        events = [domain_event for goal in goals for domain_event in collect_events(goal)]
        owed = self._snapshots_due(goals, based_on)
        snapshots: SealedSnapshots | None = None
        failure: Exception | None = None
        if owed and engine.snapshots is not None:
            try:
                rows = engine.sealing.seal_rows([Goal.Snapshot.take(goal) for goal in owed])
                snapshots = SealedSnapshots(engine.snapshots.recorder, rows)
            except Exception as error:  # a snapshot is never worth failing the import for
                failure = error
        with engine._refused_writes(goals, based_on), engine._sealed_save():
            # The recorder's own insert: its transaction also seals the stream heads.
            rows = engine.sealing.seal_rows(events)
            failure = insert_sealed(engine.recorder, rows, snapshots) or failure
        if owed:
            engine._snapshots_best_effort([goal.id for goal in owed], partial(_raise_if, failure))

    def _snapshots_due(self, goals: Sequence[Goal], based_on: dict[UUID, int]) -> list[Goal]:
        """The goals whose import crossed a snapshot interval, or that owe a snapshot."""
        interval = self._engine.snapshot_interval
        if not interval or self._engine.snapshots is None:
            return []
        return [
            goal
            for goal in goals
            if goal.id in self._engine._snapshots_owed
            or goal.version // interval > based_on.get(goal.id, 0) // interval
        ]

    @idempotency.idempotent()
    def correct_measurement(
        self,
        goal_id: UUID,
        sequence: int,
        *,
        reason: str,
        actor: Principal | Actor,
        value: float | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Correct a measurement's value, or void it when ``value`` is ``None``."""
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "correct_measurement", self._goal_subject(goal))
            goal.correct_measurement(
                sequence,
                reason=reason,
                actor=actor,
                value=value,
                original=self._measurement_outside_window(goal, sequence),
            )

    def _measurement_outside_window(self, goal: Goal, sequence: object) -> Measurement | None:
        """Measurement ``sequence`` of ``goal`` from its events, when the goal's state lacks it.

        ``None`` when the goal's recent measurements hold it, or when there is
        no such number (the goal's command refuses it then).
        """
        if (
            isinstance(sequence, bool)
            or not isinstance(sequence, int)
            or not 1 <= sequence <= goal.measurement_count
            or goal.recent_measurement(sequence) is not None
        ):
            return None
        series = self._series_of(goal)
        index = find_in(series, sequence)
        return None if index is None else series[index]

    @retried_on_conflict
    @idempotency.idempotent()
    def review_goal(
        self,
        goal_id: UUID,
        *,
        achievement: AchievementStatus,
        decision: ReviewDecision,
        actor: Principal | Actor,
        reviewed_on: date | None = None,
        attainment: int | None = None,
        note: str | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """Record a progress review of a goal.

        A review is the clinician's judgement on its day, added beside the
        goal's other events, and its rules (the goal still reviewable) are
        checked again on each attempt; so without ``expected_version`` a
        concurrent write is retried, not refused (:func:`retried_on_conflict`).
        A caller whose judgement rests on the version it saw passes it.
        """
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "review_goal", self._goal_subject(goal))
            today = self.today()
            goal.review(
                reviewed_on=today if reviewed_on is None else reviewed_on,
                achievement=achievement,
                decision=decision,
                actor=actor,
                today=today,
                attainment=attainment,
                note=note,
            )

    @idempotency.idempotent()
    def retire_goal(
        self,
        goal_id: UUID,
        *,
        reason_code: RetirementReason,
        reason: str,
        actor: Principal | Actor,
        retired_on: date | None = None,
        replaced_by: UUID | None = None,
        expected_version: int | None = None,
        idempotency_key: str | None = None,  # noqa: ARG002  # taken by @idempotent
    ) -> None:
        """End a goal: achieved, no longer relevant, replaced, client discharged or in error."""
        with self._engine._changing(Goal, goal_id, expected_version) as goal:
            actor = self._authorize(actor, "retire_goal", self._goal_subject(goal))
            if replaced_by is not None:
                replaced_by = as_uuid(replaced_by, "goal")
                self._engine._load(Goal, replaced_by)
            today = self.today()
            goal.retire(
                reason_code=reason_code,
                reason=reason,
                actor=actor,
                retired_on=today if retired_on is None else retired_on,
                today=today,
                replaced_by=replaced_by,
            )


def _raise_if(failure: Exception | None) -> None:
    """Raise ``failure`` if there is one (for a best-effort step that already ran)."""
    if failure is not None:
        raise failure
