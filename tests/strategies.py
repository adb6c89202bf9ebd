"""Hypothesis strategies and fixed clinical examples shared by every test folder.

Import them as ``from tests.strategies import ...`` (``tests/conftest.py``
makes the repository root importable for that).

The fixed clock: tests run as if today were :data:`TODAY`; an episode opens
on :data:`OPENED_ON` and goals start on :data:`GOAL_START`, so there is room
for observations both inside and outside a goal's window.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, Final
from uuid import UUID

import attrs
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import NotSmartError
from goalpath.core.inputs import SMALLEST_NUMBER
from goalpath.core.values import (
    ACHIEVEMENT_STATUSES,
    GAS_RATINGS,
    GOAL_AREAS,
    MAX_STATEMENT_LENGTH,
    PRIORITIES,
    RETIREMENT_REASONS,
    ROLES,
    Actor,
    GoalDefinition,
    Measure,
    Target,
)

__all__ = [
    "CATALOG",
    "CONCERNS",
    "GOAL_START",
    "OPENED_ON",
    "PANIC_FROM_FOUR",
    "PANIC_MEASURE",
    "PANIC_STATEMENT",
    "THERAPIST",
    "TODAY",
    "VAGUE_STATEMENT",
    "CatalogEntry",
    "EpisodeHistory",
    "GoalStep",
    "actors",
    "bad_codes",
    "blank_reasons",
    "dates_outside_window",
    "dates_within",
    "episode_histories",
    "goal_definitions",
    "goal_histories",
    "measures",
    "non_finite_numbers",
    "open_standard_episode",
    "reasons",
    "record_episode_history",
    "targets",
    "values_in",
    "values_outside",
]

TODAY: Final = date(2026, 6, 1)
"""The fixed 'today' of every test application."""

OPENED_ON: Final = date(2026, 3, 2)
"""When the standard test episode opened."""

GOAL_START: Final = date(2026, 3, 16)
"""When the standard test goals start (after the episode opened, before today)."""

CONCERNS: Final = ("panic attacks",)
"""The standard episode's presenting concerns."""

THERAPIST: Final = Actor(id="therapist-7", role="therapist")
SUPERVISOR: Final = Actor(id="supervisor-1", role="supervisor")
"""Assigns therapists and erases (the built-in policy lets no therapist do either)."""

VAGUE_STATEMENT: Final = "I want to be less anxious"

PANIC_STATEMENT: Final = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)

PANIC_MEASURE: Final = Measure(
    name="panic attacks", unit="per week", direction="decrease", minimum=0, maximum=50
)
"""A count measure with a closed range, so that out-of-range values exist on both sides."""


@attrs.frozen
class CatalogEntry:
    """A goal definition of known SMART-ness, for tests whose model must predict refusals.

    ``smart`` is what a clinician would judge (and what ``test_smart`` checks
    the evaluation agrees with), written down rather than computed, so models
    built on it do not borrow the code under test.
    """

    definition: GoalDefinition
    smart: bool


CATALOG: Final[dict[str, CatalogEntry]] = {
    "vague": CatalogEntry(
        GoalDefinition(statement=VAGUE_STATEMENT, start_on=GOAL_START), smart=False
    ),
    "calmer": CatalogEntry(
        GoalDefinition(statement="I want to feel calmer", start_on=GOAL_START), smart=False
    ),
    "panic": CatalogEntry(
        GoalDefinition(
            statement=PANIC_STATEMENT,
            start_on=GOAL_START,
            measure=PANIC_MEASURE,
            target=Target(baseline=3, value=1, due_on=GOAL_START + timedelta(weeks=6)),
            practices=("daily breathing exercises",),
        ),
        smart=True,
    ),
    "panic-slower": CatalogEntry(
        GoalDefinition(
            statement=(
                "I will reduce my panic attacks from 3 to 2 per week within 8 weeks "
                "by practising daily breathing exercises"
            ),
            start_on=GOAL_START,
            measure=PANIC_MEASURE,
            target=Target(baseline=3, value=2, due_on=GOAL_START + timedelta(weeks=8)),
            practices=("daily breathing exercises",),
            priority="high-priority",
        ),
        smart=True,
    ),
    "panic-rushed": CatalogEntry(
        GoalDefinition(
            statement=(
                "I will reduce my panic attacks from 10 to 0 per week within 1 week "
                "by practising daily breathing exercises"
            ),
            start_on=GOAL_START,
            measure=PANIC_MEASURE,
            target=Target(baseline=10, value=0, due_on=GOAL_START + timedelta(weeks=1)),
            practices=("daily breathing exercises",),
        ),
        smart=False,
    ),
}
"""Definitions sharing one measure (so refinements between them are allowed) or none."""


