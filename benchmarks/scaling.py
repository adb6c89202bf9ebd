"""Target 5: flat scaling as a practice's history grows.

Stores of 10,000, 100,000 and 1,000,000 events are built the same way:
100 events per client (an episode with three goals, each with its
measurements, imported in batches), so 1,000,000 events means 10,000
clients.

- Latency: the p99 time of showing one client's plan
  (``Projections.plan_for_client``, which first catches up, here with the
  read models already caught up) on the largest store against the
  smallest, random clients, alternating between the stores.
- Memory: the peak resident memory of a process that rebuilds every read
  model from the first event, on the largest store against the 100,000
  event one (each rebuild in a fresh process; its resident high-water
  mark, ``VmHWM``, read from ``/proc/self/status`` on Linux).
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    DEFINITION,
    START,
    THERAPIST,
    TODAY,
    measurement_rows,
    percentile,
    ratio_stats,
)
from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.episode import Episode
from goalpath.core.goal import Goal
from goalpath.core.values import Actor
from goalpath.projections import Projections

__all__ = ["EVENTS_PER_CLIENT", "NAME", "build_practice", "run"]

NAME: Final = "scaling"
EVENTS_PER_CLIENT: Final = 100
GOALS_PER_CLIENT: Final = 3
CLIENTS_PER_TRANSACTION: Final = 100
LATENCY_TARGET: Final = 2.0
MEMORY_TARGET: Final = 1.5
ROOT: Final = Path(__file__).resolve().parents[1]

REBUILD_SCRIPT: Final = """
import json, resource, sys, time
from pathlib import Path
from benchmarks._common import BENCH_KEY, TODAY
from goalpath.core.application import GoalpathApp
from goalpath.projections import Projections

def peak_kib():
    # VmHWM is this process's own high-water mark; ru_maxrss would include the
    # parent's memory copied at fork, before exec.
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

with GoalpathApp(sys.argv[1], today=lambda: TODAY, master_key=BENCH_KEY) as app:
    projections = Projections(app, catch_up_on_read=False)
    before = peak_kib()
    started = time.perf_counter()
    result = projections.rebuild()
    seconds = time.perf_counter() - started
    projections.close()
print(json.dumps({"before_kib": before, "peak_kib": peak_kib(), "applied": result.applied,
                  "seconds": seconds}))
