"""Bad input is refused with a typed error, and the store is left exactly as it was.

"Exactly" is checked on the full list of stored records (position, stream,
version, topic and stored bytes) before and after each refused command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import (
    ConflictError,
    DuplicateIdError,
    GoalpathError,
    InvalidCommandError,
    InvalidValueError,
    NotFoundError,
    NotSmartError,
)
from goalpath.core.smart import draft_definition
from goalpath.core.values import (
    MAX_STATEMENT_LENGTH,
    Actor,
    GoalDefinition,
    Measure,
    Target,
)
from tests.strategies import (
    CATALOG,
    GOAL_START,
    PANIC_MEASURE,
    THERAPIST,
    TODAY,
    bad_codes,
    blank_reasons,
    dates_outside_window,
    dates_within,
    open_standard_episode,
    values_in,
    values_outside,
)

StoredRecord = tuple[int, UUID | str, int, str, bytes]


def stored_records(app: GoalpathApp) -> list[StoredRecord]:
    """Every stored event, in recording order, as the store holds it."""
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state))
        for n in engine_of(app).recorder.select_notifications(start=1, limit=10**9)
    ]


@attrs.frozen
class World:
    """A small store with a goal in every state the refusals need."""

    episode: UUID
    closed_episode: UUID
    vague: UUID
    proposed_smart: UUID
    active: UUID
    on_hold: UUID
    retired: UUID

    @property
    def goals(self) -> tuple[UUID, ...]:
        return (self.vague, self.proposed_smart, self.active, self.on_hold, self.retired)


def build_world(app: GoalpathApp) -> World:
    episode = open_standard_episode(app)
    closed_episode = open_standard_episode(app)
    app.close_episode(closed_episode, reason="moved away", actor=THERAPIST)
    vague = app.create_goal(episode, CATALOG["vague"].definition, actor=THERAPIST)
    proposed_smart = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST)
    active = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    app.record_measurement(active, 3, actor=THERAPIST, observed_on=date(2026, 4, 1))
    app.record_measurement(active, 2, actor=THERAPIST, observed_on=date(2026, 4, 8))
    app.correct_measurement(active, 2, reason="wrong day", actor=THERAPIST)
    on_hold = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    app.review_goal(on_hold, achievement="no-change", decision="pause", actor=THERAPIST)
    retired = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    app.record_measurement(retired, 1, actor=THERAPIST, observed_on=date(2026, 4, 1))
    app.retire_goal(retired, reason_code="achieved", reason="one a week", actor=THERAPIST)
    return World(episode, closed_episode, vague, proposed_smart, active, on_hold, retired)


Command = Callable[[GoalpathApp, World], object]


def assert_refused(
    app: GoalpathApp, world: World, command: Command, error: type[GoalpathError] = GoalpathError
) -> GoalpathError:
    """Run ``command``: it must raise ``error`` and leave every stored record as it was."""
    before = stored_records(app)
    versions = {goal: app.get_goal(goal).version for goal in world.goals}
    with pytest.raises(error) as refused:
        command(app, world)
    assert str(refused.value).strip(), "a refusal must say what was wrong"
    assert stored_records(app) == before
    assert {goal: app.get_goal(goal).version for goal in world.goals} == versions
    return refused.value


@pytest.fixture
def world(app: GoalpathApp) -> World:
    return build_world(app)


def measure(value: Any, observed_on: Any = GOAL_START) -> Command:
    return lambda app, w: app.record_measurement(
        w.active, value, actor=THERAPIST, observed_on=observed_on
    )


def refine(goal: str = "active", reason: Any = "why", **changes: Any) -> Command:
    return lambda app, w: app.refine_goal(
        getattr(w, goal), reason=reason, actor=THERAPIST, **changes
    )


def retire(reason_code: Any = "achieved", reason: Any = "why", **options: Any) -> Command:
    return lambda app, w: app.retire_goal(
        w.active, reason_code=reason_code, reason=reason, actor=THERAPIST, **options
    )


def review(
    achievement: Any = "improving", decision: Any = "continue", goal: str = "active", **options: Any
) -> Command:
    return lambda app, w: app.review_goal(
        getattr(w, goal), achievement=achievement, decision=decision, actor=THERAPIST, **options
    )


def correct(sequence: Any = 1, reason: Any = "why", value: Any = 1.0) -> Command:
    return lambda app, w: app.correct_measurement(
        w.active, sequence, reason=reason, actor=THERAPIST, value=value
    )


PANIC = CATALOG["panic"].definition
LONG = "x" * (MAX_STATEMENT_LENGTH + 1)
FUTURE = TODAY + timedelta(days=1)

CASES: dict[str, tuple[Command, type[GoalpathError]]] = {
    # Numbers.
    "NaN value": (measure(float("nan")), InvalidValueError),
    "infinite value": (measure(float("inf")), InvalidValueError),
    "minus infinite value": (measure(float("-inf")), InvalidValueError),
    "value below range": (measure(-1), InvalidValueError),
    "value above range": (measure(50.5), InvalidValueError),
    "value as text": (measure("3"), InvalidValueError),
    "value as a boolean": (measure(value=True), InvalidValueError),
    "correction NaN": (correct(value=float("nan")), InvalidValueError),
    "correction out of range": (correct(value=-0.5), InvalidValueError),
    # Retired goals.
    "measure retired goal": (
        lambda app, w: app.record_measurement(w.retired, 1, actor=THERAPIST, observed_on=TODAY),
        InvalidCommandError,
    ),
    "refine retired goal": (
        refine("retired", statement=CATALOG["panic-slower"].definition.statement),
        InvalidCommandError,
    ),
    "review retired goal": (review(goal="retired"), InvalidCommandError),
    "correct retired goal": (
        lambda app, w: app.correct_measurement(w.retired, 1, reason="x", actor=THERAPIST),
        InvalidCommandError,
    ),
    "activate retired goal": (
        lambda app, w: app.activate_goal(w.retired, actor=THERAPIST),
        InvalidCommandError,
    ),
    "retire retired goal": (
        lambda app, w: app.retire_goal(
            w.retired, reason_code="achieved", reason="x", actor=THERAPIST
        ),
        InvalidCommandError,
    ),
    # Reasons.
    "refine reason None": (refine(reason=None, priority="high-priority"), InvalidValueError),
    "refine reason empty": (refine(reason="", priority="high-priority"), InvalidValueError),
    "refine reason blank": (refine(reason="   ", priority="high-priority"), InvalidValueError),
    "retire reason None": (retire(reason=None), InvalidValueError),
    "retire reason empty": (retire(reason=""), InvalidValueError),
    "retire reason blank": (retire(reason=" \t "), InvalidValueError),
    "correct reason blank": (correct(reason="  "), InvalidValueError),
    "reason over-long": (refine(reason="r" * 4001, priority="high-priority"), InvalidValueError),
    # Dates.
    "due date before start": (
        refine(target=Target(baseline=3, value=1, due_on=GOAL_START - timedelta(days=1))),
        InvalidValueError,
    ),
    "due date on start": (
        refine(target=Target(baseline=3, value=1, due_on=GOAL_START)),
        InvalidValueError,
    ),
    "observation in the future": (measure(2, FUTURE), InvalidValueError),
    "observation before the start": (measure(2, GOAL_START - timedelta(days=1)), InvalidValueError),
    "observation as a timestamp": (measure(2, datetime(2026, 4, 1, 9, 0)), InvalidValueError),  # noqa: DTZ001
    "review in the future": (review(reviewed_on=FUTURE), InvalidValueError),
    "retirement in the future": (retire(retired_on=FUTURE), InvalidValueError),
    "session in the future": (
        lambda app, w: app.record_session(w.episode, actor=THERAPIST, held_on=FUTURE),
        InvalidValueError,
    ),
    # Statements.
    "empty statement": (refine(statement=""), InvalidValueError),
    "blank statement": (refine(statement="   "), InvalidValueError),
    "over-long statement": (refine(statement=LONG), InvalidValueError),
    "statement None": (refine(statement=None), InvalidValueError),
    # Unknown ids.
    "unknown goal measured": (
        lambda app, _w: app.record_measurement(uuid4(), 1, actor=THERAPIST),
        NotFoundError,
    ),
    "unknown goal refined": (
        lambda app, _w: app.refine_goal(
            uuid4(), reason="x", actor=THERAPIST, priority="low-priority"
        ),
        NotFoundError,
    ),
    "unknown goal activated": (
        lambda app, _w: app.activate_goal(uuid4(), actor=THERAPIST),
        NotFoundError,
    ),
    "unknown goal reviewed": (
        lambda app, _w: app.review_goal(
            uuid4(), achievement="improving", decision="continue", actor=THERAPIST
        ),
        NotFoundError,
    ),
    "unknown goal retired": (
        lambda app, _w: app.retire_goal(
            uuid4(), reason_code="achieved", reason="x", actor=THERAPIST
        ),
        NotFoundError,
    ),
    "unknown replacing goal": (retire("replaced", replaced_by=uuid4()), NotFoundError),
    "unknown episode for a goal": (
        lambda app, _w: app.create_goal(uuid4(), PANIC, actor=THERAPIST),
        NotFoundError,
    ),
    "episode id used as a goal id": (
        lambda app, w: app.record_measurement(w.episode, 1, actor=THERAPIST),
        NotFoundError,
    ),
    "malformed goal id": (
        lambda app, _w: app.activate_goal("not-a-uuid", actor=THERAPIST),  # type: ignore[arg-type]
        InvalidValueError,
    ),
    # Duplicate ids.
    "duplicate goal id": (
        lambda app, w: app.create_goal(w.episode, PANIC, actor=THERAPIST, goal_id=w.active),
        DuplicateIdError,
    ),
    "goal id of an episode": (
        lambda app, w: app.create_goal(w.episode, PANIC, actor=THERAPIST, goal_id=w.episode),
        DuplicateIdError,
    ),
    "duplicate episode id": (
        lambda app, w: open_standard_episode(app, episode_id=w.episode),
        DuplicateIdError,
    ),
    "episode id of a goal": (
        lambda app, w: open_standard_episode(app, episode_id=w.vague),
        DuplicateIdError,
    ),
    # SMART.
    "activate a non-SMART goal": (
        lambda app, w: app.activate_goal(w.vague, actor=THERAPIST),
        NotSmartError,
    ),
    "state a non-SMART goal as active": (
        lambda app, w: app.create_goal(
            w.episode, CATALOG["vague"].definition, actor=THERAPIST, activate=True
        ),
        NotSmartError,
    ),
    "refine an active goal into a non-SMART one": (
        refine(statement="I want to be less anxious"),
        NotSmartError,
    ),
    # Reviews and codes.
    "attainment 3": (review(attainment=3), InvalidValueError),
    "attainment -3": (review(attainment=-3), InvalidValueError),
    "attainment not whole": (review(attainment=1.5), InvalidValueError),
    "attainment boolean": (review(attainment=True), InvalidValueError),
    "bad achievement code": (review(achievement="done"), InvalidValueError),
    "bad decision code": (review(decision="stop"), InvalidValueError),
    "bad retirement code": (retire(reason_code="finished"), InvalidValueError),
    "bad priority code": (refine(priority="urgent"), InvalidValueError),
    "bad area code": (refine(area="happiness"), InvalidValueError),
    "bad cadence": (refine(review_every_days=0), InvalidValueError),
    "review of a proposed goal": (review(goal="proposed_smart"), InvalidCommandError),
    "pause an on-hold goal": (review(goal="on_hold", decision="pause"), InvalidCommandError),
    "resume an active goal": (review(decision="resume"), InvalidCommandError),
    # Measures and corrections.
    "change the measure": (
        refine(measure=attrs.evolve(PANIC_MEASURE, unit="per day")),
        InvalidCommandError,
    ),
    "measure a goal without a measure": (
        lambda app, w: app.record_measurement(w.vague, 1, actor=THERAPIST),
        InvalidCommandError,
    ),
    "correct a voided measurement": (correct(sequence=2), InvalidCommandError),
    "correct a missing measurement": (correct(sequence=3), InvalidValueError),
    "correct to the same value": (correct(value=3), InvalidCommandError),
    "refine nothing": (refine(statement=PANIC.statement), InvalidCommandError),
    "refine with a statement that is not text": (refine(statement=42), InvalidValueError),
    # Actors.
    "actor as text": (
        lambda app, w: app.record_measurement(w.active, 1, actor="therapist-7"),  # type: ignore[arg-type]
        InvalidValueError,
    ),
    # Episodes.
    "session in a closed episode": (
        lambda app, w: app.record_session(w.closed_episode, actor=THERAPIST),
        InvalidCommandError,
    ),
    "goal in a closed episode": (
        lambda app, w: app.create_goal(w.closed_episode, PANIC, actor=THERAPIST),
        InvalidCommandError,
    ),
    "session number out of order": (
        lambda app, w: app.record_session(w.episode, actor=THERAPIST, number=2),
        InvalidValueError,
    ),
    "episode without a therapist": (
        lambda app, _w: app.open_episode(client_id="c", therapist_ids=[], actor=THERAPIST),
        InvalidValueError,
    ),
    # Stale writes.
    "stale expected version": (
        lambda app, w: app.record_measurement(
            w.active, 1, actor=THERAPIST, observed_on=TODAY, expected_version=3
        ),
        ConflictError,
    ),
    "future expected version": (
        lambda app, w: app.activate_goal(w.proposed_smart, actor=THERAPIST, expected_version=2),
        ConflictError,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_with_a_typed_error_and_the_store_unchanged(
    app: GoalpathApp, world: World, case: str
) -> None:
    command, error = CASES[case]
    assert_refused(app, world, command, error)


def test_a_stale_expected_version_names_the_goal_and_both_versions(
    app: GoalpathApp, world: World
) -> None:
    current = app.get_goal(world.active).version
    refused = assert_refused(
        app,
        world,
        lambda app, w: app.review_goal(
            w.active,
            achievement="improving",
            decision="continue",
            actor=THERAPIST,
            expected_version=current - 1,
        ),
        ConflictError,
    )
    assert isinstance(refused, ConflictError)
    assert refused.aggregate_id == world.active
    assert refused.expected_version == current - 1
    assert refused.actual_version == current
    assert str(world.active) in str(refused)
    assert f"version {current - 1}" in str(refused)
    assert f"version {current}" in str(refused)


def test_the_current_expected_version_is_accepted(app: GoalpathApp, world: World) -> None:
    current = app.get_goal(world.active).version
    app.record_measurement(
        world.active, 1, actor=THERAPIST, observed_on=TODAY, expected_version=current
    )
    assert app.get_goal(world.active).version == current + 1


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: GoalDefinition(statement="", start_on=GOAL_START), "must not be empty"),
        (lambda: GoalDefinition(statement=" \n ", start_on=GOAL_START), "must not be empty"),
        (lambda: GoalDefinition(statement=LONG, start_on=GOAL_START), "at most 2000"),
        (
            lambda: attrs.evolve(
                PANIC, target=Target(baseline=3, value=1, due_on=GOAL_START - timedelta(1))
            ),
            "must be after the start",
        ),
        (
            lambda: GoalDefinition(statement="x", start_on=GOAL_START, target=Target(3, 1, TODAY)),
            "needs a measure",
        ),
        (lambda: attrs.evolve(PANIC, priority="urgent"), "priority"),  # type: ignore[arg-type]
        (lambda: Target(baseline=float("nan"), value=1, due_on=TODAY), "finite"),
        (lambda: Target(baseline=1, value=float("inf"), due_on=TODAY), "finite"),
        (lambda: Measure(name="m", unit="u", direction="up"), "direction"),  # type: ignore[arg-type]
        (lambda: Measure(name="m", unit="u", direction="increase", minimum=5, maximum=5), "empty"),
        (lambda: Measure(name="m", unit="u", direction="increase", maximum=float("nan")), "finite"),
        (
            lambda: attrs.evolve(PANIC, target=Target(baseline=60, value=1, due_on=TODAY)),
            "baseline",
        ),
        (lambda: Actor(id="", role="therapist"), "actor id"),
        (lambda: Actor(id="t", role="doctor"), "actor role"),  # type: ignore[arg-type]
        (lambda: draft_definition("", GOAL_START), "must not be empty"),
    ],
)
def test_invalid_value_objects_cannot_exist(build: Callable[[], object], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        build()


# -- the property ---------------------------------------------------------------------


def _named(name: str, command: Command) -> tuple[str, Command]:
    return (name, command)


NamedCommands = st.SearchStrategy[tuple[str, Command]]


def bad_values() -> NamedCommands:
    """Non-finite or out-of-range measurement values."""
    return values_outside(PANIC_MEASURE).map(
        lambda value: _named(f"measure {value!r}", measure(value, TODAY))
    )


def bad_dates() -> NamedCommands:
    """Effective dates in the future or before the goal started."""
    return st.one_of(
        dates_outside_window(GOAL_START).map(lambda d: _named(f"measure on {d}", measure(1, d))),
        dates_outside_window(GOAL_START).map(
            lambda d: _named(f"review on {d}", review(reviewed_on=d))
        ),
        dates_outside_window(GOAL_START).map(
            lambda d: _named(f"retire on {d}", retire(retired_on=d))
        ),
    )


def missing_reasons() -> NamedCommands:
    """Refine, retire or correct without a reason."""
    return st.one_of(
        blank_reasons().map(
            lambda r: _named(f"refine for {r!r}", refine(reason=r, priority="low-priority"))
        ),
        blank_reasons().map(lambda r: _named(f"retire for {r!r}", retire(reason=r))),
        blank_reasons().map(lambda r: _named(f"correct for {r!r}", correct(reason=r))),
    )


def bad_statements() -> NamedCommands:
    """Blank or over-long statements."""
    return st.one_of(
        st.text(alphabet=" \t\n\r", max_size=10),
        st.text(min_size=MAX_STATEMENT_LENGTH + 1, max_size=MAX_STATEMENT_LENGTH + 50),
    ).map(lambda text: _named(f"statement of {len(text)} characters", refine(statement=text)))


def due_dates_not_after_start() -> NamedCommands:
    """Targets due on or before the goal's start."""
    return st.dates(max_value=GOAL_START, min_value=GOAL_START - timedelta(days=3000)).map(
        lambda due: _named(f"due on {due}", refine(target=Target(baseline=3, value=1, due_on=due)))
    )


