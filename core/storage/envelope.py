"""A sealed record's envelope, and the keyed hash chain over the envelopes of a stream.

A stored event's ``state`` is a sealed envelope::

    format (1 byte) | key id (16) | chain hash (32) | nonce (12) | AES-GCM ciphertext

The chain hash is HMAC-SHA256 (key derived from the master key) over the
record's place, key id, nonce and ciphertext, and the previous event's chain
hash in the same stream (:func:`chain_macs`, the one definition for sealing
and for verifying). The mapper (:mod:`goalpath.core.storage.mapper`) seals
and opens envelopes; verification (:mod:`goalpath.core.storage.integrity`)
recomputes the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Final
from uuid import UUID

import attrs
from eventsourcing.persistence import StoredEvent

from goalpath.core.errors import TamperedError

__all__ = [
    "CHAIN",
    "CIPHERTEXT",
    "ENVELOPE_FORMAT",
    "FORMAT_BYTE",
    "GENESIS",
    "HEADER_BYTES",
    "KEY_ID",
    "NONCE",
    "ChainKey",
    "Envelope",
    "chain_hash",
    "chain_mac",
    "chain_macs",
    "keyed_chain",
    "open_envelope",
    "place",
]

ENVELOPE_FORMAT: Final = 1
HEADER_BYTES: Final = 1 + 16 + 32 + 12
KEY_ID: Final = slice(1, 17)
"""Where the key id sits in a sealed state."""
CHAIN: Final = slice(17, 49)
"""Where the chain hash sits in a sealed state."""
NONCE: Final = slice(49, 61)
"""Where the AES-GCM nonce sits in a sealed state."""
CIPHERTEXT: Final = slice(HEADER_BYTES, None)
"""Where the ciphertext starts in a sealed state."""
FORMAT_BYTE: Final = bytes((ENVELOPE_FORMAT,))
GENESIS: Final = bytes(32)
"""The 'previous hash' of a stream's first event."""


@attrs.frozen
class Envelope:
    """The parts of a stored event's sealed state."""

    key_id: UUID
    chain: bytes
    nonce: bytes
    ciphertext: bytes


def open_envelope(stored: StoredEvent) -> Envelope:
    """Split a stored state into its parts; a malformed state is reported as tampered."""
    state = stored.state
    if len(state) < HEADER_BYTES + 16 or state[0] != ENVELOPE_FORMAT:
        raise TamperedError(
            f"stored record {stored.originator_id} version {stored.originator_version} is not "
            "a goalpath envelope: it was altered or written by something else"
        )
    return Envelope(
        key_id=UUID(bytes=bytes(state[KEY_ID])),
        chain=bytes(state[CHAIN]),
        nonce=bytes(state[NONCE]),
        ciphertext=bytes(state[CIPHERTEXT]),
    )


def place(originator_id: UUID | str, version: int, topic: str) -> bytes:
    """A record's place (stream, version, topic): its associated data, and part of its hash."""
    return f"{originator_id}|{version}|{topic}".encode()


def chain_hash(
    chain_key: bytes,
    *,
    originator_id: UUID | str,
    version: int,
    topic: str,
    envelope: Envelope,
    previous: bytes,
) -> bytes:
    """The keyed hash chaining one stored event to the previous one of its stream."""
    return chain_mac(
        keyed_chain(chain_key),
        place(originator_id, version, topic),
        envelope.key_id.bytes,
        envelope.nonce,
        envelope.ciphertext,
        previous,
    )


class ChainKey:
    """HMAC-SHA256 (RFC 2104) keyed for the chain, ready to hash many records.

    The key's inner and outer padded blocks are hashed once, here; each
    record's hash then copies those two SHA-256 states, which costs a third
    of copying a keyed :class:`hmac.HMAC`. The digest is exactly
    ``hmac.digest(key, message, "sha256")`` (a property test checks it).
    """

    __slots__ = ("inner", "outer")

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in block))
        self.outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in block))

    def digest(self, message: bytes) -> bytes:
        """The HMAC-SHA256 of ``message`` under this key."""
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def keyed_chain(chain_key: bytes) -> ChainKey:
    """HMAC-SHA256 keyed for the chain, to be given to :func:`chain_mac`."""
    return ChainKey(chain_key)


def chain_mac(  # noqa: PLR0917  # on the write path of every event; positional is faster
    keyed: ChainKey, place: bytes, key_id: bytes, nonce: bytes, ciphertext: bytes, previous: bytes
) -> bytes:
    """The chain hash of one record: :func:`chain_macs` of a run of one record.

    ``keyed`` (from :func:`keyed_chain`) is not changed, so one serves every
    record.
    """
    return chain_macs(keyed, (place,), key_id, (nonce,), (ciphertext,), previous)[0]


def chain_macs(  # noqa: PLR0917  # on the write path of every event; positional is faster
    keyed: ChainKey,
    places: Sequence[bytes],
    key_id: bytes,
    nonces: Sequence[bytes],
    ciphertexts: Sequence[bytes],
    previous: bytes,
) -> list[bytes]:
    """The chain hashes of a run of records of one key, each chained to the one before it.

    The one definition of a record's chain hash, for sealing and for
    verifying: HMAC-SHA256 under ``keyed`` of the place's length (4 bytes),
    the place, the key id, the nonce, the previous record's chain hash and
    the ciphertext. The first record of the run chains to ``previous``.
    Lengths are fixed but for place and ciphertext; the place's length
    prefix keeps the message unambiguous.
    """
    # ChainKey.digest, written out: this runs once per record.
    copy_inner, copy_outer, join = keyed.inner.copy, keyed.outer.copy, b"".join
    hashes: list[bytes] = []
    append = hashes.append
    for place, nonce, ciphertext in zip(places, nonces, ciphertexts, strict=True):
        inner = copy_inner()
        inner.update(
            join((len(place).to_bytes(4, "big"), place, key_id, nonce, previous, ciphertext))
        )
        outer = copy_outer()
        outer.update(inner.digest())
        previous = outer.digest()
        append(previous)
    return hashes
