"""Issue 13, done-when 6: the HTTP server under 16 concurrent clients.

goalpath: the goalpath server (uvicorn, one worker, a SQLite store, tokens
verified against a key set) in a subprocess on 127.0.0.1. Each of 16 client
threads has a goal of its own and, over one keep-alive connection, records
a measurement on it and reads its episode's plan, in turn, as fast as the
server answers. Baseline: the same requests served by a minimal ASGI
endpoint (:func:`baseline_app`, no framework, no authentication) that calls
bare eventsourcing (:class:`~benchmarks._common.BareApp`: ``repository.get``,
``Goal.measure``, ``save``; the plan is the goal loaded and summarised), in
its own uvicorn subprocess.

The two servers run at the same time and are loaded in turn, in rounds
(goalpath, then the baseline, then goalpath...), so both meet the same
machine; a round's ratio is goalpath's p99 latency over the baseline's, and
the row gives the median of the rounds' ratios. Every write carries a tag
(its note); afterwards the stores are read back: every acknowledged write
must be stored once (0 lost, 0 duplicated).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import attrs
import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from benchmarks import Result
from benchmarks._common import (
    BENCH_KEY,
    DEFINITION,
    START,
    THERAPIST,
    TODAY,
    BareApp,
    new_episode_and_goal,
    percentile,
    ratio_stats,
)
from benchmarks.server_process import free_port, server_process
from goalpath.core.application import GoalpathApp
from goalpath.core.goal import Goal
from goalpath.core.measurements import measurement_series
from goalpath.core.storage.keys import KEY_ENV
from goalpath.server.settings import SETTINGS_VARIABLE, ServerSettings

__all__ = ["CLIENTS", "NAME", "baseline_app", "run"]

NAME: Final = "serve"
CLIENTS: Final = 16
TARGET: Final = 2.0
ISSUER: Final = "https://login.bench.test"
AUDIENCE: Final = "goalpath"
BARE_DB_VARIABLE: Final = "GOALPATH_BENCH_BARE_DB"
_WARM: Final = "warm-"
_MEASUREMENT_PATH: Final = re.compile(r"^/goals/([0-9a-f-]{36})/measurements$")
_PLAN_PATH: Final = re.compile(r"^/goals/([0-9a-f-]{36})/plan$")


def _sizes(quick: bool) -> tuple[int, float]:
    """(rounds, seconds each side is loaded per round): 60 s of load on goalpath in all."""
    return (2, 3.0) if quick else (4, 15.0)


# -- the baseline endpoint ---------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def _bare_record(bare: BareApp, goal_id: UUID, value: float, note: str) -> int:
    goal: Goal = bare.repository.get(goal_id)
    goal.measure(value, observed_on=TODAY, actor=THERAPIST, today=TODAY, note=note)
    bare.save(goal)
    return goal.measurement_count


def _bare_plan(bare: BareApp, goal_id: UUID) -> dict[str, Any]:
    goal: Goal = bare.repository.get(goal_id)
    latest = goal.latest_measurement.value if goal.latest_measurement else None
    return {
        "goal_id": str(goal.id),
        "statement": goal.definition.statement,
        "status": goal.status,
        "measurements": goal.measurement_count,
        "latest": latest,
    }


def baseline_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The minimal endpoint: an ASGI app on bare eventsourcing (uvicorn ``--factory``).

    ``POST /goals/{id}/measurements`` (``{"value", "note"}``) measures the
    goal; ``GET /goals/{id}/plan`` loads it and answers a summary. The store
    is the file named by :data:`BARE_DB_VARIABLE`; the work runs in a thread,
    as the goalpath server's routes do.
    """
    bare = BareApp(Path(os.environ[BARE_DB_VARIABLE]))

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": f"{message['type']}.complete"})
            bare.close()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, answer = await _answer(bare, scope["method"], scope["path"], body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})

    return app


async def _answer(bare: BareApp, method: str, path: str, body: bytes) -> tuple[int, Any]:
    measured = _MEASUREMENT_PATH.match(path)
    if method == "POST" and measured:
        payload = json.loads(body)
        goal_id = UUID(measured.group(1))
        sequence = await asyncio.to_thread(
            _bare_record, bare, goal_id, float(payload["value"]), str(payload["note"])
        )
        return 201, {"sequence": sequence}
    planned = _PLAN_PATH.match(path)
    if method == "GET" and planned:
        return 200, await asyncio.to_thread(_bare_plan, bare, UUID(planned.group(1)))
    return 404, {"detail": "not found"}


# -- the two servers -----------------------------------------------------------------


@attrs.frozen
class Target:
    """One side's server: its base URL, headers and the two requests of each client."""

    base: str
    headers: dict[str, str]
    write_paths: tuple[str, ...]
    read_paths: tuple[str, ...]