@st.composite
def commands_on_a_retired_goal(draw: st.DrawFn) -> tuple[str, Command]:
    """Any change to a retired goal."""
    action = draw(st.sampled_from(["measure", "refine", "review", "correct", "retire"]))
    value = draw(values_in(PANIC_MEASURE))
    commands: dict[str, Command] = {
        "measure": lambda app, w: app.record_measurement(
            w.retired, value, actor=THERAPIST, observed_on=TODAY
        ),
        "refine": refine("retired", statement=CATALOG["panic-slower"].definition.statement),
        "review": review(goal="retired"),
        "correct": lambda app, w: app.correct_measurement(
            w.retired, 1, reason="x", actor=THERAPIST, value=value
        ),
        "retire": lambda app, w: app.retire_goal(
            w.retired, reason_code="achieved", reason="x", actor=THERAPIST
        ),
    }
    return _named(f"{action} a retired goal", commands[action])


def unknown_ids() -> NamedCommands:
    """Commands on a goal that does not exist."""
    return st.uuids().map(
        lambda unknown: _named(
            f"measure unknown goal {unknown}",
            lambda app, _w: app.record_measurement(unknown, 1, actor=THERAPIST, observed_on=TODAY),
        )
    )


@st.composite
def duplicate_ids(draw: st.DrawFn) -> tuple[str, Command]:
    """A new goal or episode with an id already in use (by a goal or an episode)."""
    field = draw(st.sampled_from(["episode", "closed_episode", "vague", "active", "retired"]))
    if draw(st.booleans()):
        return _named(
            f"goal with the id of {field}",
            lambda app, w: app.create_goal(
                w.episode, PANIC, actor=THERAPIST, goal_id=getattr(w, field)
            ),
        )
    return _named(
        f"episode with the id of {field}",
        lambda app, w: open_standard_episode(app, episode_id=getattr(w, field)),
    )