def open_standard_episode(app: GoalpathApp, episode_id: UUID | None = None) -> UUID:
    """Open the standard test episode (panic attacks, one therapist) and return its id."""
    return app.open_episode(
        client_id="client-1",
        therapist_ids=["therapist-7"],
        concerns=CONCERNS,
        opened_on=OPENED_ON,
        actor=THERAPIST,
        episode_id=episode_id,
    )


# -- values -------------------------------------------------------------------

_words = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=12
).filter(lambda word: unicodedata.normalize("NFKC", word) == word)
"""Letters and digits, without compatibility look-alikes (which ids refuse, check_identity)."""


def actors() -> st.SearchStrategy[Actor]:
    """Valid actors the built-in policy lets change the standard episode's goals.

    The standard episode's therapist (:data:`THERAPIST`), or any id acting as
    a supervisor or as the system: every command of a goal history is one the
    policy allows them (``tests/core/test_authorization.py`` covers the rest).
    """
    return st.one_of(
        st.just(THERAPIST),
        st.builds(Actor, id=_words, role=st.sampled_from(["supervisor", "system"])),
    )


def any_actors() -> st.SearchStrategy[Actor]:
    """Valid actors: a non-blank id and any of the roles."""
    return st.builds(Actor, id=_words, role=st.sampled_from(ROLES))


def reasons() -> st.SearchStrategy[str]:
    """Valid reasons: short, non-blank text."""
    return st.text(min_size=1, max_size=80).filter(lambda text: bool(text.strip()))


def blank_reasons() -> st.SearchStrategy[Any]:
    """Missing reasons: ``None``, the empty string, or only white space."""
    return st.one_of(st.none(), st.just(""), st.text(alphabet=" \t\n", min_size=1, max_size=5))


def bad_codes() -> st.SearchStrategy[str]:
    """Texts that are none of goalpath's code lists (status, decision, reason codes)."""
    known = (
        set(ACHIEVEMENT_STATUSES)
        | set(RETIREMENT_REASONS)
        | {
            "continue",
            "adjust",
            "pause",
            "resume",
        }
    )
    return st.one_of(
        st.sampled_from(["", "ACHIEVED", "done", "Pause", "in progress", "achieved "]),
        st.text(max_size=12),
    ).filter(lambda code: code not in known)


def non_finite_numbers() -> st.SearchStrategy[float]:
    """NaN and the infinities."""
    return st.sampled_from([float("nan"), float("inf"), float("-inf")])


@st.composite
def measures(draw: st.DrawFn) -> Measure:
    """Valid measures, with or without a range (a range may be open on one side)."""
    low = draw(st.one_of(st.none(), st.integers(-100, 100)))
    high = draw(st.one_of(st.none(), st.integers(-100, 200)))
    if low is not None and high is not None and high <= low:
        high = low + draw(st.integers(1, 100))
    return Measure(
        name=draw(_words),
        unit=draw(st.sampled_from(["per week", "points", "minutes", "count"])),
        direction=draw(st.sampled_from(["increase", "decrease"])),
        instrument=draw(st.one_of(st.none(), st.sampled_from(["phq-9", "gad-7"]))),
        minimum=low,
        maximum=high,
    )


def accepted_number(value: float) -> float:
    """``value``, or zero where it is smaller in size than goalpath accepts (SMALLEST_NUMBER)."""
    return 0.0 if abs(value) < SMALLEST_NUMBER else value


def values_in(measure: Measure) -> st.SearchStrategy[float]:
    """Finite values inside the measure's range (bounds included), as goalpath accepts numbers."""
    return st.floats(
        min_value=measure.minimum if measure.minimum is not None else -1e6,
        max_value=measure.maximum if measure.maximum is not None else 1e6,
        allow_nan=False,
        allow_infinity=False,
    ).map(accepted_number)


def values_outside(measure: Measure) -> st.SearchStrategy[float]:
    """Values a measurement must be refused for: non-finite, or outside the range."""
    options: list[st.SearchStrategy[float]] = [non_finite_numbers()]
    if measure.minimum is not None:
        options.append(st.floats(max_value=measure.minimum, exclude_max=True, allow_infinity=False))
    if measure.maximum is not None:
        options.append(st.floats(min_value=measure.maximum, exclude_min=True, allow_infinity=False))
    return st.one_of(options)


def dates_within(start: date, end: date = TODAY) -> st.SearchStrategy[date]:
    """Dates from ``start`` to ``end``, both included."""
    return st.dates(min_value=start, max_value=end)


