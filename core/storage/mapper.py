"""The goalpath mapper: every stored event encrypted per client and chained by a keyed hash.

A stored event's ``state`` is a sealed envelope::

    format (1 byte) | key id (16) | chain hash (32) | nonce (12) | AES-GCM ciphertext

- the ciphertext holds the event's whole content (statements, values,
  notes, reasons, actors, dates), encrypted under its client's key, with the
  stream id, version and topic as associated data: a record copied or moved
  to another row fails to decrypt instead of reading as valid;
- the key id, not the client id, sits beside it, so stored rows do not name
  the client;
- the chain hash is HMAC-SHA256 (key derived from the master key) over the
  record's place, key id, nonce and ciphertext, and the previous event's
  chain hash in the same stream. It is computed over the ciphertext
  (encrypt-then-MAC), so verifying the chain needs no client key and an
  erased client's stream still verifies.

What stays readable in the store is only what the event store needs: ids,
versions, topics (and, for the in-memory store, nothing is persisted at all).
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final
from uuid import UUID

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import CanSnapshotAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    AggregateRecorder,
    Mapper,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from goalpath.core.errors import ClientErasedError, TamperedError
from goalpath.core.storage import fast_paths
from goalpath.core.storage.envelope import (
    CHAIN,
    CIPHERTEXT,
    ENVELOPE_FORMAT,
    FORMAT_BYTE,
    GENESIS,
    HEADER_BYTES,
    KEY_ID,
    NONCE,
    ChainKey,
    Envelope,
    chain_hash,
    chain_mac,
    chain_macs,
    keyed_chain,
    open_envelope,
    place,
)
from goalpath.core.storage.keys import SYSTEM_KEY_ID, ClientKeyStore, MasterKey

__all__ = [
    "CHAIN",
    "ENVELOPE_FORMAT",
    "GENESIS",
    "ChainKey",
    "Envelope",
    "GoalpathMapper",
    "chain_hash",
    "chain_mac",
    "keyed_chain",
    "open_envelope",
]
"""The envelope's names are defined in :mod:`goalpath.core.storage.envelope`; the mapper
re-exports them for the modules that read sealed states beside it."""

CACHE_STREAMS: Final = 20_000
"""How many streams' latest chain hash the mapper remembers."""

CACHE_CIPHERS: Final = 1_000
"""How many clients' ciphers the mapper keeps ready (the oldest made is dropped first).

Each AES-GCM cipher holds native memory (about 2.5 KB): keeping one per
client ever seen would make memory grow with the practice, not with the work.
"""


class _Nonces:
    """96-bit random nonces for AES-GCM, drawn from the OS in blocks (one system call per 512).

    A forked child must never use nonces its parent drew (both would seal
    different records under the same key and nonce): the pool belongs to the
    process that drew it, and a child draws its own.
    """

    BLOCK: Final = 512

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._offset = 0
        self._owner = os.getpid()

    def next(self) -> bytes:
        with self._lock:
            pid = os.getpid()
            if self._offset >= len(self._pool) or pid != self._owner:
                self._pool = secrets.token_bytes(12 * self.BLOCK)
                self._offset = 0
                self._owner = pid
            nonce = self._pool[self._offset : self._offset + 12]
            self._offset += 12
            return nonce


Encoder = Callable[[dict[str, Any], Callable[[Any], bytes]], bytes | None]
RunEncoder = Callable[[Sequence[Any]], list[bytes] | None]


@attrs.frozen
class _EventKind:
    """What sealing needs to know of an event class, looked up once per class."""

    topic: str
    fast: Encoder | None
    class_version: int
    is_snapshot: bool
    takes_event_fields: bool = False
    run: RunEncoder | None = None


_EVENT_KINDS: dict[tuple[type[Any], bool], _EventKind] = {}


def _event_kind(cls: type[Any]) -> _EventKind:
    known = _EVENT_KINDS.get((cls, fast_paths.ENABLED))
    if known is None:
        topic = get_topic(cls)
        encoders = fast_paths.FAST_ENCODERS if fast_paths.ENABLED else {}
        class_version = getattr(cls, "class_version", 1)
        takes_event_fields = class_version == 1 and topic in fast_paths.TAKES_EVENT_FIELDS
        run = fast_paths.RUN_ENCODERS.get(topic) if fast_paths.ENABLED else None
        known = _EventKind(
            topic,
            encoders.get(topic),
            class_version,
            is_snapshot=issubclass(cls, CanSnapshotAggregate),
            takes_event_fields=takes_event_fields,
            run=run if takes_event_fields else None,
        )
        _EVENT_KINDS[cls, fast_paths.ENABLED] = known
    return known


