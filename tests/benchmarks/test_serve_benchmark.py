"""The serve benchmark's parts: its minimal baseline endpoint, and its count of lost writes.

The benchmark itself (two servers, 16 clients, a minute) is not run here.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from benchmarks import serve
from benchmarks._common import BareApp, new_episode_and_goal


def test_writes_acknowledged_are_compared_with_writes_stored() -> None:
    stored = Counter({"a": 1, "b": 2, "warm-x": 1, "c": 1})
    integrity = serve.Integrity.of(["a", "b", "d"], stored)
    assert (integrity.acknowledged, integrity.lost, integrity.duplicated) == (3, 1, 1)
    assert integrity.unacknowledged_stored == 1  # c; the warm-up's writes are not counted
    assert integrity.text() == "3 acknowledged, 1 lost, 1 duplicated, 1 stored unacknowledged"


def test_the_baseline_endpoint_measures_and_reads_on_bare_eventsourcing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bare.db"
    bare = BareApp(path)
    episode, goal = new_episode_and_goal("client-1")
    bare.save(episode, goal)
    bare.close()
    monkeypatch.setenv(serve.BARE_DB_VARIABLE, str(path))

    async def exchange() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=serve.baseline_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            written = await client.post(
                f"/goals/{goal.id}/measurements", json={"value": 3, "note": "tag-1"}
            )
            read = await client.get(f"/goals/{goal.id}/plan")
            missing = await client.get("/elsewhere")
            return written, read, missing

    written, read, missing = asyncio.run(exchange())
    assert (written.status_code, written.json()) == (201, {"sequence": 1})
    assert read.status_code == 200
    assert (read.json()["measurements"], read.json()["latest"]) == (1, 3.0)
    assert missing.status_code == 404
