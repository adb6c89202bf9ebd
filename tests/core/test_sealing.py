"""Sealing details: nonces are never reused, even across a fork."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date
from pathlib import Path

from goalpath.core import Actor, GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.storage.mapper import _Nonces


def _draw(nonces: _Nonces, queue: multiprocessing.Queue[bytes]) -> None:
    queue.put(nonces.next())


def test_a_forked_child_never_reuses_its_parents_nonces() -> None:
    nonces = _Nonces()
    nonces.next()  # the pool now holds nonces drawn by this process
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[bytes] = context.Queue()
    children = [context.Process(target=_draw, args=(nonces, queue)) for _ in range(3)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    drawn = {queue.get(timeout=5) for _ in children}
    drawn.add(nonces.next())
    assert len(drawn) == 4, "parent and children drew distinct nonces"
    assert os.getpid() == nonces._owner  # the parent kept its own pool


def test_nonces_are_twelve_bytes_and_distinct() -> None:
    nonces = _Nonces()
    drawn = [nonces.next() for _ in range(2000)]
    assert {len(nonce) for nonce in drawn} == {12}
    assert len(set(drawn)) == len(drawn)


def test_positions_reported_by_a_save_are_the_stored_positions(tmp_path: Path) -> None:
    """The sealed SQLite recorder inserts a batch with one executemany and works out the
    positions itself; they must be the ones the notification log then reports."""
    today = date(2026, 6, 1)
    actor = Actor("therapist-7", "therapist")
    with (
        GoalpathApp(tmp_path / "p.db", today=lambda: today) as first,
        GoalpathApp(tmp_path / "p.db", today=lambda: today) as second,
    ):
        episode = first.open_episode(
            client_id="c", therapist_ids=["therapist-7"], opened_on=today, actor=actor
        )
        second.record_session(episode, held_on=today, actor=actor)
        goal = first.get_episode(episode)
        goal.record_session(held_on=today, attended=True, actor=actor, today=today)
        goal.record_session(held_on=today, attended=False, actor=actor, today=today)
        recordings = engine_of(first).save(goal)
        reported = [recording.notification.id for recording in recordings]
        stored = [n.id for n in engine_of(first).recorder.select_notifications(start=1, limit=100)]
        assert reported == stored[-2:]
        assert first.verify().ok