class GoalpathMapper(Mapper[UUID]):
    """Maps domain events to sealed stored events and back.

    The key of a stream is its client's: taken from the ``client_id`` of the
    stream's first event when it is written, and from the stored key id when
    read. ``recorder`` must be set before events are written (the
    application sets it), to find a stream's key and previous hash when they
    are not cached.
    """

    def __init__(self, transcoder: Transcoder, keys: ClientKeyStore, master: MasterKey) -> None:
        super().__init__(transcoder=transcoder)
        self.keys = keys
        self.chain_key = master.derive("hash-chain")
        self._chain_key = keyed_chain(self.chain_key)
        self.recorder: AggregateRecorder | None = None
        self._lock = threading.Lock()
        self._stream_keys: dict[UUID, UUID] = {}
        # Chain hashes of stored records, by stream; and, per thread, those of the save in
        # progress, published only once it is committed (a failed save must not leave a
        # hash that another thread's next record would chain to).
        self._heads: dict[UUID, tuple[int, bytes]] = {}
        self._in_flight = threading.local()
        self._ciphers: OrderedDict[UUID, AESGCM] = OrderedDict()
        self._key_ids: dict[bytes, UUID] = {}
        self._nonces = _Nonces()

    # -- caches ---------------------------------------------------------------

    @staticmethod
    def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
        # Plain dict assignment is atomic under the GIL; the bound keeps memory flat.
        if len(cache) >= CACHE_STREAMS and key not in cache:
            cache.clear()
        cache[key] = value

    def forget_key(self, key_id: UUID) -> None:
        """Drop a destroyed key's cipher."""
        with self._lock:
            self._ciphers.pop(key_id, None)

    def _cipher(self, key_id: UUID) -> AESGCM:
        with self._lock:
            cipher = self._ciphers.get(key_id)
        if cipher is None:
            cipher = AESGCM(self.keys.key(key_id))
            with self._lock:
                self._ciphers[key_id] = cipher
                while len(self._ciphers) > CACHE_CIPHERS:
                    self._ciphers.popitem(last=False)
        return cipher

    def _stored(self, stream: UUID, version: int) -> StoredEvent:
        if self.recorder is None:  # pragma: no cover - the application always sets it
            msg = "GoalpathMapper.recorder is not set"
            raise RuntimeError(msg)
        found = self.recorder.select_events(stream, gt=version - 1, lte=version)
        if not found:
            raise TamperedError(
                f"stream {stream} has no stored version {version}: an event was deleted"
            )
        return found[0]

    def check_not_erased(self, stream: UUID) -> None:
        """Refuse a stream whose client was erased, even if this process still holds its key.

        Another process may have destroyed the key after this one cached it:
        the key table, not the cache, decides.
        """
        key_id = self._stream_keys.get(stream)
        if key_id is None:
            try:
                key_id = open_envelope(self._stored(stream, 1)).key_id
            except TamperedError:
                return  # nothing stored yet: a new stream
        if key_id == SYSTEM_KEY_ID:
            return
        try:
            self.keys.check_not_erased(key_id)
        except ClientErasedError:
            self.forget_key(key_id)
            raise

    def refresh_erased(self, stored_events: Sequence[StoredEvent]) -> None:
        """Ask the key table, once per key in a batch, whether it was destroyed meanwhile.

        A key found erased is dropped from every cache, so its records read as erased.
        """
        key_ids = {bytes(stored.state[KEY_ID]) for stored in stored_events}
        for key_bytes in key_ids:
            key_id = self._key_ids.get(key_bytes) or UUID(bytes=key_bytes)
            if key_id == SYSTEM_KEY_ID or key_id not in self._ciphers:
                continue
            try:
                self.keys.check_not_erased(key_id)
            except ClientErasedError:
                self.forget_key(key_id)

    def _stream_key(self, stream: UUID, domain_event: DomainEventProtocol[UUID]) -> UUID:
        if getattr(type(domain_event), "goalpath_system_record", False):
            return SYSTEM_KEY_ID
        with self._lock:
            known = self._stream_keys.get(stream)
        if known is not None:
            return known
        client_id = getattr(domain_event, "client_id", None)
        if domain_event.originator_version == 1 and isinstance(client_id, str):
            key_id = self.keys.key_for_client(client_id)
        else:
            key_id = open_envelope(self._stored(stream, 1)).key_id
        self._remember(self._stream_keys, stream, key_id)
        return key_id

    def _pending(self) -> dict[UUID, tuple[int, bytes]]:
        pending: dict[UUID, tuple[int, bytes]] | None = getattr(self._in_flight, "heads", None)
        if pending is None:
            pending = {}
            self._in_flight.heads = pending
        return pending

    def begin_save(self) -> None:
        """Start sealing a save: forget hashes of any earlier save of this thread not committed."""
        self._pending().clear()

    def commit_save(self) -> None:
        """The save was stored: its records' hashes may now be chained to by anyone."""
        pending = self._pending()
        for stream, head in pending.items():
            self._remember(self._heads, stream, head)
        pending.clear()

    def discard_save(self) -> None:
        """The save failed: its records' hashes are dropped.

        The heads already known stay: they come only from stored records
        (read back, or of committed saves), which never change.
        """
        self._pending().clear()

    def _previous_hash(self, stream: UUID, version: int) -> bytes:
        if version == 1:
            return GENESIS
        head = self._pending().get(stream) or self._heads.get(stream)
        if head is not None and head[0] == version - 1:
            return head[1]
        return open_envelope(self._stored(stream, version - 1)).chain

    # -- the mapper -------------------------------------------------------------

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Seal a domain event: encrypt its content and chain it to its stream."""
        stream, version, topic, state = self.seal_rows([domain_event])[0]
        return StoredEvent(
            originator_id=stream, originator_version=version, topic=topic, state=state
        )

    def seal_rows(
        self, domain_events: Sequence[DomainEventProtocol[UUID]]
    ) -> list[tuple[UUID, int, str, bytes]]:
        """Seal many events at once: ``(stream id, version, topic, sealed state)`` for each.

        The same records as :meth:`to_stored_event` makes one at a time, with
        the nonces drawn from the OS in one call and the per-stream and
        per-class work done once per run of one stream's events of one class
        (:meth:`_seal_run`).
        """
        count = len(domain_events)
        if not count:
            return []
        nonces = self._nonces.next() if count == 1 else secrets.token_bytes(12 * count)
        rows: list[tuple[UUID, int, str, bytes]] = []
        pending = self._pending()
        start = 0
        while start < count:
            first = domain_events[start]
            cls = type(first)
            stream = first.originator_id
            end = start + 1
            while (
                end < count
                and type(domain_events[end]) is cls
                and domain_events[end].originator_id is stream
            ):
                end += 1
            self._seal_run(domain_events[start:end], nonces[start * 12 : end * 12], pending, rows)
            start = end
        return rows

    def _seal_run(
        self,
        run: Sequence[DomainEventProtocol[UUID]],
        nonces: bytes,
        pending: dict[UUID, tuple[int, bytes]],
        rows: list[tuple[UUID, int, str, bytes]],
    ) -> None:
        """Seal events of one class and one stream, appending their rows to ``rows``.

        The stream's key, cipher and previous chain hash, and the class's
        topic and encoder, are looked up once; within a run of consecutive
        versions each record chains to the one sealed just before it.
        """
        first = run[0]
        kind = _event_kind(type(first))
        stream = first.originator_id
        key_id = self._stream_key(stream, first)
        if kind.run is not None and self._seal_consecutive(run, kind, key_id, nonces, rows):
            return  # the fast path for an import's run: the loop below does the same per event
        encrypt = (self._ciphers.get(key_id) or self._cipher(key_id)).encrypt
        key_bytes = key_id.bytes
        keyed = self._chain_key
        encode = self.transcoder.encode
        append, join = rows.append, b"".join
        fast, topic, class_version = kind.fast, kind.topic, kind.class_version
        is_snapshot = kind.is_snapshot
        prefix, suffix = f"{stream}|", f"|{topic}"
        last_version = 0
        previous = GENESIS
        direct = fast if kind.takes_event_fields else None
        for index, domain_event in enumerate(run):
            fields = vars(domain_event)
            version = fields["originator_version"]
            plaintext = direct and direct(fields, encode)
            if not plaintext:
                event_state = dict(fields)
                del event_state["originator_id"], event_state["originator_version"]
                if class_version > 1:
                    event_state["class_version"] = class_version
                plaintext = (fast and fast(event_state, encode)) or encode(event_state)
            nonce = nonces[index * 12 : index * 12 + 12]
            place = f"{prefix}{version}{suffix}".encode()
            ciphertext = encrypt(nonce, plaintext, place)
            if is_snapshot:
                chained = chain_mac(keyed, place, key_bytes, nonce, ciphertext, GENESIS)
            else:
                if version != last_version + 1 or not last_version:
                    if last_version:  # versions out of sequence: chain as the store says
                        pending[stream] = (last_version, previous)
                    previous = self._previous_hash(stream, version)
                chained = previous = chain_mac(keyed, place, key_bytes, nonce, ciphertext, previous)
                last_version = version
            append(
                (
                    stream,
                    version,
                    topic,
                    join((FORMAT_BYTE, key_bytes, chained, nonce, ciphertext)),
                )
            )
        if last_version:
            pending[stream] = (last_version, previous)

    def _seal_consecutive(
        self,
        run: Sequence[DomainEventProtocol[UUID]],
        kind: _EventKind,
        key_id: UUID,
        nonces: bytes,
        rows: list[tuple[UUID, int, str, bytes]],
    ) -> bool:
        """Seal a run of consecutive versions a step at a time; ``False`` (nothing done) if not.

        The records :meth:`_seal_run` makes one by one: all the plaintexts
        written at once (``kind.run``), then all the ciphertexts, then the
        chain over them. A run whose versions do not follow one another, or
        that the run's writer declines, is left to :meth:`_seal_run`.
        """
        assert kind.run is not None  # noqa: S101  # the caller checked
        first = run[0].originator_version
        versions = [domain_event.originator_version for domain_event in run]
        if versions != list(range(first, first + len(versions))):
            return False
        plaintexts = kind.run(run)
        if plaintexts is None:
            return False
        stream, topic = run[0].originator_id, kind.topic
        prefix, suffix = f"{stream}|", f"|{topic}"
        places = [f"{prefix}{version}{suffix}".encode() for version in versions]
        nonce_list = [nonces[start : start + 12] for start in range(0, len(nonces), 12)]
        cipher = self._ciphers.get(key_id) or self._cipher(key_id)
        ciphertexts = list(map(cipher.encrypt, nonce_list, plaintexts, places))
        key_bytes = key_id.bytes
        hashes = chain_macs(
            self._chain_key,
            places,
            key_bytes,
            nonce_list,
            ciphertexts,
            self._previous_hash(stream, first),
        )
        self._pending()[stream] = (versions[-1], hashes[-1])  # published once stored
        join = b"".join
        rows.extend(
            [
                (stream, version, topic, join((FORMAT_BYTE, key_bytes, chained, nonce, ciphertext)))
                for version, chained, nonce, ciphertext in zip(
                    versions, hashes, nonce_list, ciphertexts, strict=True
                )
            ]
        )
        return True

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Open a sealed stored event; raises ClientErasedError or TamperedError."""
        state = stored_event.state
        if len(state) < HEADER_BYTES + 16 or state[0] != ENVELOPE_FORMAT:
            open_envelope(stored_event)  # raises the TamperedError that explains it
        key_bytes = bytes(state[KEY_ID])
        key_id = self._key_ids.get(key_bytes)
        if key_id is None:
            key_id = UUID(bytes=key_bytes)
            self._remember(self._key_ids, key_bytes, key_id)
        stream = stored_event.originator_id
        version = stored_event.originator_version
        cipher = self._ciphers.get(key_id) or self._cipher(key_id)
        try:
            plaintext = cipher.decrypt(
                state[NONCE], state[CIPHERTEXT], place(stream, version, stored_event.topic)
            )
        except InvalidTag:
            raise TamperedError(
                f"stored record {stream} version {version} does not authenticate: it was "
                "altered, moved from another row, or forged"
            ) from None
        cls = resolve_topic(stored_event.topic)
        event_state: dict[str, Any] = self.transcoder.decode(plaintext)
        stream_id = stream if isinstance(stream, UUID) else UUID(str(stream))
        if stream_id not in self._stream_keys:
            self._remember(self._stream_keys, stream_id, key_id)
        if not issubclass(cls, CanSnapshotAggregate):
            self._remember(self._heads, stream_id, (version, bytes(state[CHAIN])))
        event_state["originator_id"] = stream_id
        event_state["originator_version"] = version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return domain_event  # type: ignore[no-any-return]
