"""Random command sequences against the engine and a simple model: they must agree.

The model is plain dictionaries and lists: each goal's expected status,
version, definition (a key of ``CATALOG``), measurements (value, status,
original value), review count and retirement reason; the episode's version,
sessions and goals. Every rule asks the model first whether the command must
be refused; a refused command must raise a typed error and store nothing, an
accepted one must land. After every step the invariants compare the engine
with the model, and check the replay law on every goal.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar, Final, cast
from uuid import UUID

import attrs
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import (
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    NotFoundError,
)
from goalpath.core.goal import Goal
from goalpath.core.inputs import SMALLEST_NUMBER
from goalpath.core.measurement_window import window_of
from goalpath.core.values import (
    ACHIEVEMENT_STATUSES,
    RETIREMENT_REASONS,
    REVIEW_DECISIONS,
    Actor,
)
from tests.conftest import fixed_today
from tests.strategies import (
    CATALOG,
    GOAL_START,
    OPENED_ON,
    THERAPIST,
    TODAY,
    actors,
    open_standard_episode,
)

TERMINAL: Final = {"completed", "cancelled", "entered-in-error"}
RETIRED_STATUS: Final = {
    "achieved": "completed",
    "entered-in-error": "entered-in-error",
    "no-longer-relevant": "cancelled",
    "replaced": "cancelled",
    "client-discharged": "cancelled",
}

# Strategies mixing valid input with the invalid kinds the model must predict.
values = st.one_of(
    st.integers(0, 50).map(float),
    st.floats(min_value=0, max_value=50),
    st.integers(0, 10).map(float),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), -1.0, -0.001, 50.5, 1e9]),
)
effective_dates = st.dates(
    min_value=GOAL_START - timedelta(days=5), max_value=TODAY + timedelta(days=5)
)
reasons = st.sampled_from(
    ["agreed in session", "data entry error", "client's request", "review", "typo", "", " "]
)
new_goal_keys = st.sampled_from(
    ["panic", "panic", "panic-slower", "panic-rushed", "vague", "calmer"]
)
version_modes = st.sampled_from(["none", "none", "none", "current", "current", "stale"])


def valid_value(value: float) -> bool:
    """Whether a measurement value is acceptable for ``PANIC_MEASURE`` (0 to 50).

    Zero or at least goalpath's smallest number in size (SMALLEST_NUMBER).
    """
    return math.isfinite(value) and (value == 0 or SMALLEST_NUMBER <= value <= 50)


def in_goal_window(day: date) -> bool:
    """Whether an effective date is neither in the future nor before the goals' start."""
    return GOAL_START <= day <= TODAY


def blank(text: str | None) -> bool:
    return text is None or not text.strip()


@attrs.define
class GoalModel:
    """What the engine should hold for one goal."""

    key: str
    status: str
    version: int = 1
    measurements: list[tuple[float | None, str, float | None]] = attrs.field(factory=list)
    reviews: int = 0
    retirement: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def measured(self) -> bool:
        return CATALOG[self.key].definition.measure is not None

    @property
    def smart(self) -> bool:
        return CATALOG[self.key].smart


