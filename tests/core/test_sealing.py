"""Sealing details: nonces are never reused, even across a fork; the chain's keyed hash is
HMAC-SHA256; records sealed many at once, of several streams in any order, chain and insert
as records sealed one at a time do; an import's run of measurements, sealed a step at a time
(all plaintexts, then all ciphertexts, then the chain), gives the same records, byte for byte,
as sealing each event in turn."""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import os
import secrets
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core import Actor, GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.goal import Goal
from goalpath.core.storage import fast_paths, mapper
from goalpath.core.storage.envelope import chain_mac, chain_macs
from goalpath.core.storage.fast_paths import encode_measured, encode_measured_run
from goalpath.core.storage.mapper import ChainKey, _Nonces
from goalpath.core.storage.replay import append_events
from goalpath.core.storage.sealed_recorders import insert_sealed
from tests.strategies import (
    CATALOG,
    GOAL_START,
    TODAY,
    accepted_number,
    actors,
    open_standard_episode,
)


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


@given(
    key=st.binary(min_size=1, max_size=100),
    records=st.lists(
        st.tuples(st.binary(max_size=80), st.binary(min_size=12, max_size=12), st.binary()),
        min_size=1,
        max_size=6,
    ),
    key_id=st.binary(min_size=16, max_size=16),
    previous=st.binary(min_size=32, max_size=32),
)
def test_a_runs_chain_is_hmac_sha256_of_each_record_and_the_one_before(
    key: bytes,
    records: list[tuple[bytes, bytes, bytes]],
    key_id: bytes,
    previous: bytes,
) -> None:
    """Law: each record's chain hash is HMAC-SHA256 of its place's length and place, key id,
    nonce, the previous record's hash and its ciphertext; one record alone is ``chain_mac``."""
    places, nonces, ciphertexts = (list(part) for part in zip(*records, strict=True))
    hashes = chain_macs(ChainKey(key), places, key_id, nonces, ciphertexts, previous)
    expected = []
    for place, nonce, ciphertext in records:
        message = len(place).to_bytes(4, "big") + place + key_id + nonce + previous + ciphertext
        previous = hmac.digest(key, message, hashlib.sha256)
        expected.append(previous)
    assert hashes == expected
    first = records[0]
    assert chain_mac(ChainKey(key), first[0], key_id, first[1], first[2], previous) == (
        hmac.digest(
            key,
            len(first[0]).to_bytes(4, "big") + first[0] + key_id + first[1] + previous + first[2],
            hashlib.sha256,
        )
    )


notes = st.none() | st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=30,
).filter(str.strip)


def _measured_events(
    app: GoalpathApp, rows: list[tuple[float, date, str | None]], actor: Actor | None = None
) -> list[Any]:
    """An imported run of ``Goal.Measured`` events of a stored goal, not yet saved."""
    episode = open_standard_episode(app)
    goal_id = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST_7)
    goal = engine_of(app)._load(Goal, goal_id)
    goal.measure_many(rows, actor=actor or THERAPIST_7, today=TODAY, append=append_events)
    return list(goal.collect_events())


THERAPIST_7 = Actor("therapist-7", "therapist")


def _sealed_with_fixed_nonces(app: GoalpathApp, events: list[Any], *, runs: bool) -> list[Any]:
    """``seal_rows`` of ``events``, with or without the run writers, under nonces fixed for
    the comparison; the chain hashes of the save are dropped again."""
    sealing = engine_of(app).sealing
    fixed = bytes(range(256)) * (12 * max(len(events), _Nonces.BLOCK) // 256 + 1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(secrets, "token_bytes", lambda size: fixed[:size])
        patch.setattr(sealing, "_nonces", _Nonces())  # a lone event's nonce is from the pool
        patch.setattr(mapper, "_EVENT_KINDS", {})
        if not runs:
            patch.setattr(fast_paths, "RUN_ENCODERS", {})
        sealing.begin_save()
        try:
            return sealing.seal_rows(events)
        finally:
            sealing.discard_save()


@settings(max_examples=25, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=50, allow_nan=False).map(accepted_number),
            st.dates(min_value=GOAL_START, max_value=TODAY),
            notes,
        ),
        min_size=1,
        max_size=12,
    ),
    actor=actors(),
)
def test_an_imported_run_sealed_a_step_at_a_time_is_the_same_records(
    rows: list[tuple[float, date, str | None]], actor: Actor
) -> None:
    """Law: for any imported measurements, sealing the run at once (the run writer, then
    every ciphertext, then the chain) gives exactly the records sealing each event gives."""
    with GoalpathApp(today=lambda: TODAY) as app:
        events = _measured_events(app, rows, actor)
        assert mapper._event_kind(Goal.Measured).run is (
            encode_measured_run if fast_paths.ENABLED else None
        )
        at_once = _sealed_with_fixed_nonces(app, events, runs=True)
        one_by_one = _sealed_with_fixed_nonces(app, events, runs=False)
        assert at_once == one_by_one
        assert [version for _, version, _, _ in at_once] == [e.originator_version for e in events]


def test_the_run_writer_writes_each_event_as_the_one_at_a_time_writer() -> None:
    """Events of one run with other actors and times than the first are written right."""
    with GoalpathApp(today=lambda: TODAY) as app:
        events = _measured_events(app, [(1.0, GOAL_START, None), (2.5, TODAY, "a note")])
    later = events[1].timestamp + timedelta(seconds=1)
    object.__setattr__(events[1], "__dict__", {**vars(events[1]), "timestamp": later})
    supervisor = Actor("supervisor-1", "supervisor")
    object.__setattr__(events[0], "__dict__", {**vars(events[0]), "actor": supervisor})
    written = encode_measured_run(events)
    assert written == [encode_measured(vars(e), lambda _: b"") for e in events]


class _Day(date):
    """A date of another class: the library's transcoder does not write it as a date."""


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value", 1),
        ("value", float("nan")),
        ("sequence", 1.0),
        ("observed_on", datetime(2026, 4, 1)),  # noqa: DTZ001  # a date's subclass, on purpose
        ("observed_on", _Day(2026, 4, 1)),
        ("note", b"bytes"),
        ("actor", "therapist-7"),
        ("timestamp", "2026-06-01T00:00:00+00:00"),
        ("extra", 1),
    ],
)
def test_the_run_writer_declines_a_run_holding_one_unusual_event(field: str, value: object) -> None:
    """Declined, the run's events are written one at a time (the general path decides)."""
    with GoalpathApp(today=lambda: TODAY) as app:
        events = _measured_events(app, [(1.0, GOAL_START, None), (2.0, GOAL_START, None)])
    assert encode_measured_run(events) is not None
    object.__setattr__(events[1], "__dict__", {**vars(events[1]), field: value})
    assert encode_measured_run(events) is None


def test_a_run_of_versions_out_of_sequence_is_left_to_the_one_at_a_time_path() -> None:
    with GoalpathApp(today=lambda: TODAY) as app:
        events = _measured_events(app, [(1.0, GOAL_START, None), (2.0, GOAL_START, None)])
        sealing = engine_of(app).sealing
        kind = mapper._event_kind(Goal.Measured)
        key_id = sealing._stream_key(events[0].originator_id, events[0])
        rows: list[Any] = []
        nonces = bytes(24)
        assert sealing._seal_consecutive(events[::-1], kind, key_id, nonces, rows) is False
        assert rows == []
        assert sealing._seal_consecutive(events, kind, key_id, nonces, rows) is True
        assert [version for _, version, _, _ in rows] == [2, 3]