def bad_attainments() -> NamedCommands:
    """GAS levels outside -2..+2, or not whole numbers."""
    return st.one_of(
        st.integers(max_value=-3),
        st.integers(min_value=3),
        st.floats(),  # a GAS level is a whole number, never a float
        st.sampled_from([True, False, "1"]),
    ).map(lambda level: _named(f"attainment {level!r}", review(attainment=level)))


def bad_code_commands() -> NamedCommands:
    """Codes outside goalpath's code lists."""
    return st.one_of(
        bad_codes().map(lambda c: _named(f"achievement {c!r}", review(achievement=c))),
        bad_codes().map(lambda c: _named(f"decision {c!r}", review(decision=c))),
        bad_codes().map(lambda c: _named(f"retirement {c!r}", retire(reason_code=c))),
        bad_codes().map(lambda c: _named(f"priority {c!r}", refine(priority=c))),
    )


def stale_versions() -> NamedCommands:
    """An ``expected_version`` other than the active goal's (which is 4)."""
    return (
        st.integers(min_value=-5, max_value=50)
        .filter(lambda v: v != 4)
        .map(
            lambda version: _named(
                f"expected version {version}",
                lambda app, w: app.record_measurement(
                    w.active, 1, actor=THERAPIST, observed_on=TODAY, expected_version=version
                ),
            )
        )
    )


