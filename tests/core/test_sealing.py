"""Sealing details: nonces are never reused, even across a fork; the chain's keyed hash is
HMAC-SHA256; records sealed many at once, of several streams in any order, chain and insert
as records sealed one at a time do."""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
from datetime import date
from pathlib import Path
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from goalpath.core import Actor, GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal
from goalpath.core.storage.mapper import ChainKey, _Nonces
from goalpath.core.storage.sealed_recorders import insert_sealed
from tests.strategies import CATALOG, TODAY, open_standard_episode


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


@given(key=st.binary(max_size=200), message=st.binary(max_size=2000))
def test_the_chain_key_is_hmac_sha256(key: bytes, message: bytes) -> None:
    """Law: for any key and message, the chain's keyed hash is the standard HMAC-SHA256."""
    keyed = ChainKey(key)
    assert keyed.digest(message) == hmac.digest(key, message, hashlib.sha256)
    assert keyed.digest(message) == keyed.digest(message)  # the keyed state is not changed


def test_events_of_several_streams_sealed_at_once_in_any_order_chain_and_verify(
    tmp_path: Path,
) -> None:
    """Interleaved streams, a stream coming back after another and a lone event: each
    record chains to its stream's previous one, and the heads and seal match."""
    actor = Actor("therapist-7", "therapist")
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY, snapshot_interval=0) as app:
        episode = open_standard_episode(app)
        first, second = (
            app.create_goal(episode, CATALOG["panic"].definition, actor=actor) for _ in "ab"
        )
        app.record_measurement(first, 3.0, actor=actor, observed_on=TODAY)
        engine = engine_of(app)
        goals = [engine._load(Goal, goal_id) for goal_id in (first, second)]
        for value in (1.0, 2.0, 3.0):
            for goal in goals:
                goal.measure(value, observed_on=TODAY, actor=actor, today=TODAY)
        events = [goal.collect_events() for goal in goals]
        interleaved = [events[0][0], events[1][0], events[0][1], events[0][2], events[1][1]]
        interleaved.append(events[1][2])
        engine.sealing.begin_save()
        insert_sealed(engine.recorder, engine.sealing.seal_rows(interleaved))
        engine.sealing.commit_save()
        app.record_measurement(second, 4.0, actor=actor, observed_on=TODAY)  # chains on
        report = app.verify()
        assert report.ok, report
        assert _measured_values(app, first) == [3.0, 1.0, 2.0, 3.0]
        assert _measured_values(app, second) == [1.0, 2.0, 3.0, 4.0]


def _measured_values(app: GoalpathApp, goal_id: UUID) -> list[float]:
    return [
        domain_event.value
        for domain_event in app.goal_events(goal_id)
        if isinstance(domain_event, Goal.Measured)
    ]