def dates_outside_window(start: date, end: date = TODAY) -> st.SearchStrategy[date]:
    """Dates before ``start`` or after ``end`` (in the future, for ``end`` = today)."""
    return st.one_of(
        st.dates(max_value=start - timedelta(days=1), min_value=start - timedelta(days=4000)),
        st.dates(min_value=end + timedelta(days=1), max_value=end + timedelta(days=4000)),
    )


@st.composite
def targets(draw: st.DrawFn, measure: Measure, start_on: date = GOAL_START) -> Target:
    """Valid targets for ``measure``: baseline and value in range, due after ``start_on``."""
    return Target(
        baseline=draw(values_in(measure)),
        value=draw(values_in(measure)),
        due_on=start_on + timedelta(days=draw(st.integers(1, 800))),
    )


@st.composite
def goal_definitions(
    draw: st.DrawFn, start_on: date = GOAL_START, *, measured: bool | None = None
) -> GoalDefinition:
    """Valid goal definitions, vague or measured (``measured`` forces one or the other)."""
    has_measure = draw(st.booleans()) if measured is None else measured
    measure = draw(measures()) if has_measure else None
    target = draw(st.one_of(st.none(), targets(measure, start_on))) if measure else None
    statement = draw(
        st.text(min_size=1, max_size=MAX_STATEMENT_LENGTH).filter(lambda text: bool(text.strip()))
    )
    importance, difficulty = draw(
        st.one_of(st.just((None, None)), st.tuples(*[st.sampled_from(GAS_RATINGS)] * 2))
    )
    return GoalDefinition(
        statement=statement,
        start_on=start_on,
        measure=measure,
        target=target,
        area=draw(st.one_of(st.none(), st.sampled_from(GOAL_AREAS))),
        practices=draw(st.lists(_words, max_size=3)),
        priority=draw(st.sampled_from(PRIORITIES)),
        review_every_days=draw(st.integers(1, 365)),
        gas_levels=draw(st.one_of(st.just(()), st.lists(_words, min_size=5, max_size=5))),
        gas_importance=importance,
        gas_difficulty=difficulty,
    )


PANIC_FROM_FOUR: Final = GoalDefinition(
    statement="Cut my panic attacks from 4 to 1 a week within 8 weeks",
    start_on=date(2026, 3, 2),
    measure=Measure("panic attacks", "per week", "decrease", minimum=0, maximum=50),
    target=Target(baseline=4, value=1, due_on=date(2026, 4, 27)),
)
"""A SMART, active-ready goal started on 2026-03-02, for the storage and failure tests."""


# -- valid command sequences --------------------------------------------------


@attrs.frozen
class GoalStep:
    """One valid command on a goal: ``run(app, goal_id)`` performs it.

    ``name`` describes the step for failure reports.
    """

    name: str
    run: Callable[[GoalpathApp, UUID], object] = attrs.field(repr=False)


def _measure_step(value: float, observed_on: date, actor: Actor) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        return app.record_measurement(goal_id, value, actor=actor, observed_on=observed_on)

    return GoalStep(f"measure {value!r} on {observed_on}", run)


def _correct_step(sequence: int, value: float | None, reason: str, actor: Actor) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        app.correct_measurement(goal_id, sequence, reason=reason, actor=actor, value=value)
        return None

    return GoalStep(f"correct measurement {sequence} to {value!r}", run)


def _review_step(
    decision: str, achievement: str, attainment: int | None, reviewed_on: date, actor: Actor
) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        app.review_goal(
            goal_id,
            achievement=achievement,  # type: ignore[arg-type]  # drawn from the code list
            decision=decision,  # type: ignore[arg-type]  # drawn from the code list
            attainment=attainment,
            reviewed_on=reviewed_on,
            actor=actor,
        )
        return None

    return GoalStep(f"review {decision} ({achievement}, GAS {attainment})", run)


def _refine_step(key: str, reason: str, actor: Actor) -> GoalStep:
    definition = CATALOG[key].definition

    def run(app: GoalpathApp, goal_id: UUID) -> object:
        app.refine_goal(
            goal_id,
            reason=reason,
            actor=actor,
            statement=definition.statement,
            target=definition.target,
            practices=definition.practices,
            priority=definition.priority,
        )
        return None

    return GoalStep(f"refine to {key}", run)


def _gas_scale_step(levels: list[str], weight: tuple[int, int] | None, actor: Actor) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        importance, difficulty = (None, None) if weight is None else weight
        app.refine_goal(
            goal_id,
            reason="GAS scale agreed",
            actor=actor,
            gas_levels=levels,
            gas_importance=importance,
            gas_difficulty=difficulty,
        )
        return None

    return GoalStep(f"GAS scale {levels} weight {weight}", run)