class GoalpathMachine(RuleBasedStateMachine):
    """Drives one episode and its goals; the store and snapshot interval are class settings."""

    store: ClassVar[str] = "sqlite"
    snapshot_interval: ClassVar[int] = 3

    goals = Bundle("goals")

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.TemporaryDirectory()
        self.location = (
            str(Path(self.folder.name) / "goalpath.db") if self.store == "sqlite" else ":memory:"
        )
        self.apps: list[GoalpathApp] = []
        self.app = self.new_app(self.snapshot_interval)
        self.episode_id = open_standard_episode(self.app)
        self.episode_version = 1
        self.sessions: list[date] = []
        self.closed = False
        self.goal_order: list[UUID] = []
        self.model: dict[UUID, GoalModel] = {}
        self.event_count = 1

    def new_app(self, snapshot_interval: int) -> GoalpathApp:
        app = GoalpathApp(self.location, today=fixed_today, snapshot_interval=snapshot_interval)
        self.apps.append(app)
        return app

    def teardown(self) -> None:
        for app in self.apps:
            app.close()
        self.folder.cleanup()

    # -- helpers --------------------------------------------------------------------

    def records(self) -> list[tuple[int, str, bytes]]:
        return [
            (n.id, n.topic, bytes(n.state))
            for n in engine_of(self.app).recorder.select_notifications(start=1, limit=10**9)
        ]

    def attempt(
        self, rule_name: str, refusal: type[GoalpathError] | None, command: Callable[[], object]
    ) -> object:
        """Run ``command``; the model said it must raise ``refusal`` (or land, for None)."""
        event("refused" if refusal else "landed", payload=rule_name)
        if refusal is None:
            return command()
        before = self.records()
        with pytest.raises(refusal):
            command()
        assert self.records() == before
        return None

    def expected_version(self, goal: GoalModel, mode: str) -> int | None:
        if mode == "none":
            return None
        if mode == "current":
            return goal.version
        return goal.version - 1 if goal.version > 1 else goal.version + 1

    def landed(self, goal: GoalModel) -> None:
        goal.version += 1
        self.event_count += 1

    # -- rules ------------------------------------------------------------------------

    @initialize(target=goals)
    def an_active_smart_goal(self) -> UUID:
        return cast("UUID", self.create_goal("panic", activate=True))

    @initialize(target=goals)
    def a_proposed_smart_goal(self) -> UUID:
        return cast("UUID", self.create_goal("panic-slower", activate=False))

    @precondition(lambda self: len(self.model) < 4)
    @rule(target=goals, key=new_goal_keys, activate=st.booleans())
    def create_goal(self, key: str, activate: bool) -> object:
        entry = CATALOG[key]
        refused = self.closed or (activate and not entry.smart)
        goal_id = self.attempt(
            "create_goal",
            GoalpathError if refused else None,
            lambda: self.app.create_goal(
                self.episode_id, entry.definition, actor=THERAPIST, activate=activate
            ),
        )
        if refused:
            return multiple()
        assert isinstance(goal_id, UUID)
        self.model[goal_id] = GoalModel(key, "active" if activate else "proposed")
        self.goal_order.append(goal_id)
        self.episode_version += 1
        self.event_count += 2
        return goal_id

    @rule(goal_id=goals, unknown=st.uuids(), which=st.sampled_from(["goal", "episode", "unknown"]))
    def reuse_or_invent_an_id(self, goal_id: UUID, unknown: UUID, which: str) -> None:
        """A goal or episode stated with an id in use, or a command on an unknown goal."""
        if which == "episode":
            self.attempt(
                "reuse_or_invent_an_id",
                DuplicateIdError,
                lambda: open_standard_episode(self.app, episode_id=goal_id),
            )
        elif which == "goal":
            self.attempt(
                "reuse_or_invent_an_id",
                DuplicateIdError,
                lambda: self.app.create_goal(
                    self.episode_id, CATALOG["vague"].definition, actor=THERAPIST, goal_id=goal_id
                ),
            )
        else:
            self.attempt(
                "reuse_or_invent_an_id",
                NotFoundError,
                lambda: self.app.activate_goal(unknown, actor=THERAPIST),
            )

    @rule(goal_id=goals, key=st.sampled_from(sorted(CATALOG)), reason=reasons, mode=version_modes)
    def refine(self, goal_id: UUID, key: str, reason: str, mode: str) -> None:
        goal = self.model[goal_id]
        old = CATALOG[goal.key].definition
        new = CATALOG[key].definition
        refusal: type[GoalpathError] | None = None
        if mode == "stale":
            refusal = ConflictError
        elif (
            goal.terminal
            or blank(reason)
            or (old.measure is not None and new.measure != old.measure)
            or key == goal.key
            or (goal.status in ("active", "on-hold") and not CATALOG[key].smart)
        ):
            refusal = GoalpathError
        self.attempt(
            "refine",
            refusal,
            lambda: self.app.refine_goal(
                goal_id,
                reason=reason,
                actor=THERAPIST,
                expected_version=self.expected_version(goal, mode),
                statement=new.statement,
                measure=new.measure,
                target=new.target,
                area=new.area,
                focus=new.focus,
                practices=new.practices,
                priority=new.priority,
                review_every_days=new.review_every_days,
            ),
        )
        if refusal is None:
            goal.key = key
            self.landed(goal)

    @rule(goal_id=goals, mode=version_modes)
    def activate(self, goal_id: UUID, mode: str) -> None:
        goal = self.model[goal_id]
        refusal: type[GoalpathError] | None = None
        if mode == "stale":
            refusal = ConflictError
        elif goal.status != "proposed" or not goal.smart:
            refusal = GoalpathError
        self.attempt(
            "activate",
            refusal,
            lambda: self.app.activate_goal(
                goal_id, actor=THERAPIST, expected_version=self.expected_version(goal, mode)
            ),
        )
        if refusal is None:
            goal.status = "active"
            self.landed(goal)

    @rule(
        goal_id=goals, value=values, observed_on=effective_dates, actor=actors(), mode=version_modes
    )
    def measure(
        self, goal_id: UUID, value: float, observed_on: date, actor: Actor, mode: str
    ) -> None:
        goal = self.model[goal_id]
        refusal: type[GoalpathError] | None = None
        if mode == "stale":
            refusal = ConflictError
        elif (
            goal.terminal
            or not goal.measured
            or not valid_value(value)
            or not in_goal_window(observed_on)
        ):
            refusal = GoalpathError
        sequence = self.attempt(
            "measure",
            refusal,
            lambda: self.app.record_measurement(
                goal_id,
                value,
                actor=actor,
                observed_on=observed_on,
                expected_version=self.expected_version(goal, mode),
            ),
        )
        if refusal is None:
            goal.measurements.append((value, "final", None))
            assert sequence == len(goal.measurements)
            self.landed(goal)

    @rule(
        goal_id=goals,
        back=st.integers(-1, 2),
        value=st.one_of(st.none(), values),
        reason=reasons,
        mode=version_modes,
    )
    def correct(
        self, goal_id: UUID, back: int, value: float | None, reason: str, mode: str
    ) -> None:
        goal = self.model[goal_id]
        # Mostly a recent measurement; sometimes one past the last, or none at all.
        sequence = len(goal.measurements) - back
        refusal: type[GoalpathError] | None = None
        exists = 1 <= sequence <= len(goal.measurements)
        current = goal.measurements[sequence - 1] if exists else None
        if mode == "stale":
            refusal = ConflictError
        elif (
            goal.terminal
            or blank(reason)
            or current is None
            or current[1] == "entered-in-error"
            or (value is not None and (not valid_value(value) or value == current[0]))
        ):
            refusal = GoalpathError
        self.attempt(
            "correct",
            refusal,
            lambda: self.app.correct_measurement(
                goal_id,
                sequence,
                reason=reason,
                actor=THERAPIST,
                value=value,
                expected_version=self.expected_version(goal, mode),
            ),
        )
        if refusal is None:
            assert current is not None
            first = current[2] if current[1] == "amended" else current[0]
            status = "entered-in-error" if value is None else "amended"
            goal.measurements[sequence - 1] = (value, status, first)
            self.landed(goal)

    @rule(goal_id=goals, value=st.integers(0, 50).map(float), observed_on=effective_dates)
    def measure_plausibly(self, goal_id: UUID, value: float, observed_on: date) -> None:
        """Mostly valid measurements, so goals build a history to correct and replay."""
        self.measure(goal_id, value, observed_on, THERAPIST, "none")

    @rule(goal_id=goals, value=st.one_of(st.none(), st.integers(0, 50).map(float)))
    def correct_the_latest(self, goal_id: UUID, value: float | None) -> None:
        """Corrections of the latest measurement, so one measurement is corrected repeatedly."""
        self.correct(goal_id, 0, value, "typo", "none")

    @rule(
        goal_id=goals,
        achievement=st.sampled_from([*ACHIEVEMENT_STATUSES, "done"]),
        decision=st.sampled_from([*REVIEW_DECISIONS, "pause", "resume", "stop"]),
        attainment=st.one_of(st.none(), st.integers(-3, 3)),
        reviewed_on=effective_dates,
        mode=version_modes,
    )
    def review(
        self,
        *,
        goal_id: UUID,
        achievement: str,
        decision: str,
        attainment: int | None,
        reviewed_on: date,
        mode: str,
    ) -> None:
        goal = self.model[goal_id]
        refusal: type[GoalpathError] | None = None
        if mode == "stale":
            refusal = ConflictError
        elif (
            goal.terminal
            or goal.status == "proposed"
            or achievement not in ACHIEVEMENT_STATUSES
            or decision not in REVIEW_DECISIONS
            or (decision == "pause" and goal.status != "active")
            or (decision == "resume" and goal.status != "on-hold")
            or (attainment is not None and not -2 <= attainment <= 2)
            or not in_goal_window(reviewed_on)
        ):
            refusal = GoalpathError
        self.attempt(
            "review",
            refusal,
            lambda: self.app.review_goal(
                goal_id,
                achievement=achievement,  # type: ignore[arg-type]  # invalid codes on purpose
                decision=decision,  # type: ignore[arg-type]  # invalid codes on purpose
                attainment=attainment,
                reviewed_on=reviewed_on,
                actor=THERAPIST,
                expected_version=self.expected_version(goal, mode),
            ),
        )
        if refusal is None:
            goal.reviews += 1
            if decision == "pause":
                goal.status = "on-hold"
            elif decision == "resume":
                goal.status = "active"
            self.landed(goal)

    @rule(
        goal_id=goals,
        reason_code=st.sampled_from([*RETIREMENT_REASONS, "finished"]),
        reason=reasons,
        replaced_by=st.one_of(st.none(), goals),
        fit_replacement=st.sampled_from([True, True, True, False]),
        retired_on=effective_dates,
        mode=version_modes,
    )
    def retire(
        self,
        *,
        goal_id: UUID,
        reason_code: str,
        reason: str,
        replaced_by: UUID | None,
        fit_replacement: bool,
        retired_on: date,
        mode: str,
    ) -> None:
        goal = self.model[goal_id]
        if fit_replacement and reason_code != "replaced":
            replaced_by = None
        refusal: type[GoalpathError] | None = None
        if mode == "stale":
            refusal = ConflictError
        elif (
            goal.terminal
            or reason_code not in RETIREMENT_REASONS
            or blank(reason)
            or (reason_code == "replaced" and replaced_by in (None, goal_id))
            or (reason_code != "replaced" and replaced_by is not None)
            or not in_goal_window(retired_on)
        ):
            refusal = GoalpathError
        self.attempt(
            "retire",
            refusal,
            lambda: self.app.retire_goal(
                goal_id,
                reason_code=reason_code,  # type: ignore[arg-type]  # invalid codes on purpose
                reason=reason,
                actor=THERAPIST,
                retired_on=retired_on,
                replaced_by=replaced_by,
                expected_version=self.expected_version(goal, mode),
            ),
        )
        if refusal is None:
            goal.status = RETIRED_STATUS[reason_code]
            goal.retirement = reason_code
            self.landed(goal)

    @rule(
        held_on=st.dates(
            min_value=OPENED_ON - timedelta(days=3), max_value=TODAY + timedelta(days=3)
        ),
        attended=st.booleans(),
    )
    def record_session(self, held_on: date, attended: bool) -> None:
        refused = (
            self.closed
            or not OPENED_ON <= held_on <= TODAY
            or (bool(self.sessions) and held_on < self.sessions[-1])
        )
        number = self.attempt(
            "record_session",
            GoalpathError if refused else None,
            lambda: self.app.record_session(
                self.episode_id, actor=THERAPIST, held_on=held_on, attended=attended
            ),
        )
        if not refused:
            self.sessions.append(held_on)
            assert number == len(self.sessions)
            self.episode_version += 1
            self.event_count += 1

    @precondition(lambda self: len(self.model) >= 4)
    @rule(
        reason=reasons, closed_on=st.dates(min_value=OPENED_ON, max_value=TODAY + timedelta(days=3))
    )
    def close_episode(self, reason: str, closed_on: date) -> None:
        last = self.sessions[-1] if self.sessions else OPENED_ON
        refused = self.closed or blank(reason) or not last <= closed_on <= TODAY
        self.attempt(
            "close_episode",
            GoalpathError if refused else None,
            lambda: self.app.close_episode(
                self.episode_id, reason=reason, actor=THERAPIST, closed_on=closed_on
            ),
        )
        if not refused:
            self.closed = True
            self.episode_version += 1
            self.event_count += 1

    @precondition(lambda self: self.store == "sqlite")
    @rule(interval=st.sampled_from([0, 1, 3, 5]))
    def reopen(self, interval: int) -> None:
        """Carry on with a new application over the same file, snapshotting differently."""
        self.app = self.new_app(interval)

    # -- invariants -------------------------------------------------------------------

    @invariant()
    def engine_agrees_with_the_model(self) -> None:
        for goal_id, expected in self.model.items():
            goal = self.app.get_goal(goal_id)
            assert goal.version == expected.version
            assert goal.status == expected.status
            assert goal.definition == CATALOG[expected.key].definition
            series = self.app.goal_measurements(goal_id)
            assert [(m.value, m.status, m.original_value) for m in series] == (
                expected.measurements
            )
            assert goal.measurement_count == len(series)
            assert goal.valid_measurement_count == sum(m.value is not None for m in series)
            # The recent ones are the latest valid ones (a voided one is not replaced).
            kept = len(goal.recent_measurements)
            assert goal.recent_measurements == (window_of(series)[0][-kept:] if kept else [])
            assert len(goal.reviews) == expected.reviews
            assert goal.retirement_reason == expected.retirement
            assert goal.is_terminal is expected.terminal
        episode = self.app.get_episode(self.episode_id)
        assert episode.version == self.episode_version
        assert [s.held_on for s in episode.sessions] == self.sessions
        assert [s.number for s in episode.sessions] == list(range(1, len(self.sessions) + 1))
        assert episode.goal_ids == self.goal_order
        assert episode.is_closed is self.closed
        assert len(self.records()) == self.event_count

    @invariant()
    def replaying_stored_events_reproduces_every_goal(self) -> None:
        for goal_id in self.model:
            aggregate: Any = None
            for domain_event in self.app.goal_events(goal_id):
                aggregate = domain_event.mutate(aggregate)
            assert isinstance(aggregate, Goal)
            loaded = self.app.get_goal(goal_id)
            assert _state(aggregate) == _state(loaded)


def _state(goal: Goal) -> dict[str, Any]:
    return {key: value for key, value in vars(goal).items() if key != "_pending_events"}


class SqliteWithSnapshots(GoalpathMachine):
    """On a SQLite file, snapshots every 3 events (and reopened with other intervals)."""

    store = "sqlite"
    snapshot_interval = 3


class MemoryWithoutSnapshots(GoalpathMachine):
    """In memory, without snapshots."""

    store = "memory"
    snapshot_interval = 0


STATEFUL = settings(max_examples=60, stateful_step_count=50)

TestSqliteWithSnapshots = SqliteWithSnapshots.TestCase
TestSqliteWithSnapshots.settings = STATEFUL
TestMemoryWithoutSnapshots = MemoryWithoutSnapshots.TestCase
TestMemoryWithoutSnapshots.settings = STATEFUL