def invalid_commands() -> NamedCommands:
    """A command that must be refused against :func:`build_world`'s store, with its name."""
    return st.one_of(
        bad_values(),
        bad_dates(),
        missing_reasons(),
        bad_statements(),
        due_dates_not_after_start(),
        commands_on_a_retired_goal(),
        unknown_ids(),
        duplicate_ids(),
        st.just(
            _named("activate vague", lambda app, w: app.activate_goal(w.vague, actor=THERAPIST))
        ),
        bad_attainments(),
        bad_code_commands(),
        stale_versions(),
    )


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(named=invalid_commands())
def test_every_invalid_input_is_refused_with_a_typed_error_and_leaves_the_store_unchanged(
    app: GoalpathApp, world: World, named: tuple[str, Command]
) -> None:
    """Law: an invalid command raises a GoalpathError and stores nothing.

    One store serves every example: a command that wrongly succeeded would
    change it, and the comparison of stored records would fail.
    """
    _name, command = named
    assert app.get_goal(world.active).version == 4
    assert_refused(app, world, command)


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values_in(PANIC_MEASURE), observed_on=dates_within(GOAL_START))
def test_valid_measurements_are_accepted(
    app: GoalpathApp, world: World, value: float, observed_on: date
) -> None:
    """Law (the other side): a finite value in range, dated in the goal's window, is stored."""
    before = len(stored_records(app))
    sequence = app.record_measurement(
        world.on_hold, value, actor=THERAPIST, observed_on=observed_on
    )
    assert len(stored_records(app)) == before + 1
    recorded = app.goal_measurements(world.on_hold)[sequence - 1]
    assert (recorded.value, recorded.observed_on) == (value, observed_on)
