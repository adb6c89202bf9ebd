"""Target 1: recording one measurement on a goal with 50 prior events.

goalpath: ``GoalpathApp.record_measurement`` on a SQLite file, with
everything it does (load, validation, sealing: encryption and hash chain,
save, snapshots at the default interval; read models are not caught up).
Baseline: the same operation written directly on eventsourcing: load the
goal with ``repository.get``, call ``Goal.measure``, save.

Each side has its own goals, every one with 50 prior events, and each
operation uses a goal measured for the first time, so every operation
starts from exactly 50 prior events. The two sides alternate operation by
operation; a round's figure is its median operation time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Final
from uuid import UUID

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    DEFINITION,
    START,
    THERAPIST,
    TODAY,
    BareApp,
    measurement_rows,
    new_episode_and_goal,
    ratio_stats,
)
from goalpath.core.application import GoalpathApp
from goalpath.core.goal import Goal

__all__ = ["NAME", "PRIOR_EVENTS", "run"]

NAME: Final = "write_path"
PRIOR_EVENTS: Final = 50
TARGET: Final = 1.5


def _sizes(quick: bool) -> tuple[int, int]:
    """(rounds, operations per round)."""
    return (5, 30) if quick else (9, 100)


def _set_up(app: GoalpathApp, bare: BareApp, count: int) -> tuple[list[UUID], list[UUID]]:
    """``count`` goals with 50 prior events on each side."""
    rows = measurement_rows(PRIOR_EVENTS - 1)
    goalpath_ids, bare_ids = [], []
    for index in range(count):
        episode_id = app.open_episode(
            client_id=f"client-{index}",
            therapist_ids=("therapist-1",),
            actor=THERAPIST,
            concerns=("panic attacks",),
            opened_on=START,
        )
        goal_id = app.create_goal(episode_id, DEFINITION, actor=THERAPIST, activate=True)
        app.import_measurements(goal_id, rows, actor=THERAPIST)
        goalpath_ids.append(goal_id)
        episode_b, goal = new_episode_and_goal(f"client-{index}")
        goal.measure_many(rows, actor=THERAPIST, today=TODAY)
        bare.save(episode_b, goal)
        bare_ids.append(goal.id)
    return goalpath_ids, bare_ids


def _bare_record(bare: BareApp, goal_id: UUID, value: float) -> None:
    goal: Goal = bare.repository.get(goal_id)
    goal.measure(value, observed_on=TODAY, actor=THERAPIST, today=TODAY)
    bare.save(goal)


def run(*, quick: bool = False) -> list[Result]:
    """Alternate goalpath's and the baseline's write, one goal each at a time."""
    rounds, per_round = _sizes(quick)
    goalpath_medians: list[float] = []
    bare_medians: list[float] = []
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        app = GoalpathApp(Path(folder) / "gp.db", today=lambda: TODAY, master_key=BENCH_KEY)
        bare = BareApp(Path(folder) / "bare.db")
        try:
            goalpath_ids, bare_ids = _set_up(app, bare, rounds * per_round)
            assert app.get_goal(goalpath_ids[0]).version == PRIOR_EVENTS
            assert bare.repository.get(bare_ids[0]).version == PRIOR_EVENTS
            for number in range(rounds):
                goalpath_times: list[float] = []
                bare_times: list[float] = []
                for index in range(number * per_round, (number + 1) * per_round):
                    value = float(index % 7)
                    for side in ("goalpath", "bare") if index % 2 else ("bare", "goalpath"):
                        started = time.perf_counter()
                        if side == "goalpath":
                            app.record_measurement(goalpath_ids[index], value, actor=THERAPIST)
                            goalpath_times.append(time.perf_counter() - started)
                        else:
                            _bare_record(bare, bare_ids[index], value)
                            bare_times.append(time.perf_counter() - started)
                goalpath_medians.append(statistics.median(goalpath_times))
                bare_medians.append(statistics.median(bare_times))
        finally:
            app.close()
            bare.close()
    ratio, spread = ratio_stats(
        [g / b for g, b in zip(goalpath_medians, bare_medians, strict=True)]
    )
    goalpath_ms = statistics.median(goalpath_medians) * 1000
    bare_ms = statistics.median(bare_medians) * 1000
    operations = rounds * per_round
    return [
        Result(
            NAME,
            f"record 1 measurement, goal with {PRIOR_EVENTS} prior events",
            operations,
            sum(goalpath_medians) * per_round,
            {"operations": operations},
            goalpath=f"{goalpath_ms:.2f} ms",
            baseline=f"{bare_ms:.2f} ms (load, trigger, save)",
            ratio=ratio,
            spread=spread,
            target=f"<= {TARGET}x the time",
            holds=ratio <= TARGET,
        )
    ]
