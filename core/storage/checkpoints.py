"""Signed checkpoints of a store's Merkle log, and checking a store against them.

A checkpoint is a C2SP signed note: the log's origin, its size and its root
hash, signed with an Ed25519 key that lives outside the database (a key
file made by ``goalpath audit keygen``, kept by whoever publishes
checkpoints). An auditor keeps checkpoints anywhere (a witness, WORM
storage, their own files) with the public key, and later asks the store to
prove it still extends each of them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import attrs
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goalpath.core.errors import StoreError
from goalpath.core.storage.integrity import ChainProblem
from goalpath.core.storage.merkle_log import MerkleTree
from goalpath.core.storage.proof_verifier import (
    ED25519,
    SIGNATURE_PREFIX,
    Checkpoint,
    ProofError,
    ProofMismatchError,
    VerifierKey,
    check_key_name,
    open_checkpoint,
    verify_consistency,
)

__all__ = [
    "DEFAULT_ORIGIN",
    "CheckpointError",
    "SigningKey",
    "check_checkpoints",
    "read_checkpoint",
    "read_signing_key",
    "read_verifier_key",
    "sign_checkpoint",
    "write_private_text",
]

DEFAULT_ORIGIN: Final = "goalpath-log"
"""The key name, and so the checkpoints' origin, when ``keygen`` is given none."""

_PRIVATE_PREFIX: Final = "PRIVATE+KEY+"


class CheckpointError(StoreError):
    """A checkpoint, its key or a proof file is unusable; the message says why."""


def write_private_text(path: str | os.PathLike[str], text: str, *, replace: bool = True) -> None:
    """Write a text file readable by its owner only (0600), whatever the umask.

    Raises:
        CheckpointError: the file exists and ``replace`` is false, or it cannot be written.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CheckpointError(f"{path} exists already; it is never overwritten") from None
    except OSError as error:
        raise CheckpointError(f"cannot write {path}: {error}") from None
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)


@attrs.frozen(repr=False)
class SigningKey:
    """An Ed25519 key that signs checkpoints, named for the log it speaks for.

    Its text form is the signed-note signer key ``PRIVATE+KEY+name+id+base64``.
    """

    name: str
    seed: bytes = attrs.field(repr=False)

    def __repr__(self) -> str:
        return f"SigningKey({self.name!r}, <secret>)"

    @classmethod
    def generate(cls, name: str = DEFAULT_ORIGIN) -> SigningKey:
        """A new random key."""
        try:
            check_key_name(name)
        except ProofError as error:
            raise CheckpointError(str(error)) from None
        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes_raw())

    def verifier(self) -> VerifierKey:
        """The public half, to give to auditors."""
        public = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()
        return VerifierKey(self.name, public)

    def text(self) -> str:
        """The key as one line, as written to its file."""
        encoded = base64.b64encode(bytes((ED25519,)) + self.seed).decode()
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier().key_id().hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str, source: str) -> SigningKey:
        """Read a signer key line; ``source`` names where it came from, for errors."""
        line = text.strip()
        parts = line.removeprefix(_PRIVATE_PREFIX).split("+", 2)
        if not line.startswith(_PRIVATE_PREFIX) or len(parts) != 3:
            raise CheckpointError(
                f"{source} is not a checkpoint signing key (one line 'PRIVATE+KEY+name+id+key', "
                "as `goalpath audit keygen` writes it)"
            )
        name, hex_id, encoded = parts
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise CheckpointError(f"the signing key in {source} is not base64") from None
        if len(raw) != 33 or raw[0] != ED25519:  # type byte and 32-byte seed
            raise CheckpointError(f"the signing key in {source} is not an Ed25519 key")
        key = cls(name, raw[1:])
        if key.verifier().key_id().hex() != hex_id:
            raise CheckpointError(f"the signing key in {source} does not match its key id")
        return key

    def sign(self, message: bytes) -> bytes:
        """An Ed25519 signature of ``message``."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def sign_checkpoint(checkpoint: Checkpoint, key: SigningKey) -> str:
    """The checkpoint as a signed note: its three lines, a blank line, the signature line."""
    body = checkpoint.body()
    signature = key.verifier().key_id() + key.sign(body.encode())
    return f"{body}\n{SIGNATURE_PREFIX}{key.name} {base64.b64encode(signature).decode()}\n"


def _read_text(path: str | os.PathLike[str], what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise CheckpointError(f"cannot read the {what} {path}: {error}") from None


def read_verifier_key(path: str | os.PathLike[str]) -> VerifierKey:
    """Read a log's public key file (written by ``goalpath audit keygen``)."""
    try:
        return VerifierKey.parse(_read_text(path, "public key"))
    except ProofError as error:
        raise CheckpointError(f"{path}: {error}") from None


def read_signing_key(path: str | os.PathLike[str]) -> SigningKey:
    """Read a checkpoint signing key file (written by ``goalpath audit keygen``)."""
    return SigningKey.parse(_read_text(path, "signing key"), str(path))


def read_checkpoint(path: str | os.PathLike[str], key: VerifierKey) -> Checkpoint:
    """Read a checkpoint file and check its signature.

    Raises:
        CheckpointError: the file is not a checkpoint, or ``key`` did not sign it.
    """
    try:
        return open_checkpoint(_read_text(path, "checkpoint"), key)
    except ProofError as error:
        raise CheckpointError(f"checkpoint {path}: {error}") from None


def check_checkpoints(
    tree: MerkleTree, checkpoints: Sequence[tuple[str, Checkpoint]], origin: str
) -> list[ChainProblem]:
    """Prove that the store's log extends every checkpoint, by RFC 9162 consistency proofs.

    ``checkpoints`` pairs each checkpoint with a name for reports (its file).
    A checkpoint larger than the log shows a rollback or deletion; one whose
    consistency proof fails shows records changed, removed, reordered or put
    back from an older copy since it was taken.
    """
    problems: list[ChainProblem] = []
    current = tree.root()
    for name, checkpoint in checkpoints:
        if checkpoint.origin != origin:
            problems.append(
                ChainProblem(
                    "log",
                    checkpoint.size,
                    "inconsistent",
                    f"checkpoint {name} is of the log {checkpoint.origin!r}, not {origin!r}",
                )
            )
            continue
        if checkpoint.size > tree.size:
            problems.append(
                ChainProblem(
                    "log",
                    checkpoint.size,
                    "rolled-back",
                    f"checkpoint {name} was taken at {checkpoint.size} records but the store "
                    f"holds {tree.size}: it was rolled back or records were deleted",
                )
            )
            continue
        try:
            verify_consistency(
                checkpoint.size,
                tree.size,
                checkpoint.root,
                current,
                tree.consistency_proof(checkpoint.size),
            )
        except ProofMismatchError as error:
            problems.append(
                ChainProblem(
                    "log",
                    checkpoint.size,
                    "inconsistent",
                    f"checkpoint {name}: {error}",
                )
            )
    return problems