@contextmanager
def _uvicorn(factory: str, environment: dict[str, str], folder: Path) -> Iterator[str]:
    """``factory`` served by uvicorn (one worker) in a subprocess; yield its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    name = factory.rpartition(":")[2]
    with server_process(
        command, port, folder=folder, name=name, environment=environment, probe="/"
    ) as served:
        yield served.url


def _keys(folder: Path) -> tuple[Path, str]:
    """A key set file and a therapist's token signed with its key."""
    key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
    jwks = folder / "jwks.json"
    jwks.write_text(json.dumps(KeySet([key]).as_dict(private=False)), encoding="utf-8")
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": THERAPIST.id,
        "role": THERAPIST.role,
        "scope": "user/*.cruds",
        "iat": now,
        "exp": now + 6 * 3600,
    }
    return jwks, jwt.encode({"alg": "RS256", "kid": "bench"}, claims, key, algorithms=["RS256"])


def _set_up_goalpath(path: Path) -> list[tuple[UUID, UUID]]:
    """One episode and active goal per client; return their (episode id, goal id)."""
    pairs = []
    with GoalpathApp(path, today=lambda: TODAY, master_key=BENCH_KEY) as app:
        for index in range(CLIENTS):
            episode_id = app.open_episode(
                client_id=f"client-{index}",
                therapist_ids=(THERAPIST.id,),
                actor=THERAPIST,
                concerns=("panic attacks",),
                opened_on=START,
            )
            goal_id = app.create_goal(episode_id, DEFINITION, actor=THERAPIST, activate=True)
            pairs.append((episode_id, goal_id))
    return pairs


def _set_up_bare(path: Path) -> list[UUID]:
    bare = BareApp(path)
    try:
        goal_ids = []
        for index in range(CLIENTS):
            episode, goal = new_episode_and_goal(f"client-{index}")
            bare.save(episode, goal)
            goal_ids.append(goal.id)
        return goal_ids
    finally:
        bare.close()


# -- the load ------------------------------------------------------------------------


@attrs.define
class Load:
    """What one side's clients did: request latencies, acknowledged and failed writes."""

    writes: list[float] = attrs.Factory(list)
    reads: list[float] = attrs.Factory(list)
    acknowledged: list[str] = attrs.Factory(list)
    failed: int = 0
    seconds: float = 0.0

    @property
    def latencies(self) -> list[float]:
        """Every request's latency, writes and reads."""
        return self.writes + self.reads

    def add(self, other: Load) -> None:
        """Count ``other``'s requests in this load too."""
        self.writes += other.writes
        self.reads += other.reads
        self.acknowledged += other.acknowledged
        self.failed += other.failed
        self.seconds += other.seconds


def _client(target: Target, index: int, side: str, until: float, load: Load) -> None:
    """One client: a measurement, then a read of the plan, until ``until``."""
    sequence = 0
    with httpx.Client(base_url=target.base, headers=target.headers, timeout=60) as client:
        while time.perf_counter() < until:
            sequence += 1
            tag = f"{side}-{index}-{time.monotonic_ns()}-{sequence}"
            started = time.perf_counter()
            try:
                written = client.post(
                    target.write_paths[index], json={"value": float(sequence % 7), "note": tag}
                )
                wrote = time.perf_counter()
                read = client.get(target.read_paths[index])
            except httpx.HTTPError:
                load.failed += 1
                continue
            ended = time.perf_counter()
            load.writes.append(wrote - started)
            load.reads.append(ended - wrote)
            if written.status_code == 201:
                load.acknowledged.append(tag)
            else:
                load.failed += 1
            if read.status_code != 200:
                load.failed += 1


def _load(target: Target, side: str, seconds: float) -> Load:
    """16 clients against ``target`` for ``seconds``."""
    loads = [Load() for _ in range(CLIENTS)]
    started = time.perf_counter()
    until = started + seconds
    threads = [
        threading.Thread(target=_client, args=(target, index, side, until, loads[index]))
        for index in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Load()
    for load in loads:
        total.add(load)
    total.seconds = time.perf_counter() - started
    return total


def _stored_goalpath(path: Path, goal_ids: list[UUID]) -> Counter[str]:
    with GoalpathApp(path, master_key=BENCH_KEY) as app:
        return Counter(
            measurement.note or ""
            for goal_id in goal_ids
            for measurement in app.goal_measurements(goal_id)
        )


def _stored_bare(path: Path, goal_ids: list[UUID]) -> Counter[str]:
    bare = BareApp(path)
    try:
        return Counter(
            measurement.note or ""
            for goal_id in goal_ids
            for measurement in measurement_series(bare.events.get(goal_id))
        )
    finally:
        bare.close()


@attrs.frozen
class Integrity:
    """Writes acknowledged against writes stored, by their tags."""

    acknowledged: int
    lost: int
    duplicated: int
    unacknowledged_stored: int

    @classmethod
    def of(cls, acknowledged: list[str], stored: Counter[str]) -> Integrity:
        """Compare the tags acknowledged with the tags read back (warm-up tags aside)."""
        told = set(acknowledged)
        return cls(
            acknowledged=len(acknowledged),
            lost=sum(1 for tag in acknowledged if stored[tag] == 0),
            duplicated=sum(count - 1 for count in stored.values() if count > 1),
            unacknowledged_stored=sum(
                1 for tag in stored if tag not in told and not tag.startswith(_WARM)
            ),
        )

    def text(self) -> str:
        """The comparison as the table shows it."""
        text = f"{self.acknowledged} acknowledged, {self.lost} lost, {self.duplicated} duplicated"
        if self.unacknowledged_stored:
            text += f", {self.unacknowledged_stored} stored unacknowledged"
        return text


def _figures(load: Load) -> str:
    p50 = statistics.median(load.latencies) * 1000
    p99 = percentile(load.latencies, 0.99) * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(load.latencies) / load.seconds:.0f} req/s"


