"""A stand-alone verifier of goalpath's log proofs: stdlib and cryptography only.

An auditor who does not trust the operator of a goalpath store checks,
with this file alone and the log's public key:

- that a checkpoint (``goalpath audit checkpoint``) was signed by that key;
- that one event is in the log a checkpoint commits to (an inclusion proof,
  ``goalpath audit prove EVENT``);
- that a later checkpoint extends an earlier one, nothing before it changed
  (a consistency proof, ``goalpath audit consistency OLD NEW``).

The Merkle tree, its domain-separated hashes (``0x00`` before a leaf,
``0x01`` before two child hashes) and both verification algorithms follow
RFC 9162, section 2.1; checkpoints are C2SP signed notes (``tlog-checkpoint``
bodies, Ed25519 signatures). This module imports nothing of goalpath, so that
it can be copied out and run on its own::

    python proof_verifier.py inclusion proof.json --checkpoint cp.txt --public-key log.pub
    python proof_verifier.py consistency proof.json --old old.txt --new new.txt --public-key log.pub
    python proof_verifier.py export history.jsonl --public-key log.pub

Its errors derive from :class:`ProofError` rather than goalpath's
``GoalpathError`` for the same reason; goalpath catches them at its edge.

This module is over 500 lines because it must stand alone: the tree's
hashes, both RFC 9162 verification algorithms, the signed-note checkpoint
and key formats, the proof and export files and the command line are what
an auditor copies, and splitting them would make the copy several files
that must travel together.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ED25519",
    "EMPTY_ROOT",
    "SIGNATURE_PREFIX",
    "Checkpoint",
    "CheckpointSignatureError",
    "LogLeaf",
    "MalformedProofError",
    "ProofError",
    "ProofMismatchError",
    "VerifierKey",
    "check_consistency_document",
    "check_export_lines",
    "check_inclusion_document",
    "check_key_name",
    "key_id",
    "leaf_hash",
    "main",
    "node_hash",
    "open_checkpoint",
    "read_checkpoint_text",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

ED25519: Final = 0x01
"""The signed-note signature type of Ed25519."""

EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
"""The root hash of an empty log (RFC 9162: the hash of the empty string)."""

SIGNATURE_PREFIX: Final = "\u2014 "
"""A signed note's signature lines start with an em dash and a space."""

LEAF_FORMAT: Final = b"goalpath-leaf-v1"
"""Names the leaf encoding, so that a later one can never be read as this one."""


class ProofError(Exception):
    """A proof, checkpoint or key that does not verify; the message says which and why."""


class MalformedProofError(ProofError):
    """A proof, checkpoint or key file is not in the expected form."""


class CheckpointSignatureError(ProofError):
    """A checkpoint is not signed by the given key."""


