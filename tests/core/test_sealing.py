"""Sealing details: nonces are never reused, even across a fork."""

from __future__ import annotations

import multiprocessing
import os

from goalpath.core.mapper import _Nonces


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
