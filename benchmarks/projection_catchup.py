"""Catching up the read models: batched runner against one event per transaction.

Both runners apply the same events with the same projectors to their own
copy of one SQLite file (read models beside the events, WAL on); only the
batch size differs: :data:`BATCH_SIZE` notifications per transaction, or
one. The figure that matters is the ratio, measured side by side: the two
catch up a fifth of the log at a time, alternating, and each fifth gives
a ratio.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from benchmarks import Result
from benchmarks._common import ratio_stats
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.projections import Projections

__all__ = ["BATCH_SIZE", "NAME", "build_store", "run"]

NAME: Final = "projection_catchup"
BATCH_SIZE: Final = 1000
TARGET: Final = 10.0
ROUNDS: Final = 5
FULL_EVENTS: Final = 100_000
QUICK_EVENTS: Final = 5_000

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
EVENTS_PER_GOAL: Final = 100
GOALS_PER_EPISODE: Final = 20


def build_store(path: Path, events: int) -> int:
    """Write about ``events`` realistic events (goals measured weekly, reviewed monthly).

    Aggregates are built in memory and saved a few at a time, so setting up
    is fast; returns the number of events stored.
    """
    with GoalpathApp(path, today=lambda: TODAY, snapshot_interval=0) as app:
        goal_count = max(events // (EVENTS_PER_GOAL + 1), 1)
        episode: Episode | None = None
        pending: list[Goal | Episode] = []
        for index in range(goal_count):
            if index % GOALS_PER_EPISODE == 0:
                if episode is not None:
                    engine_of(app).save(episode, *pending)
                    pending = []
                episode = Episode.open(
                    client_id=f"client-{index // GOALS_PER_EPISODE}",
                    therapist_ids=(f"therapist-{index % 7}",),
                    concerns=("panic attacks",),
                    opened_on=START,
                    actor=THERAPIST,
                    today=TODAY,
                )
            assert episode is not None
            goal = Goal.state(
                episode_id=episode.id,
                client_id=episode.client_id,
                definition=DEFINITION,
                actor=THERAPIST,
                concerns=("panic attacks",),
                activate=True,
            )
            episode.add_goal(goal.id, THERAPIST)
            for step in range(EVENTS_PER_GOAL - 1):
                day = START + timedelta(days=(step * 3) % 350)
                if step % 10 == 9:
                    goal.review(
                        reviewed_on=day,
                        achievement="improving",
                        decision="continue",
                        actor=THERAPIST,
                        today=TODAY,
                        attainment=(step // 10) % 5 - 2,
                    )
                else:
                    goal.measure(6 - (step % 6), observed_on=day, actor=THERAPIST, today=TODAY)
            pending.append(goal)
            if len(pending) >= 5:
                engine_of(app).save(*pending)
                pending = []
        if episode is not None:
            engine_of(app).save(episode, *pending)
        return int(engine_of(app).recorder.max_notification_id() or 0)


def _catch_up(batched_path: Path, single_path: Path, events: int) -> tuple[list[float], ...]:
    """Catch both stores up a slice at a time, alternating; return each side's slice times."""
    rounds = ROUNDS
    slice_size = -(-events // rounds)
    batched_times: list[float] = []
    single_times: list[float] = []
    with (
        GoalpathApp(batched_path, today=lambda: TODAY) as batched_app,
        GoalpathApp(single_path, today=lambda: TODAY) as single_app,
        Projections(batched_app, batch_size=BATCH_SIZE, catch_up_on_read=False) as batched,
        Projections(single_app, batch_size=1, catch_up_on_read=False) as single,
    ):
        for number in range(rounds):
            sides = ((batched, batched_times), (single, single_times))
            for projections, times in sides if number % 2 else sides[::-1]:
                started = time.perf_counter()
                projections.runner.catch_up(limit=slice_size)
                times.append(time.perf_counter() - started)
        assert batched.runner.position() == single.runner.position() == events
    return batched_times, single_times


def _audit_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM gp_audit_log").fetchone()[0])


def run(*, quick: bool = False) -> list[Result]:
    """Measure both runners on copies of one store; return their results and the ratio."""
    events = QUICK_EVENTS if quick else FULL_EVENTS
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        batched_path = Path(folder) / "batched.db"
        stored = build_store(batched_path, events)
        single_path = Path(folder) / "single.db"
        with sqlite3.connect(batched_path) as source, sqlite3.connect(single_path) as target:
            source.backup(target)
        # The copy needs the store's key file too (the events are encrypted under it).
        Path(f"{single_path}.key").write_bytes(Path(f"{batched_path}.key").read_bytes())
        batched_times, single_times = _catch_up(batched_path, single_path, stored)
        assert _audit_rows(batched_path) == _audit_rows(single_path) == stored
    ratio, spread = ratio_stats(
        [single / batched for batched, single in zip(batched_times, single_times, strict=True)]
    )
    batched_seconds, single_seconds = sum(batched_times), sum(single_times)
    return [
        Result(
            NAME,
            f"catch up {stored:,} events, {BATCH_SIZE} per transaction",
            stored,
            batched_seconds,
            {"one event per transaction": f"{single_seconds:.1f} s"},
            goalpath=f"{stored / batched_seconds:,.0f} events/s",
            baseline=f"{stored / single_seconds:,.0f} events/s (one event per transaction)",
            ratio=ratio,
            spread=spread,
            target=f">= {TARGET}x the event rate",
            holds=ratio >= TARGET,
        ),
    ]