"""


def _sizes(quick: bool) -> tuple[int, int, int, int]:
    """(small clients, memory-baseline clients, large clients, latency rounds)."""
    return (20, 20, 200, 3) if quick else (100, 1_000, 10_000, 5)


def build_practice(path: Path, clients: int) -> int:
    """Write ``clients`` clients of 100 events each; return the number of events stored.

    Episodes and goals are saved a hundred clients per transaction, then
    their measurements imported with ``import_measurements_of_goals``, a
    hundred clients' goals per transaction.
    """
    measurements = EVENTS_PER_CLIENT - 1 - 2 * GOALS_PER_CLIENT
    per_goal = [
        measurements // GOALS_PER_CLIENT + (1 if index < measurements % GOALS_PER_CLIENT else 0)
        for index in range(GOALS_PER_CLIENT)
    ]
    with GoalpathApp(path, today=lambda: TODAY, master_key=BENCH_KEY) as app:
        for first in range(0, clients, CLIENTS_PER_TRANSACTION):
            pending: list[Episode | Goal] = []
            batches = {}
            for number in range(first, min(first + CLIENTS_PER_TRANSACTION, clients)):
                client_id = f"client-{number}"
                episode = Episode.open(
                    client_id=client_id,
                    therapist_ids=(f"therapist-{number % 50}",),
                    concerns=("panic attacks",),
                    opened_on=START,
                    actor=THERAPIST,
                    today=TODAY,
                )
                pending.append(episode)
                for index in range(GOALS_PER_CLIENT):
                    goal = Goal.state(
                        episode_id=episode.id,
                        client_id=client_id,
                        definition=DEFINITION,
                        actor=THERAPIST,
                        concerns=("panic attacks",),
                        activate=True,
                    )
                    episode.add_goal(goal.id, THERAPIST, stated_at=goal.created_on)
                    pending.append(goal)
                    batches[goal.id] = measurement_rows(per_goal[index], offset=number + index)
            engine_of(app).save(*pending)
            # A migration is an integration: the system role may import into every episode.
            app.import_measurements_of_goals(batches, actor=Actor("migration", "system"))
        return int(engine_of(app).recorder.max_notification_id() or 0)


def _rebuild_memory(path: Path) -> dict[str, float]:
    completed = subprocess.run(  # noqa: S603  # our own interpreter and script
        [sys.executable, "-c", REBUILD_SCRIPT, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures: dict[str, float] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def _latencies(
    small: Projections, large: Projections, small_clients: int, large_clients: int, rounds: int
) -> tuple[list[float], list[float]]:
    """p99 plan latency of each store, per round (queries alternate between the stores)."""
    chooser = random.Random(7)
    queries = 400
    small_p99, large_p99 = [], []
    for _ in range(rounds):
        small_times: list[float] = []
        large_times: list[float] = []
        for index in range(queries):
            order = ((small, small_clients, small_times), (large, large_clients, large_times))
            for projections, clients, times in order if index % 2 else order[::-1]:
                client_id = f"client-{chooser.randrange(clients)}"
                started = time.perf_counter()
                plans = projections.plan_for_client(client_id, today=TODAY)
                times.append(time.perf_counter() - started)
                assert len(plans[0].goals) == GOALS_PER_CLIENT
        small_p99.append(percentile(small_times, 0.99))
        large_p99.append(percentile(large_times, 0.99))
    return small_p99, large_p99


def run(*, quick: bool = False) -> list[Result]:
    """Build the stores, rebuild their read models in fresh processes, time plan reads."""
    small_clients, medium_clients, large_clients, rounds = _sizes(quick)
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-") as folder:
        paths = {size: Path(folder) / f"{size}.db" for size in ("small", "medium", "large")}
        events = {
            "small": build_practice(paths["small"], small_clients),
            "large": build_practice(paths["large"], large_clients),
        }
        if medium_clients == small_clients:
            paths["medium"] = paths["small"]
            events["medium"] = events["small"]
        else:
            events["medium"] = build_practice(paths["medium"], medium_clients)
        memory = {size: _rebuild_memory(paths[size]) for size in ("medium", "large")}
        with (
            GoalpathApp(paths["small"], today=lambda: TODAY, master_key=BENCH_KEY) as small_app,
            GoalpathApp(paths["large"], today=lambda: TODAY, master_key=BENCH_KEY) as large_app,
            Projections(small_app) as small,
            Projections(large_app) as large,
        ):
            small.catch_up()
            large.catch_up()
            small_p99, large_p99 = _latencies(small, large, small_clients, large_clients, rounds)
    latency_ratio, latency_spread = ratio_stats(
        [big / little for little, big in zip(small_p99, large_p99, strict=True)]
    )
    memory_ratio = memory["large"]["peak_kib"] / memory["medium"]["peak_kib"]
    grown = {size: memory[size]["peak_kib"] - memory[size]["before_kib"] for size in memory}
    return [
        Result(
            NAME,
            f"p99 plan of one client, {events['large']:,} vs {events['small']:,} events",
            events["large"],
            statistics.median(large_p99),
            {"clients": f"{large_clients:,} vs {small_clients:,}"},
            goalpath=f"{statistics.median(large_p99) * 1000:.2f} ms",
            baseline=f"{statistics.median(small_p99) * 1000:.2f} ms (the smaller store)",
            ratio=latency_ratio,
            spread=latency_spread,
            target=f"<= {LATENCY_TARGET}x the p99",
            holds=latency_ratio <= LATENCY_TARGET,
        ),
        Result(
            NAME,
            f"peak memory of a rebuild, {events['large']:,} vs {events['medium']:,} events",
            int(memory["large"]["applied"]),
            memory["large"]["seconds"],
            {
                "grown during the rebuild": (
                    f"{grown['large'] / 1024:.1f} MiB vs {grown['medium'] / 1024:.1f} MiB"
                ),
                "smaller rebuild": f"{_rate(memory['medium']):,.0f} events/s",
            },
            goalpath=f"{memory['large']['peak_kib'] / 1024:.1f} MiB",
            baseline=f"{memory['medium']['peak_kib'] / 1024:.1f} MiB (the smaller store)",
            ratio=memory_ratio,
            spread="1 run each",
            target=f"<= {MEMORY_TARGET}x the peak",
            holds=memory_ratio <= MEMORY_TARGET,
        ),
    ]


def _rate(figures: dict[str, float]) -> float:
    return figures["applied"] / figures["seconds"]