def _retire_step(reason_code: str, reason: str, retired_on: date, actor: Actor) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        app.retire_goal(
            goal_id,
            reason_code=reason_code,  # type: ignore[arg-type]  # drawn from the code list
            reason=reason,
            retired_on=retired_on,
            actor=actor,
        )
        return None

    return GoalStep(f"retire as {reason_code}", run)


@st.composite
def goal_histories(draw: st.DrawFn, max_steps: int = 25) -> list[GoalStep]:
    """Valid command sequences for an *active* goal stated from ``CATALOG["panic"]``.

    Every step is valid given the ones before it (measurements in range and
    dated inside the window, corrections of measurements that exist and are
    not voided, pause only when active, resume only when on hold, refinements
    between SMART definitions of the same measure), and the sequence may end
    with a retirement. Apply them with ``step.run(app, goal_id)``.
    """
    steps: list[GoalStep] = []
    values: list[float | None] = []  # current value of each measurement, None when voided
    status = "active"
    key = "panic"
    scale_now: tuple[tuple[str, ...], tuple[int, int] | None] = ((), None)
    actor_strategy = actors()
    for _ in range(draw(st.integers(0, max_steps))):
        actor = draw(actor_strategy)
        kinds = ["measure", "review", "refine", "scale"]
        if any(value is not None for value in values):
            kinds.append("correct")
        kind = draw(st.sampled_from(kinds))
        if kind == "measure":
            value = draw(values_in(PANIC_MEASURE))
            values.append(value)
            steps.append(_measure_step(value, draw(dates_within(GOAL_START)), actor))
        elif kind == "correct":
            sequence = draw(
                st.sampled_from([i + 1 for i, value in enumerate(values) if value is not None])
            )
            current = values[sequence - 1]
            new = draw(st.one_of(st.none(), values_in(PANIC_MEASURE).filter(current.__ne__)))
            values[sequence - 1] = new
            steps.append(_correct_step(sequence, new, draw(reasons()), actor))
        elif kind == "review":
            decisions = ["continue", "adjust", "pause" if status == "active" else "resume"]
            decision = draw(st.sampled_from(decisions))
            if decision == "pause":
                status = "on-hold"
            elif decision == "resume":
                status = "active"
            steps.append(
                _review_step(
                    decision,
                    draw(st.sampled_from(ACHIEVEMENT_STATUSES)),
                    draw(st.one_of(st.none(), st.integers(-2, 2))),
                    draw(dates_within(GOAL_START)),
                    actor,
                )
            )
        elif kind == "scale":
            scale = draw(
                st.tuples(
                    st.one_of(st.just(()), st.tuples(*[_words] * 5)),
                    st.one_of(st.none(), st.tuples(*[st.sampled_from(GAS_RATINGS)] * 2)),
                ).filter(scale_now.__ne__)
            )
            scale_now = scale
            steps.append(_gas_scale_step(list(scale[0]), scale[1], actor))
        else:
            key = "panic-slower" if key == "panic" else "panic"
            steps.append(_refine_step(key, draw(reasons()), actor))
    if draw(st.booleans()):
        reason_code = draw(
            st.sampled_from([code for code in RETIREMENT_REASONS if code != "replaced"])
        )
        steps.append(
            _retire_step(reason_code, draw(reasons()), draw(dates_within(GOAL_START)), THERAPIST)
        )
    return steps


# -- whole episodes -----------------------------------------------------------


@attrs.frozen
class EpisodeHistory:
    """A drawn episode: the panic goal's history, a second goal, perhaps the episode's end."""

    steps: list[GoalStep]
    other: GoalDefinition
    other_actor: Actor
    activate_other: bool
    reason: str
    close: bool


@st.composite
def episode_histories(draw: st.DrawFn, max_steps: int = 12) -> EpisodeHistory:
    """Episodes whose histories goalpath accepts, for laws over whole exports."""
    return EpisodeHistory(
        steps=draw(goal_histories(max_steps=max_steps)),
        other=draw(goal_definitions()),
        other_actor=draw(actors()),
        activate_other=draw(st.booleans()),
        reason=draw(reasons()),
        close=draw(st.booleans()),
    )


def record_episode_history(app: GoalpathApp, history: EpisodeHistory) -> UUID:
    """Record ``history`` in ``app`` and return the episode's id.

    The second goal is activated when asked and SMART enough; otherwise it
    stays proposed.
    """
    episode = open_standard_episode(app)
    goal = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    for step in history.steps:
        step.run(app, goal)
    try:
        app.create_goal(
            episode, history.other, actor=history.other_actor, activate=history.activate_other
        )
    except NotSmartError:
        app.create_goal(episode, history.other, actor=history.other_actor)
    if history.close:
        app.close_episode(episode, reason=history.reason, closed_on=TODAY, actor=THERAPIST)
    return episode
