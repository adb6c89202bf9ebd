"""Target 3: reconstructing a goal with 1,000 events, without and with a snapshot.

One goal's events (created, then measurements with a review every tenth)
are written once through goalpath's API, and the same events are saved in
a bare eventsourcing application. Without a snapshot, goalpath's
``get_goal`` (decrypting, checking, its replay path) is compared with the
library's ``repository.get`` of the same events; with a snapshot at the
last version on both sides, goalpath's load is compared with the library's
snapshot load. The sides alternate load by load; a round's figure is its
median load time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Final
from uuid import UUID

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    START,
    THERAPIST,
    TODAY,
    BareApp,
    measurement_rows,
    new_episode_and_goal,
    ratio_stats,
)
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal

__all__ = ["NAME", "run"]

NAME: Final = "reconstruct"
EVENTS: Final = 1000
TARGET_WITHOUT: Final = 1.5
TARGET_WITH: Final = 1.2


def _sizes(quick: bool) -> tuple[int, int]:
    """(rounds, loads per side per round)."""
    return (5, 4) if quick else (9, 15)


def _write_goal(app: GoalpathApp) -> UUID:
    """One goal of EVENTS events through goalpath's API (snapshots as the app is set)."""
    episode, goal = new_episode_and_goal("client-1")
    engine_of(app).save(episode, goal)
    remaining = EVENTS - 1
    step = 0
    while remaining:
        rows = measurement_rows(min(9, remaining), offset=step)
        app.import_measurements(goal.id, rows, actor=THERAPIST)
        remaining -= len(rows)
        step += len(rows)
        if remaining:
            app.review_goal(
                goal.id,
                achievement="improving",
                decision="continue",
                actor=THERAPIST,
                reviewed_on=START + timedelta(days=step % 350),
                attainment=step % 5 - 2,
            )
            remaining -= 1
    return goal.id


def _compare(
    goalpath_load: Callable[[], object], bare_load: Callable[[], object], rounds: int, loads: int
) -> tuple[list[float], list[float]]:
    goalpath_medians, bare_medians = [], []
    for number in range(rounds):
        goalpath_times: list[float] = []
        bare_times: list[float] = []
        for index in range(loads):
            order = (
                (goalpath_load, bare_load) if (number + index) % 2 else (bare_load, goalpath_load)
            )
            for load in order:
                started = time.perf_counter()
                load()
                elapsed = time.perf_counter() - started
                (goalpath_times if load is goalpath_load else bare_times).append(elapsed)
        goalpath_medians.append(statistics.median(goalpath_times))
        bare_medians.append(statistics.median(bare_times))
    return goalpath_medians, bare_medians


def run(*, quick: bool = False) -> list[Result]:
    """Load the same goal both ways, without and with a snapshot; return both rows."""
    rounds, loads = _sizes(quick)
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        gp_path, bare_path = Path(folder) / "gp.db", Path(folder) / "bare.db"
        with GoalpathApp(gp_path, today=lambda: TODAY, master_key=BENCH_KEY) as writer:
            goal_id = _write_goal(writer)
            events = writer.goal_events(goal_id)
            engine = engine_of(writer)
            assert engine.snapshots is not None
            latest = list(engine.snapshots.get(goal_id, desc=True, limit=1))
            if latest[0].originator_version != EVENTS:
                engine.take_snapshot(goal_id)  # at the last version, as on the baseline's side
        assert len(events) == EVENTS
        with BareApp(bare_path, snapshots=True) as bare_writer:
            bare_writer.save(*events)
            bare_writer.take_snapshot(goal_id)
        results = []
        for snapshots in (False, True):
            app = GoalpathApp(
                gp_path,
                today=lambda: TODAY,
                master_key=BENCH_KEY,
                snapshot_interval=50 if snapshots else 0,
            )
            bare = BareApp(bare_path, snapshots=snapshots)
            try:
                expected = app.get_goal(goal_id)
                found: Goal = bare.repository.get(goal_id)
                assert found.version == expected.version == EVENTS
                assert found.recent_measurements == expected.recent_measurements
                goalpath_medians, bare_medians = _compare(
                    partial(app.get_goal, goal_id),
                    partial(bare.repository.get, goal_id),
                    rounds,
                    loads,
                )
            finally:
                app.close()
                bare.close()
            results.append(_row(snapshots, goalpath_medians, bare_medians, loads))
    return results


def _row(
    snapshots: bool, goalpath_medians: list[float], bare_medians: list[float], loads: int
) -> Result:
    goalpath_ms = statistics.median(goalpath_medians) * 1000
    bare_ms = statistics.median(bare_medians) * 1000
    if snapshots:
        ratio, spread = ratio_stats(
            [g / b for g, b in zip(goalpath_medians, bare_medians, strict=True)]
        )
        case = f"goal of {EVENTS:,} events, from a snapshot"
        target, holds = f"<= {TARGET_WITH}x the time", ratio <= TARGET_WITH
        baseline = f"{bare_ms:.2f} ms (snapshot load)"
    else:
        ratio, spread = ratio_stats(
            [b / g for g, b in zip(goalpath_medians, bare_medians, strict=True)]
        )
        case = f"goal of {EVENTS:,} events, no snapshot"
        target, holds = f">= {TARGET_WITHOUT}x faster", ratio >= TARGET_WITHOUT
        baseline = f"{bare_ms:.2f} ms (repository.get)"
    return Result(
        NAME,
        case,
        EVENTS,
        sum(goalpath_medians) * loads,
        {"ratio is": "time / baseline time" if snapshots else "baseline time / time"},
        goalpath=f"{goalpath_ms:.2f} ms",
        baseline=baseline,
        ratio=ratio,
        spread=spread,
        target=target,
        holds=holds,
    )
