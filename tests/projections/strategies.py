"""Strategies for the read side: random valid histories of several episodes and goals.

A history is a list of :class:`Operation` values; :func:`replay` runs them on
an application. Goal steps come from ``tests.strategies.goal_histories``
(valid on their own); episode steps keep session dates in order. A step
the domain refuses (for example a goal stated in a closed episode) is
skipped, so what is stored is always a valid history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Final
from uuid import UUID

import attrs
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from tests.strategies import (
    CATALOG,
    CONCERNS,
    GOAL_START,
    OPENED_ON,
    THERAPIST,
    GoalStep,
    goal_histories,
)

__all__ = [
    "GAD7",
    "PHQ9",
    "Operation",
    "gad7_definition",
    "histories",
    "phq9_definition",
    "replay",
]

PHQ9: Final = Measure(
    name="PHQ-9 total",
    unit="points",
    direction="decrease",
    instrument="phq-9",
    minimum=0,
    maximum=27,
)


def phq9_definition(baseline: float = 16, target: float = 8) -> GoalDefinition:
    """A SMART goal measured with the PHQ-9."""
    return GoalDefinition(
        statement="Reduce my low mood from a PHQ-9 of 16 to 8 within 12 weeks by walking daily",
        start_on=GOAL_START,
        measure=PHQ9,
        target=Target(baseline=baseline, value=target, due_on=GOAL_START + timedelta(weeks=12)),
        area="symptom-relief",
        practices=("daily walk",),
    )


GAD7: Final = Measure(
    name="GAD-7 total",
    unit="points",
    direction="decrease",
    instrument="gad-7",
    minimum=0,
    maximum=21,
)


def gad7_definition(baseline: float = 12, target: float = 6) -> GoalDefinition:
    """A SMART goal measured with the GAD-7."""
    return GoalDefinition(
        statement="Reduce my worry from a GAD-7 of 12 to 6 within 12 weeks by daily worry time",
        start_on=GOAL_START,
        measure=GAD7,
        target=Target(baseline=baseline, value=target, due_on=GOAL_START + timedelta(weeks=12)),
        area="symptom-relief",
        practices=("daily worry time",),
    )


@attrs.frozen
class Operation:
    """One step of a history; ``catch_up`` steps carry the batch size to catch up with."""

    kind: str
    episode: int = 0
    goal: int = 0
    step: GoalStep | None = None
    value: object = None

    def __repr__(self) -> str:
        detail = self.step.name if self.step else repr(self.value)
        return f"{self.kind}(episode={self.episode}, goal={self.goal}, {detail})"


@st.composite
def histories(draw: st.DrawFn, max_goals: int = 4, max_operations: int = 40) -> list[Operation]:
    """Random valid histories: episodes opened, sessions, therapists, goals and their steps.

    ``catch_up`` operations are interleaved, each with a batch size.
    """
    operations: list[Operation] = [Operation("open", value="client-1")]
    goal_steps: list[list[GoalStep]] = []
    episodes = 1
    for _ in range(draw(st.integers(1, max_operations))):
        kinds = ["session", "session", "catch_up", "catch_up", "open", "assign", "close"]
        if len(goal_steps) < max_goals:
            kinds += ["goal"] * 4
        if any(goal_steps):
            kinds += ["goal_step"] * 12
        kind = draw(st.sampled_from(kinds))
        episode = draw(st.integers(0, episodes - 1))
        if kind == "open":
            operations.append(
                Operation("open", value=draw(st.sampled_from(["client-1", "client-2"])))
            )
            episodes += 1
        elif kind == "session":
            operations.append(Operation("session", episode, value=draw(st.booleans())))
        elif kind == "assign":
            operations.append(
                Operation(
                    "assign", episode, value=draw(st.sampled_from(["therapist-8", "therapist-9"]))
                )
            )
        elif kind == "close":
            operations.append(Operation("close", episode))
        elif kind == "catch_up":
            operations.append(Operation("catch_up", value=draw(st.integers(1, 7))))
        elif kind == "goal":
            which = draw(st.sampled_from(["panic", "vague", "phq-9"]))
            steps = draw(goal_histories(max_steps=10)) if which == "panic" else []
            if which == "phq-9":
                steps = [
                    _phq9_step(draw(st.integers(0, 27)), day)
                    for day in range(draw(st.integers(0, 3)))
                ]
            goal_steps.append(steps)
            operations.append(Operation("goal", episode, len(goal_steps) - 1, value=which))
        else:
            candidates = [index for index, steps in enumerate(goal_steps) if steps]
            index = draw(st.sampled_from(candidates))
            operations.append(Operation("goal_step", goal=index, step=goal_steps[index].pop(0)))
    return operations


def _phq9_step(score: int, day: int) -> GoalStep:
    def run(app: GoalpathApp, goal_id: UUID) -> object:
        return app.record_measurement(
            goal_id, score, actor=THERAPIST, observed_on=GOAL_START + timedelta(days=7 * day)
        )

    return GoalStep(f"PHQ-9 {score}", run)


_DEFINITIONS: Final[dict[str, Callable[[], GoalDefinition]]] = {
    "panic": lambda: CATALOG["panic"].definition,
    "vague": lambda: CATALOG["vague"].definition,
    "phq-9": phq9_definition,
}


def replay(
    app: GoalpathApp,
    operations: list[Operation],
    on_catch_up: Callable[[int], object] = lambda _size: None,
) -> tuple[list[UUID], list[UUID | None]]:
    """Run a history on ``app``; return the episode ids and goal ids (``None`` if refused)."""
    episode_ids: list[UUID] = []
    goal_ids: list[UUID | None] = []
    sessions: dict[UUID, int] = {}
    for operation in operations:
        if operation.kind == "catch_up":
            on_catch_up(int(operation.value))  # type: ignore[call-overload]  # an int by construction
            continue
        if operation.kind == "open":
            episode_ids.append(
                app.open_episode(
                    client_id=str(operation.value),
                    therapist_ids=["therapist-7"],
                    concerns=CONCERNS,
                    opened_on=OPENED_ON,
                    actor=THERAPIST,
                )
            )
            continue
        try:
            _run(app, operation, episode_ids, goal_ids, sessions)
        except GoalpathError:
            if operation.kind == "goal":
                goal_ids.append(None)
    return episode_ids, goal_ids


def _run(
    app: GoalpathApp,
    operation: Operation,
    episode_ids: list[UUID],
    goal_ids: list[UUID | None],
    sessions: dict[UUID, int],
) -> None:
    actor = Actor("therapist-7", "therapist")
    if operation.kind == "goal_step":
        goal_id = goal_ids[operation.goal] if operation.goal < len(goal_ids) else None
        if goal_id is not None and operation.step is not None:
            operation.step.run(app, goal_id)
        return
    episode_id = episode_ids[min(operation.episode, len(episode_ids) - 1)]
    if operation.kind == "session":
        count = sessions.get(episode_id, 0)
        app.record_session(
            episode_id,
            held_on=OPENED_ON + timedelta(days=7 * count),
            attended=bool(operation.value),
            actor=actor,
        )
        sessions[episode_id] = count + 1
    elif operation.kind == "assign":
        app.assign_therapist(episode_id, str(operation.value), actor=actor)
    elif operation.kind == "close":
        last = OPENED_ON + timedelta(days=7 * max(sessions.get(episode_id, 1) - 1, 0))
        app.close_episode(episode_id, reason="therapy ended", closed_on=last, actor=actor)
    elif operation.kind == "goal":
        which = str(operation.value)
        goal_ids.append(
            app.create_goal(
                episode_id, _DEFINITIONS[which](), actor=actor, activate=which != "vague"
            )
        )
