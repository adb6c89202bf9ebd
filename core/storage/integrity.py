"""Verifying the tamper-evident hash chains of every stream in a store.

Verification reads the stored records only (never snapshots, never
aggregates), recomputes each record's keyed chain hash from its place, its
sealed content and the previous record's hash, and names the first stream
and version that does not match. It needs the master key but no client key,
so an erased client's streams still verify.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Final, Literal
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Notification

from goalpath.core.errors import TamperedError
from goalpath.core.storage.keys import ClientKeyStore
from goalpath.core.storage.mapper import GENESIS, chain_hash, open_envelope
from goalpath.core.storage.sealed_recorders import (
    SealedState,
    StoreSeal,
    StreamHead,
    head_mac,
    seal_mac,
)

__all__ = ["ChainProblem", "VerificationReport", "verify_chains"]

ProblemKind = Literal[
    "altered", "missing", "reordered", "deleted-notification", "truncated", "unsealed"
]

BATCH: Final = 1000


@attrs.frozen
class ChainProblem:
    """One place where the stored history does not verify."""

    stream_id: str
    version: int
    kind: ProblemKind
    detail: str


@attrs.frozen
class VerificationReport:
    """The outcome of verifying every chain in a store."""

    records_checked: int
    streams_checked: int
    erased_streams: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        """Whether every record verified."""
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        """The first problem found, in recording order."""
        return self.problems[0] if self.problems else None


@attrs.define
class _Stream:
    next_version: int = 1
    previous: bytes = GENESIS
    broken: bool = False
    key_id: UUID | None = None

    @property
    def last_version(self) -> int:
        return self.next_version - 1


def _check_heads(
    streams: dict[str, _Stream], heads: dict[str, StreamHead], key: bytes
) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    for name, head in sorted(heads.items()):
        stream = streams.get(name)
        expected_mac = head_mac(key, head.stream_id, head.version, head.chain)
        if not hmac.compare_digest(expected_mac, head.mac):
            problems.append(
                ChainProblem(name, head.version, "altered", "the stream's sealed head was altered")
            )
            continue
        if stream is None:
            problems.append(
                ChainProblem(
                    name,
                    1,
                    "truncated",
                    f"the stream ends at version {head.version} but none of its records "
                    "remain: they were deleted",
                )
            )
            continue
        if stream.broken:
            continue
        if stream.last_version < head.version:
            problems.append(
                ChainProblem(
                    name,
                    stream.last_version + 1,
                    "truncated",
                    f"the stream ends at version {head.version} but its records stop at "
                    f"version {stream.last_version}: the newest were deleted",
                )
            )
        elif stream.last_version > head.version or stream.previous != head.chain:
            problems.append(
                ChainProblem(
                    name,
                    head.version + 1,
                    "unsealed",
                    f"records after the stream's sealed end (version {head.version}) were "
                    "added outside goalpath, or its last record was replaced",
                )
            )
    for name, stream in sorted(streams.items()):
        if name not in heads and not stream.broken:
            problems.append(
                ChainProblem(
                    name,
                    1,
                    "unsealed",
                    "the stream has no sealed head: it was written outside goalpath, or its "
                    "head was deleted",
                )
            )
    return problems


def _check_seal(
    seal: StoreSeal | None, key: bytes, records: int, last_position: int
) -> list[ChainProblem]:
    if seal is None:
        if records == 0:
            return []
        return [ChainProblem("store", 0, "unsealed", "the store's seal is missing")]
    if not hmac.compare_digest(seal_mac(key, seal.records, seal.last_position), seal.mac):
        return [ChainProblem("store", 0, "altered", "the store's seal was altered")]
    if (seal.records, seal.last_position) != (records, last_position):
        return [
            ChainProblem(
                "store",
                0,
                "truncated" if records < seal.records else "unsealed",
                f"the store was sealed with {seal.records} records up to position "
                f"{seal.last_position}, but {records} records up to position {last_position} "
                "are there",
            )
        ]
    return []


def verify_chains(
    recorder: ApplicationRecorder,
    chain_key: bytes,
    keys: ClientKeyStore,
    *,
    check_notification_gaps: bool,
    progress: Callable[[int], None] | None = None,
    sealed: SealedState | None = None,
    seal_key: bytes | None = None,
) -> VerificationReport:
    """Recompute every stream's chain; report deleted, reordered, inserted and altered records.

    ``check_notification_gaps`` also reports gaps in the notification
    sequence (true for SQLite, whose positions have no gaps unless a row was
    deleted; false for databases whose sequences may skip on rollback).
    ``sealed`` (kept by the sealed recorders: each stream's head, the
    store's seal, and the last position, read from one snapshot) shows where
    each stream and the whole store end, so that removing the newest records
    is reported too. The check stops at that snapshot's last position: records
    written while it runs are left for the next check. The in-memory store
    keeps no seal.
    """
    streams: dict[str, _Stream] = {}
    problems: list[ChainProblem] = []
    checked = 0
    position = 1
    last_id = 0
    stop = sealed.last_position if sealed is not None else None
    while True:
        if stop is not None and position > stop:
            break
        batch = recorder.select_notifications(start=position, limit=BATCH, stop=stop)
        if not batch:
            break
        for record in batch:
            checked += 1
            stream_name = str(record.originator_id)
            if check_notification_gaps and record.id != last_id + 1:
                problems.append(
                    ChainProblem(
                        stream_name,
                        record.originator_version,
                        "deleted-notification",
                        f"records at positions {last_id + 1} to {record.id - 1} are missing: "
                        "deleted from the store",
                    )
                )
            last_id = record.id
            stream = streams.setdefault(stream_name, _Stream())
            if stream.broken:
                continue
            problem = _check_record(record, stream, chain_key)
            if problem is not None:
                problems.append(problem)
                stream.broken = True
        position = batch[-1].id + 1
        if progress is not None:
            progress(checked)
    if sealed is not None and seal_key is not None:
        problems.extend(_check_heads(streams, sealed.heads, seal_key))
        problems.extend(_check_seal(sealed.seal, seal_key, checked, last_id))
    erased = _count_erased(streams, keys)
    return VerificationReport(
        records_checked=checked,
        streams_checked=len(streams),
        erased_streams=erased,
        problems=tuple(problems),
    )


def _check_record(stored: Notification, stream: _Stream, chain_key: bytes) -> ChainProblem | None:
    stream_name = str(stored.originator_id)
    version = stored.originator_version
    if version > stream.next_version:
        return ChainProblem(
            stream_name,
            stream.next_version,
            "missing",
            f"version {stream.next_version} is missing (found version {version} next): "
            "an event was deleted or the versions were changed",
        )
    if version < stream.next_version:
        return ChainProblem(
            stream_name,
            version,
            "reordered",
            f"version {version} appears after version {stream.next_version - 1}: "
            "events were reordered or inserted",
        )
    try:
        envelope = open_envelope(stored)
    except TamperedError as error:
        return ChainProblem(stream_name, version, "altered", str(error))
    expected = chain_hash(
        chain_key,
        originator_id=stored.originator_id,
        version=version,
        topic=stored.topic,
        envelope=envelope,
        previous=stream.previous,
    )
    if not hmac.compare_digest(expected, envelope.chain):
        return ChainProblem(
            stream_name,
            version,
            "altered",
            f"version {version} does not match its chain hash: its content, place or key "
            "was altered, or it was forged",
        )
    stream.next_version = version + 1
    stream.previous = envelope.chain
    if stream.key_id is None:
        stream.key_id = envelope.key_id
    return None


def _count_erased(streams: dict[str, _Stream], keys: ClientKeyStore) -> int:
    erased_keys: dict[UUID, bool] = {}
    count = 0
    for stream in streams.values():
        if stream.key_id is None:
            continue
        if stream.key_id not in erased_keys:
            erased_keys[stream.key_id] = keys.is_erased(stream.key_id)
        count += erased_keys[stream.key_id]
    return count
