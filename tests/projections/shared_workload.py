"""The workload of the shared read-side tests: what one thread or process writes and reads.

Kept apart from ``test_shared_projections.py`` so a worker process imports
only goalpath and the test strategies, not the CLI or pytest.
"""

from __future__ import annotations

import traceback
from collections import Counter
from collections.abc import Callable
from typing import Any
from uuid import UUID

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError
from goalpath.projections import Projections
from tests.strategies import CATALOG, OPENED_ON, THERAPIST, TODAY

__all__ = ["Workload", "shared_goal"]


class Workload:
    """What one worker (a thread or a process) writes and reads, and what it was told.

    Writes: every tenth a session of its own episode, every tenth (offset by
    five) a review of its own goal, the others measurements, every fourth of
    the goal every worker shares and the rest of its own; each measurement's note
    names the worker and the write, so the stored events can be matched to
    the acknowledged writes. Reads cycle through the read side's queries.
    """

    def __init__(
        self, app: GoalpathApp, projections: Projections, name: str, shared_goal: UUID
    ) -> None:
        self.app = app
        self.projections = projections
        self.name = name
        self.shared_goal = shared_goal
        self.episode_id = app.open_episode(
            client_id=f"client-{name}",
            therapist_ids=[THERAPIST.id],
            concerns=["panic attacks"],
            opened_on=OPENED_ON,
            actor=THERAPIST,
        )
        self.own_goal = app.create_goal(
            self.episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True
        )
        self.measured: list[tuple[str, str]] = []  # (goal id, note) of acknowledged writes
        self.sessions = 0
        self.reviews = 0
        self.refused: Counter[str] = Counter()
        self.reads: Counter[str] = Counter()
        self.untyped: list[str] = []

    def write(self, number: int) -> None:
        """The worker's write ``number``; an acknowledged one is remembered."""
        try:
            if number % 10 == 0:
                self.app.record_session(self.episode_id, actor=THERAPIST, held_on=TODAY)
                self.sessions += 1
            elif number % 10 == 5:  # every tenth write, offset from the sessions
                self.app.review_goal(
                    self.own_goal, achievement="improving", decision="continue", actor=THERAPIST
                )
                self.reviews += 1
            else:
                goal = self.shared_goal if number % 4 == 0 else self.own_goal
                note = f"{self.name}/{number}"
                self.app.record_measurement(
                    goal, number % 50, actor=THERAPIST, observed_on=TODAY, note=note
                )
                self.measured.append((str(goal), note))
        except GoalpathError as error:
            self.refused[type(error).__name__] += 1
        except Exception:  # reported by the test: every failure must be typed
            self.untyped.append(traceback.format_exc())

    def read(self, number: int) -> None:
        """The worker's read ``number``: success, a typed refusal, or (a failure) anything else."""
        reads: tuple[Callable[[], object], ...] = (
            lambda: self.projections.plan_for_episode(self.episode_id),
            lambda: self.projections.progress(self.shared_goal),
            lambda: self.projections.reviews_due(THERAPIST.id),
            lambda: self.projections.audit_log(goal_id=self.own_goal, limit=5),
            self.projections.status,
        )
        try:
            reads[number % len(reads)]()
        except GoalpathError as error:
            self.reads[type(error).__name__] += 1
        except Exception:  # reported by the test: every failure must be typed
            self.untyped.append(traceback.format_exc())
        else:
            self.reads["ok"] += 1

    def run(self, writes: int, reads: int) -> None:
        """Interleave the writes and reads, one of each in turn, until both counts are done."""
        for number in range(max(writes, reads)):
            if number < writes:
                self.write(number)
            if number < reads:
                self.read(number)

    def report(self) -> dict[str, Any]:
        """What the worker did, as JSON-friendly values."""
        return {
            "episode": str(self.episode_id),
            "own_goal": str(self.own_goal),
            "measured": self.measured,
            "sessions": self.sessions,
            "reviews": self.reviews,
            "refused": dict(self.refused),
            "reads": dict(self.reads),
            "untyped": self.untyped,
        }


def shared_goal(app: GoalpathApp) -> UUID:
    """A goal of its own client that every worker measures."""
    episode_id = app.open_episode(
        client_id="client-shared",
        therapist_ids=[THERAPIST.id],
        concerns=["panic attacks"],
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )
    return app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
