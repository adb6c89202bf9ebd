"""The Merkle log over a whole store: every stored record a leaf, in recording order.

Each record of the notification log (every event of every stream: goals,
episodes, erasure records, access records) is one leaf, ``(position, stream
id, version, chain hash)``; the tree over them is RFC 9162's. A signed
checkpoint of its size and root commits to the whole history up to it, so
an auditor who keeps checkpoints can tell a store that only grew from one
that was rolled back and regrown, spliced or reordered, which no check
inside the database can (:mod:`goalpath.core.storage.integrity`).

The tree is computed on demand from the stored records, not stored: one
pass over the records (each leaf hash and one inner hash per leaf), then
proofs from the levels kept in memory (about 64 bytes a leaf). Nothing new
is written, so an old store needs no migration and nothing can fall out of
step with the records. See docs/audit.md for the measured cost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from goalpath.core.errors import InvalidValueError
from goalpath.core.storage import fast_paths
from goalpath.core.storage.mapper import CHAIN
from goalpath.core.storage.proof_verifier import EMPTY_ROOT, LogLeaf, node_hash

__all__ = ["MerkleTree", "read_leaves"]

BATCH: Final = 1000


def read_leaves(
    recorder: ApplicationRecorder,
    *,
    stop: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[LogLeaf]:
    """Every stored record as a leaf, in recording order, up to position ``stop``.

    A record whose state is too short to hold a chain hash (an altered or
    foreign row) still becomes a leaf, with what its state holds there, so
    that the tree shows it changed.

    On SQLite (while the fast paths are on, see
    :mod:`goalpath.core.storage.fast_paths`) the leaves are read with one
    query that takes only the columns a leaf needs, in one snapshot: the
    library's notifications carry every record's whole state, which makes
    reading them ten times slower. Both give the same leaves (a test holds
    them equal).
    """
    if fast_paths.ENABLED and isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite_leaves(recorder, stop=stop, progress=progress)
    leaves: list[LogLeaf] = []
    position = 1
    while stop is None or position <= stop:
        batch = recorder.select_notifications(start=position, limit=BATCH, stop=stop)
        if not batch:
            break
        for record in batch:
            originator = record.originator_id
            stream = originator if isinstance(originator, UUID) else UUID(str(originator))
            chain = bytes(record.state[CHAIN]).ljust(32, b"\x00")
            leaves.append(LogLeaf(record.id, str(stream), record.originator_version, chain))
        position = batch[-1].id + 1
        if progress is not None:
            progress(len(leaves))
    return leaves


def _sqlite_leaves(
    recorder: SQLiteApplicationRecorder,
    *,
    stop: int | None,
    progress: Callable[[int], None] | None,
) -> list[LogLeaf]:
    statement = (
        f"SELECT rowid, originator_id, originator_version, "  # noqa: S608  # the library's table name
        f"substr(state, {CHAIN.start + 1}, {CHAIN.stop - CHAIN.start}) "
        f"FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
    )
    leaves: list[LogLeaf] = []
    with recorder.datastore.transaction(commit=False) as cursor:
        if stop is None:
            cursor.execute(recorder.select_max_notification_id_statement)
            stop = int(cursor.fetchone()[0] or 0)
        last = 0
        while True:
            cursor.execute(statement, (last, stop, BATCH))
            rows = cursor.fetchall()
            if not rows:
                break
            for position, stream, version, chain in rows:
                leaves.append(
                    LogLeaf(
                        position, _stream_text(stream), version, bytes(chain).ljust(32, b"\x00")
                    )
                )
            last = rows[-1][0]
            if progress is not None:
                progress(len(leaves))
    return leaves


def _stream_text(stored: str) -> str:
    """A stream id as the library stores it on SQLite (32 hex digits), in UUID form."""
    if len(stored) == 32 and stored.isalnum() and stored == stored.lower():
        return f"{stored[:8]}-{stored[8:12]}-{stored[12:16]}-{stored[16:20]}-{stored[20:]}"
    return str(UUID(stored))  # any other form the library reads (or refuses) as a UUID


class MerkleTree:
    """RFC 9162's Merkle tree over a list of leaf hashes, with its proofs.

    ``levels[h][i]`` is the hash of the perfect subtree of ``2**h`` leaves
    starting at leaf ``i * 2**h``: every subtree the RFC's recursion asks
    for is one of these or is split into them, so the root of any prefix,
    and every proof, costs O(log n) hashes once the levels are built.
    """

    def __init__(self, leaf_hashes: list[bytes]) -> None:
        self.levels: list[list[bytes]] = [leaf_hashes]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            self.levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )

    @classmethod
    def of_leaves(cls, leaves: list[LogLeaf]) -> MerkleTree:
        """The tree of some log leaves."""
        return cls([leaf.hash() for leaf in leaves])

    @property
    def size(self) -> int:
        """How many leaves the tree holds."""
        return len(self.levels[0])

    def _check_size(self, size: int) -> None:
        if size < 0 or size > self.size:
            raise InvalidValueError(
                f"the log holds {self.size} records; a tree of {size} cannot be computed from it"
            )

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]); ``start`` is aligned as the recursion leaves it."""
        count = end - start
        if count & (count - 1) == 0:
            height = count.bit_length() - 1
            return self.levels[height][start >> height]
        split = 1 << ((count - 1).bit_length() - 1)
        return node_hash(self._hash(start, start + split), self._hash(start + split, end))

    def root(self, size: int | None = None) -> bytes:
        """The root hash of the first ``size`` leaves (all, by default)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._hash(0, size)

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) of RFC 9162: the hashes that prove one leaf in a tree."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise InvalidValueError(f"leaf {index} is not in a tree of {size} records")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            split = 1 << ((end - start - 1).bit_length() - 1)
            if index < start + split:
                path.append(self._hash(start + split, end))
                end = start + split
            else:
                path.append(self._hash(start, start + split))
                start += split
        path.reverse()
        return path

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) of RFC 9162: the hashes that join two tree sizes."""
        second = self.size if second is None else second
        self._check_size(second)
        if not 0 <= first <= second:
            raise InvalidValueError(f"a tree of {second} records cannot extend one of {first}")
        if first in {0, second}:
            return []
        return self._subproof(first, 0, second, complete=True)

    def _subproof(self, first: int, start: int, end: int, *, complete: bool) -> list[bytes]:
        if first == end - start:
            return [] if complete else [self._hash(start, end)]
        split = 1 << ((end - start - 1).bit_length() - 1)
        if first <= split:
            return [
                *self._subproof(first, start, start + split, complete=complete),
                self._hash(start + split, end),
            ]
        return [
            *self._subproof(first - split, start + split, end, complete=False),
            self._hash(start, start + split),
        ]
