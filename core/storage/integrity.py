"""Verifying the tamper-evident hash chains of every stream in a store.

Verification reads the stored records only (never snapshots, never
aggregates), recomputes each record's keyed chain hash from its place, its
sealed content and the previous record's hash, and names the first stream
and version that does not match. It needs the master key but no client key,
so an erased client's streams still verify.

It also checks the key table against the log: every key a stream is
encrypted under has its row, every row its keyed hash (so a swapped client
lookup, or a key destroyed or put back outside goalpath, shows), every
destroyed key an erasure record and every erasure record a destroyed key.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Final, Literal
from uuid import UUID

import attrs
from eventsourcing.persistence import ApplicationRecorder, Notification
from eventsourcing.utils import get_topic

from goalpath.core.erasure import ClientErasure, erasure_id
from goalpath.core.errors import TamperedError
from goalpath.core.storage.keys import SYSTEM_KEY_ID, ClientKeyStore
from goalpath.core.storage.mapper import GENESIS, chain_hash, open_envelope
from goalpath.core.storage.sealed_recorders import (
    SealedState,
    StoreSeal,
    StreamHead,
    head_mac,
    seal_mac,
)

__all__ = [
    "ERASURE_TOPIC",
    "KEY_TABLE",
    "ChainProblem",
    "ProblemKind",
    "VerificationReport",
    "check_key_table",
    "verify_chains",
]

ProblemKind = Literal[
    "altered",
    "missing",
    "reordered",
    "deleted-notification",
    "truncated",
    "unsealed",
    "rolled-back",
    "inconsistent",
    "wrong-master-key",
    "key-missing",
    "key-altered",
    "erasure-unrecorded",
    "erasure-undone",
]
"""What went wrong: the first six from the chains, heads and seal; ``rolled-back`` and
``inconsistent`` against a checkpoint; the rest from the key table."""

ERASURE_TOPIC: Final = get_topic(ClientErasure.Recorded)
"""The topic of an erasure record: how verification finds them without reading their content."""
KEY_TABLE: Final = "key-table"
"""The ``stream_id`` of a problem found in the key table rather than in a stream."""

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
    if keys.master_key_problem is not None:
        problems.append(ChainProblem("store", 0, "wrong-master-key", keys.master_key_problem))
    erasure_records: set[str] = set()
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
            if record.topic == ERASURE_TOPIC:
                erasure_records.add(stream_name)
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
    problems.extend(check_key_table(keys, streams, erasure_records))
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


def check_key_table(
    keys: ClientKeyStore, streams: dict[str, _Stream], erasure_records: set[str]
) -> list[ChainProblem]:
    """Compare the key table with the log: rows, their keyed hashes, erasures and their records.

    ``streams`` are the streams read, with the key their first record is
    sealed under; ``erasure_records`` the ids of the erasure records' streams.
    """
    rows = keys.stored_rows()
    if rows is None:
        return []
    problems: list[ChainProblem] = []
    by_key = {row.key_id: row for row in rows}
    for row in rows:
        if not row.client_ref and row.seal is None:
            problems.append(
                ChainProblem(
                    KEY_TABLE, 0, "key-missing", f"the row of key {row.key_id} was deleted"
                )
            )
            continue
        if row.seal is None or not hmac.compare_digest(
            row.seal, keys.row_seal(row.key_id, row.client_ref, row.erased_on)
        ):
            problems.append(
                ChainProblem(
                    KEY_TABLE,
                    0,
                    "key-altered",
                    f"the row of key {row.key_id} was changed outside goalpath (its client "
                    "lookup swapped, its key destroyed or put back, or the row forged)",
                )
            )
        if row.destroyed and str(erasure_id(row.key_id)) not in erasure_records:
            problems.append(
                ChainProblem(
                    KEY_TABLE,
                    0,
                    "erasure-unrecorded",
                    f"key {row.key_id} is destroyed but no erasure record says who erased "
                    "the client, when and why: it was destroyed outside goalpath",
                )
            )
    for name, stream in sorted(streams.items()):
        if stream.key_id not in {None, SYSTEM_KEY_ID} and stream.key_id not in by_key:
            problems.append(
                ChainProblem(
                    name,
                    1,
                    "key-missing",
                    f"the stream is sealed under key {stream.key_id}, which has no row in "
                    "the key table: the row was deleted and the content cannot be read",
                )
            )
    erased_by_record = {str(erasure_id(row.key_id)): row for row in rows}
    for record in sorted(erasure_records):
        recorded = erased_by_record.get(record)
        if recorded is not None and not recorded.destroyed:
            problems.append(
                ChainProblem(
                    record,
                    1,
                    "erasure-undone",
                    f"the erasure record says key {recorded.key_id} was destroyed, but its row "
                    "holds a key: it was put back from a copy, or the erasure did not complete "
                    "(`goalpath client erase` again completes it)",
                )
            )
    return problems


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
