"""What the benchmarks share: the bare-eventsourcing baseline, test data and statistics.

The baseline is "the same operation written directly on eventsourcing": a
plain :class:`eventsourcing.application.Application` on a SQLite file that
registers goalpath's transcodings and stores the same aggregate class
(:class:`~goalpath.core.goal.Goal`) and the same events, with the library's
default mapper (no encryption) and ``repository.get``.

Machines here are shared and noisy, so goalpath and its baseline are
measured interleaved, in rounds; a row reports the median of the rounds'
ratios and their spread (lowest to highest).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Final
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import Environment, EnvType

from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.core.storage.keys import MasterKey
from goalpath.core.storage.transcodings import register_goalpath_transcodings
from goalpath.core.values import Actor, GoalDefinition, Measure, Target

__all__ = [
    "BENCH_KEY",
    "DEFINITION",
    "START",
    "THERAPIST",
    "TODAY",
    "BareApp",
    "measurement_rows",
    "new_episode_and_goal",
    "percentile",
    "ratio_stats",
]

TODAY: Final = date(2026, 1, 1)
START: Final = date(2025, 1, 6)
THERAPIST: Final = Actor("therapist-1", "therapist")
MEASURE: Final = Measure(
    name="panic attacks", unit="per week", direction="decrease", minimum=0, maximum=50
)
DEFINITION: Final = GoalDefinition(
    statement=(
        "I will reduce my panic attacks from 6 to 1 per week within 40 weeks "
        "by practising daily breathing exercises"
    ),
    start_on=START,
    measure=MEASURE,
    target=Target(baseline=6, value=1, due_on=START + timedelta(weeks=40)),
    area="symptom-relief",
    practices=("daily breathing exercises",),
)
BENCH_KEY: Final = MasterKey(bytes(range(32)))
"""A fixed master key: benchmarks need no key file and no environment."""


class BareApp(Application[UUID]):
    """The baseline: eventsourcing's own application on a SQLite file, no encryption."""

    name = "bare"

    def __init__(self, path: Path, *, snapshots: bool = False) -> None:
        super().__init__(
            env={
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "IS_SNAPSHOTTING_ENABLED": "y" if snapshots else "n",
            }
        )

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """Only the given settings (the process environment must not move the store)."""
        return Environment(name, dict(env or {}))

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The library's transcodings plus goalpath's value objects."""
        super().register_transcodings(transcoder)
        register_goalpath_transcodings(transcoder)


def new_episode_and_goal(client_id: str, *, goal_id: UUID | None = None) -> tuple[Episode, Goal]:
    """An opened episode and one active goal in it, in memory (not yet saved)."""
    episode = Episode.open(
        client_id=client_id,
        therapist_ids=("therapist-1",),
        concerns=("panic attacks",),
        opened_on=START,
        actor=THERAPIST,
        today=TODAY,
    )
    goal = Goal.state(
        episode_id=episode.id,
        client_id=client_id,
        definition=DEFINITION,
        actor=THERAPIST,
        concerns=("panic attacks",),
        activate=True,
        goal_id=goal_id,
    )
    episode.add_goal(goal.id, THERAPIST, stated_at=goal.created_on)
    return episode, goal


def measurement_rows(count: int, offset: int = 0) -> list[tuple[float, date, str | None]]:
    """``count`` plausible weekly-ish measurements: (value, observed_on, note)."""
    return [
        (float(6 - (index % 6)), START + timedelta(days=(index * 3) % 350), None)
        for index in range(offset, offset + count)
    ]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile, nearest-rank method."""
    ordered = sorted(values)
    rank = max(int(-(-fraction * len(ordered) // 1)), 1)
    return ordered[min(rank, len(ordered)) - 1]


def ratio_stats(ratios: Sequence[float]) -> tuple[float, str]:
    """The median ratio and its spread as text ("lowest-highest over N rounds")."""
    return statistics.median(ratios), f"{min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)}"