def run(*, quick: bool = False) -> list[Result]:  # one run, its figures
    """Load goalpath's server and the baseline endpoint in turn; compare p99 latency."""
    rounds, seconds = _sizes(quick)
    with tempfile.TemporaryDirectory(prefix="goalpath-bench-serve-") as name:
        folder = Path(name)
        store, bare_store = folder / "served.db", folder / "bare.db"
        pairs = _set_up_goalpath(store)
        bare_goals = _set_up_bare(bare_store)
        jwks, token = _keys(folder)
        settings = ServerSettings(db=str(store), keys=str(jwks), issuer=ISSUER, audience=AUDIENCE)
        served = {SETTINGS_VARIABLE: settings.to_json(), KEY_ENV: BENCH_KEY.to_text()}
        bare_served = {BARE_DB_VARIABLE: str(bare_store)}
        totals = {"goalpath": Load(), "baseline": Load()}
        ratios: list[float] = []
        with (
            _uvicorn("goalpath.server.app:app_from_environment", served, folder) as goalpath_base,
            _uvicorn(f"{__name__}:baseline_app", bare_served, folder) as bare_base,
        ):
            targets = {
                "goalpath": Target(
                    goalpath_base,
                    {"Authorization": f"Bearer {token}"},
                    tuple(f"/goals/{goal}/measurements" for _episode, goal in pairs),
                    tuple(f"/episodes/{episode}/plan" for episode, _goal in pairs),
                ),
                "baseline": Target(
                    bare_base,
                    {},
                    tuple(f"/goals/{goal}/measurements" for goal in bare_goals),
                    tuple(f"/goals/{goal}/plan" for goal in bare_goals),
                ),
            }
            for side, target in targets.items():
                _load(target, f"{_WARM}{side}", min(2.0, seconds))  # first reads, caches
            for _number in range(rounds):
                p99 = {}
                for side, target in targets.items():
                    load = _load(target, side, seconds)
                    totals[side].add(load)
                    p99[side] = percentile(load.latencies, 0.99)
                ratios.append(p99["goalpath"] / p99["baseline"])
        goalpath_writes = Integrity.of(
            totals["goalpath"].acknowledged, _stored_goalpath(store, [goal for _e, goal in pairs])
        )
        bare_writes = Integrity.of(
            totals["baseline"].acknowledged, _stored_bare(bare_store, bare_goals)
        )
    ratio, spread = ratio_stats(ratios)
    goalpath, baseline = totals["goalpath"], totals["baseline"]
    p50_ratio = statistics.median(goalpath.latencies) / statistics.median(baseline.latencies)
    throughput_ratio = (len(goalpath.latencies) / goalpath.seconds) / (
        len(baseline.latencies) / baseline.seconds
    )
    return [
        Result(
            NAME,
            f"{CLIENTS} clients: measurement + plan, {rounds * seconds:.0f} s",
            len(goalpath.latencies),
            goalpath.seconds,
            {
                "p50 ratio": f"{p50_ratio:.2f}x",
                "p99 writes": _p99_text(goalpath.writes, baseline.writes),
                "p99 plan reads": _p99_text(goalpath.reads, baseline.reads),
                "throughput ratio": f"{throughput_ratio:.2f}x",
                "failed requests": f"{goalpath.failed} goalpath, {baseline.failed} baseline",
            },
            goalpath=_figures(goalpath),
            baseline=_figures(baseline) + " (bare eventsourcing endpoint)",
            ratio=ratio,
            spread=spread,
            target=f"p99 <= {TARGET}x",
            holds=ratio <= TARGET,
        ),
        Result(
            NAME,
            "writes acknowledged vs stored",
            goalpath_writes.acknowledged,
            goalpath.seconds,
            {"baseline": bare_writes.text()},
            goalpath=goalpath_writes.text(),
            target="0 lost, 0 duplicated",
            holds=goalpath_writes.lost == 0 and goalpath_writes.duplicated == 0,
        ),
    ]


def _p99_text(goalpath: list[float], baseline: list[float]) -> str:
    ours, theirs = percentile(goalpath, 0.99) * 1000, percentile(baseline, 0.99) * 1000
    return f"{ours:.1f} ms vs {theirs:.1f} ms"