class ProofMismatchError(ProofError):
    """A well-formed proof does not lead to the root hash it claims."""


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162's hash of one leaf: SHA-256 of ``0x00`` and the entry."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162's hash of an inner node: SHA-256 of ``0x01`` and its children's hashes."""
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class LogLeaf:
    """One stored record as the log sees it: where it is, and its chain hash.

    The chain hash is computed over the record's ciphertext (and its place
    and the previous hash of its stream), so the leaf holds no content and
    stays the same after its client's key is destroyed.
    """

    position: int
    stream_id: str
    version: int
    chain: bytes

    def entry(self) -> bytes:
        """The leaf's bytes: format name, position, stream id, version, chain hash."""
        return b"".join(
            (
                LEAF_FORMAT,
                self.position.to_bytes(8, "big"),
                uuid.UUID(self.stream_id).bytes,
                self.version.to_bytes(8, "big"),
                self.chain,
            )
        )

    def hash(self) -> bytes:
        """The leaf's hash in the tree."""
        return leaf_hash(self.entry())

    def document(self) -> dict[str, Any]:
        """The leaf as JSON values (the chain hash as hex)."""
        return {
            "position": self.position,
            "stream_id": self.stream_id,
            "version": self.version,
            "chain": self.chain.hex(),
        }

    @classmethod
    def from_document(cls, document: Any) -> LogLeaf:
        """Read a leaf written by :meth:`document`."""
        try:
            leaf = cls(
                position=int(document["position"]),
                stream_id=str(uuid.UUID(str(document["stream_id"]))),
                version=int(document["version"]),
                chain=bytes.fromhex(str(document["chain"])),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise MalformedProofError(
                f"the proof's leaf is not a goalpath leaf (position, stream_id, version, "
                f"chain as hex): {error}"
            ) from None
        if len(leaf.chain) != 32:  # a SHA-256 hash
            raise MalformedProofError("the proof's leaf chain hash is not 32 bytes")
        return leaf


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """The root hash an inclusion proof leads to (RFC 9162, 2.1.3.2), from a leaf hash.

    Raises:
        ProofMismatchError: the index is outside the tree, or the path is too
            long or too short for a tree of that size.
    """
    if index < 0 or index >= size:
        raise ProofMismatchError(f"leaf index {index} is outside a tree of {size} leaves")
    fn, sn = index, size - 1
    result = leaf
    for sibling in path:
        if sn == 0:
            raise ProofMismatchError("the inclusion proof has more hashes than the tree has levels")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofMismatchError("the inclusion proof has fewer hashes than the tree has levels")
    return result


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` (a leaf hash) is at ``index`` in the tree of ``size`` with ``root``.

    Raises:
        ProofMismatchError: the proof does not lead to ``root``.
    """
    if root_from_inclusion(index, size, leaf, path) != root:
        raise ProofMismatchError(
            f"the inclusion proof of leaf {index} does not lead to the root hash of the "
            f"tree of {size}: the event, its place or the proof was altered"
        )


def verify_consistency(  # noqa: PLR0912  # RFC 9162's algorithm, step by step
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """Check that the tree of ``first`` leaves is a prefix of that of ``second``.

    RFC 9162, section 2.1.4.2, step by step.

    Raises:
        ProofMismatchError: the proof does not join the two roots: the log
            was rewritten, rolled back or forked in between.
    """
    if first > second:
        raise ProofMismatchError(
            f"a tree of {second} leaves cannot extend one of {first}: the log shrank"
        )
    if first == second:
        if path or first_root != second_root:
            raise ProofMismatchError(
                f"the log of {second} records does not extend the checkpoint of {first}: "
                "records it committed to were changed, reordered or replaced (a rollback "
                "and regrowth, or a rewrite)"
            )
        return
    if first == 0:
        if path:
            raise ProofMismatchError("a consistency proof from the empty tree must be empty")
        return
    if not path:
        raise ProofMismatchError("the consistency proof is empty")
    hashes = list(path)
    if first & (first - 1) == 0:
        hashes.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = hashes[0]
    for sibling in hashes[1:]:
        if sn == 0:
            raise ProofMismatchError("the consistency proof has too many hashes")
        if fn & 1 or fn == sn:
            fr = node_hash(sibling, fr)
            sr = node_hash(sibling, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofMismatchError("the consistency proof has too few hashes")
    if fr != first_root or sr != second_root:
        raise ProofMismatchError(
            f"the log of {second} records does not extend the checkpoint of {first}: "
            "records it committed to were changed, removed, reordered or put back from an "
            "older copy"
        )


def key_id(name: str, public_key: bytes) -> bytes:
    """The signed-note key id: the first 4 bytes of SHA-256(name, newline, type, key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes((ED25519,)) + public_key).digest()[:4]


def check_key_name(name: str) -> str:
    """Return ``name`` if it can name a log key (non-empty, no spaces, no '+')."""
    if not name or any(character.isspace() or character == "+" for character in name):
        raise MalformedProofError(
            f"a log key name is non-empty and holds no spaces or '+'; got {name!r}"
        )
    return name


@dataclass(frozen=True)
class VerifierKey:
    """A log's public key, in the signed-note verifier key form ``name+id+base64``."""

    name: str
    public_key: bytes

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Read a verifier key line (``goalpath-log+1a2b3c4d+AcGl...``)."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:  # name, key id, key
            raise MalformedProofError(
                "a verifier key is one line 'name+keyid+base64key', as `goalpath audit keygen` "
                "writes it"
            )
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
            expected_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise MalformedProofError(
                "the verifier key's id or key is not hex and base64"
            ) from None
        if len(raw) != 33 or raw[0] != ED25519:  # type byte and 32-byte key
            raise MalformedProofError("the verifier key is not an Ed25519 key")
        key = cls(check_key_name(name), raw[1:])
        if key.key_id() != expected_id:
            raise MalformedProofError("the verifier key's id does not match its name and key")
        return key

    def key_id(self) -> bytes:
        """This key's 4-byte id."""
        return key_id(self.name, self.public_key)

    def text(self) -> str:
        """The key as one line of text."""
        encoded = base64.b64encode(bytes((ED25519,)) + self.public_key).decode()
        return f"{self.name}+{self.key_id().hex()}+{encoded}"


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint commits to: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        """The checkpoint's signed text (C2SP tlog-checkpoint): three lines."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def read_checkpoint_text(note: str) -> tuple[Checkpoint, str, list[str]]:
    """Split a checkpoint note into what it commits to, its signed text and its signature lines.

    The signatures are not checked here: :func:`open_checkpoint` does.

    Raises:
        MalformedProofError: the text is not a checkpoint note.
    """
    body, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise MalformedProofError("a checkpoint is its text, a blank line, then signature lines")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4:  # origin, size, root and the final newline
        raise MalformedProofError("a checkpoint's text holds an origin, a size and a root hash")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise MalformedProofError(f"a checkpoint's size is a whole number; got {size_text!r}")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise MalformedProofError("a checkpoint's root hash is base64") from None
    if len(root) != 32:  # SHA-256
        raise MalformedProofError("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin, int(size_text), root), body, signatures.splitlines()


def open_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """Read a signed checkpoint note and check that ``key`` signed it.

    Raises:
        MalformedProofError: the text is not a checkpoint note.
        CheckpointSignatureError: no valid signature by ``key`` is on it.
    """
    checkpoint, body, signatures = read_checkpoint_text(note)
    wanted = key.key_id()
    for line in signatures:
        if not line.startswith(SIGNATURE_PREFIX):
            raise MalformedProofError(f"not a signature line: {line!r}")
        name, _space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise MalformedProofError(f"signature of {name} is not base64") from None
        if name != key.name or raw[:4] != wanted:
            continue  # another signer's (a witness): not the key asked for
        try:
            Ed25519PublicKey.from_public_bytes(key.public_key).verify(raw[4:], body.encode())
        except InvalidSignature:
            raise CheckpointSignatureError(
                f"the checkpoint's signature by {key.name} does not verify: its text was "
                "altered after signing"
            ) from None
        return checkpoint
    raise CheckpointSignatureError(
        f"the checkpoint carries no signature by the key {key.name}+{wanted.hex()}"
    )


def _hashes(values: Any, what: str) -> list[bytes]:
    try:
        hashes = [bytes.fromhex(str(value)) for value in values]
    except (TypeError, ValueError):
        raise MalformedProofError(f"the {what} is a list of hex hashes") from None
    if any(len(value) != 32 for value in hashes):  # SHA-256
        raise MalformedProofError(f"every hash of the {what} is 32 bytes")
    return hashes


def check_inclusion_document(proof: Any, checkpoint: Checkpoint) -> LogLeaf:
    """Check an inclusion proof written by ``goalpath audit prove`` against a checkpoint.

    Returns:
        The leaf proved to be in the checkpoint's tree.
    """
    if not isinstance(proof, dict) or proof.get("type") != "inclusion":
        raise MalformedProofError("not an inclusion proof of `goalpath audit prove`")
    leaf = LogLeaf.from_document(proof.get("leaf"))
    try:
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
    except (KeyError, TypeError, ValueError):
        raise MalformedProofError("the proof holds leaf_index and tree_size numbers") from None
    if size != checkpoint.size:
        raise ProofMismatchError(
            f"the proof is for a tree of {size} records, the checkpoint for {checkpoint.size}: "
            "ask for a proof at the checkpoint (`goalpath audit prove EVENT --checkpoint FILE`)"
        )
    verify_inclusion(index, size, leaf.hash(), _hashes(proof.get("path"), "path"), checkpoint.root)
    return leaf


def check_consistency_document(proof: Any, old: Checkpoint, new: Checkpoint) -> None:
    """Check a consistency proof written by ``goalpath audit consistency`` between checkpoints."""
    if not isinstance(proof, dict) or proof.get("type") != "consistency":
        raise MalformedProofError("not a consistency proof of `goalpath audit consistency`")
    if old.origin != new.origin:
        raise ProofMismatchError(
            f"the checkpoints are of two logs ({old.origin!r} and {new.origin!r})"
        )
    if (proof.get("first_size"), proof.get("second_size")) != (old.size, new.size):
        raise ProofMismatchError(
            f"the proof joins sizes {proof.get('first_size')} and {proof.get('second_size')}, "
            f"the checkpoints are of sizes {old.size} and {new.size}"
        )
    verify_consistency(old.size, new.size, old.root, new.root, _hashes(proof.get("path"), "path"))


def check_export_lines(lines: Sequence[str], key: VerifierKey) -> Checkpoint:
    """Check a whole-store JSON Lines export of ``goalpath audit export --key`` on its own.

    Every row's leaf (position, stream id, version, chain hash) is put back
    into the tree; its root must be the one the export's last line, a
    checkpoint signed by ``key``, commits to.

    Raises:
        MalformedProofError: the export is not one, or does not end with a checkpoint.
        ProofMismatchError: its rows are not exactly the checkpoint's records.
    """
    if not lines:
        raise MalformedProofError("the export is empty")
    try:
        rows = [json.loads(line) for line in lines]
    except json.JSONDecodeError as error:
        raise MalformedProofError(f"the export is not JSON Lines: {error}") from None
    last = rows.pop()
    if not isinstance(last, dict) or not isinstance(last.get("checkpoint"), str):
        raise MalformedProofError(
            "the export does not end with a checkpoint: export with `--key` to have one"
        )
    checkpoint = open_checkpoint(last["checkpoint"], key)
    hashes = [LogLeaf.from_document(row).hash() for row in rows]
    if len(hashes) != checkpoint.size:
        raise ProofMismatchError(
            f"the export holds {len(hashes)} records, its checkpoint {checkpoint.size}: it is "
            "not a whole-store export, or rows were removed or added"
        )
    if _root(hashes) != checkpoint.root:
        raise ProofMismatchError(
            "the export's records do not make its checkpoint's root hash: a row's place or "
            "chain hash was altered, or rows were reordered"
        )
    return checkpoint


def _root(hashes: Sequence[bytes]) -> bytes:
    """RFC 9162's tree hash of a list of leaf hashes."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_root(hashes[:split]), _root(hashes[split:]))


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise MalformedProofError(f"cannot read {path}: {error}") from None


def _read_json(path: str) -> Any:
    try:
        return json.loads(_read(path))
    except json.JSONDecodeError as error:
        raise MalformedProofError(f"{path} is not JSON: {error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Check one proof from the command line; print the verdict; 0 if it holds, 1 if not."""
    parser = argparse.ArgumentParser(description="Check a goalpath inclusion or consistency proof.")
    commands = parser.add_subparsers(dest="command", required=True)
    inclusion = commands.add_parser("inclusion", help="an event is in a checkpoint's log")
    inclusion.add_argument("proof")
    inclusion.add_argument("--checkpoint", required=True)
    inclusion.add_argument("--public-key", required=True)
    consistency = commands.add_parser("consistency", help="a checkpoint extends an older one")
    consistency.add_argument("proof")
    consistency.add_argument("--old", required=True)
    consistency.add_argument("--new", required=True)
    consistency.add_argument("--public-key", required=True)
    export = commands.add_parser("export", help="a whole-store export is its checkpoint's log")
    export.add_argument("export")
    export.add_argument("--public-key", required=True)
    arguments = parser.parse_args(argv)
    try:
        key = VerifierKey.parse(_read(arguments.public_key))
        if arguments.command == "inclusion":
            checkpoint = open_checkpoint(_read(arguments.checkpoint), key)
            leaf = check_inclusion_document(_read_json(arguments.proof), checkpoint)
            print(  # noqa: T201  # the verdict is this tool's output
                f"verified: stream {leaf.stream_id} version {leaf.version} (position "
                f"{leaf.position}) is in {checkpoint.origin} at size {checkpoint.size}"
            )
        elif arguments.command == "export":
            checkpoint = check_export_lines(_read(arguments.export).splitlines(), key)
            print(  # noqa: T201  # the verdict is this tool's output
                f"verified: the export holds exactly the {checkpoint.size} records of "
                f"{checkpoint.origin} at that size"
            )
        else:
            old = open_checkpoint(_read(arguments.old), key)
            new = open_checkpoint(_read(arguments.new), key)
            check_consistency_document(_read_json(arguments.proof), old, new)
            print(  # noqa: T201  # the verdict is this tool's output
                f"verified: {new.origin} at size {new.size} extends size {old.size}"
            )
    except ProofError as error:
        print(f"NOT verified: {error}", file=sys.stderr)  # noqa: T201  # the verdict
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
