"""``goalpath audit keygen|checkpoint|prove|consistency``: the store's Merkle log for auditors.

Signed checkpoints of the log, and proofs that the stand-alone verifier
(:mod:`goalpath.core.storage.proof_verifier`) checks; ``audit verify
--checkpoint`` (in :mod:`goalpath.cli.audit_commands`) uses
:func:`checked_against_checkpoints`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs
import click

from goalpath.cli.common import emit, json_option, open_app, refusals
from goalpath.core.application.goalpath_app import GoalpathApp, engine_of
from goalpath.core.storage.checkpoints import (
    DEFAULT_ORIGIN,
    CheckpointError,
    SigningKey,
    check_checkpoints,
    read_checkpoint,
    read_signing_key,
    read_verifier_key,
    sign_checkpoint,
    write_private_text,
)
from goalpath.core.storage.integrity import VerificationReport
from goalpath.core.storage.merkle_log import MerkleTree, read_leaves
from goalpath.core.storage.proof_verifier import (
    Checkpoint,
    LogLeaf,
    ProofError,
    VerifierKey,
    read_checkpoint_text,
)

__all__ = ["CHECKPOINT_COMMANDS", "checked_against_checkpoints"]


def _store_log(app: GoalpathApp) -> tuple[list[LogLeaf], MerkleTree]:
    leaves = read_leaves(engine_of(app).recorder)
    return leaves, MerkleTree.of_leaves(leaves)


def _public_key(public_key: str | None) -> VerifierKey:
    if public_key is None:
        raise CheckpointError(
            "checking a checkpoint needs the log's public key: pass --public-key FILE (the "
            ".pub file `goalpath audit keygen` wrote) or set GOALPATH_LOG_PUBLIC_KEY"
        )
    return read_verifier_key(public_key)


def checked_against_checkpoints(
    app: Any, report: VerificationReport, checkpoints: Sequence[str], public_key: str | None
) -> VerificationReport:
    """``report`` with the problems of proving the store extends each checkpoint file."""
    key = _public_key(public_key)
    kept = [(path, read_checkpoint(path, key)) for path in checkpoints]
    _leaves, tree = _store_log(app)
    problems = check_checkpoints(tree, kept, key.name)
    return attrs.evolve(report, problems=(*report.problems, *problems))


def _write_output(text: str, output: str | None) -> None:
    if output is None:
        click.echo(text, nl=False)
    else:
        write_private_text(output, text)


@click.command("keygen")
@click.option(
    "--name",
    default=DEFAULT_ORIGIN,
    show_default=True,
    help="The log's name, the checkpoints' origin (for example example.org/practice-log).",
)
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the signing key (owner-only; never overwritten).",
)
@click.option(
    "--public-key",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the public key auditors check checkpoints with.",
)
@json_option
@refusals
def keygen(*, name: str, key_file: str, public_key: str, as_json: bool) -> None:
    """Make an Ed25519 key that signs checkpoints, kept outside the database.

    Keep the signing key where the database's operators cannot reach it;
    give the public key to auditors.
    """
    key = SigningKey.generate(name)
    write_private_text(key_file, key.text() + "\n", replace=False)
    write_private_text(public_key, key.verifier().text() + "\n", replace=False)
    if as_json:
        emit({"name": name, "public_key": key.verifier().text()})
    else:
        click.echo(f"signing key written to {key_file}; public key {key.verifier().text()}")


@click.command("checkpoint")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    envvar="GOALPATH_LOG_KEY",
    help="The signing key from `audit keygen` (or GOALPATH_LOG_KEY).",
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to a file, not stdout.")
@json_option
@click.pass_context
@refusals
def checkpoint(ctx: click.Context, /, *, key_file: str, output: str | None, as_json: bool) -> None:
    """Sign a checkpoint of the store's log: its name, its size and its root hash.

    The store is verified first: a checkpoint is never signed over a store
    that does not verify. Keep the checkpoint outside the store. With
    --json, stdout gets the checkpoint's parts and its signed note as JSON
    (the --output file always holds the note itself).
    """
    key = read_signing_key(key_file)
    with open_app(ctx) as app:
        _leaves, tree = _store_log(app)
        report = app.verify()
    if not report.ok:
        first = report.first_problem
        assert first is not None  # noqa: S101  # not ok means a problem was found
        raise CheckpointError(
            f"the store does not verify (stream {first.stream_id} version {first.version}: "
            f"{first.detail}); no checkpoint is signed over it"
        )
    taken = Checkpoint(key.name, tree.size, tree.root())
    signed = sign_checkpoint(taken, key)
    if output is not None:
        write_private_text(output, signed)
    if as_json:
        emit({"origin": taken.origin, "size": taken.size, "root": taken.root.hex(), "note": signed})
    elif output is None:
        click.echo(signed, nl=False)


def _leaf_index(leaves: Sequence[LogLeaf], event: str) -> int:
    stream, slash, version = event.partition("/")
    for index, leaf in enumerate(leaves):
        if slash:
            if leaf.stream_id == stream.lower() and str(leaf.version) == version:
                return index
        elif str(leaf.position) == event:
            return index
    raise CheckpointError(
        f"no stored record {event}: give a log position (3) or STREAM_ID/VERSION "
        "(6f1d2c1e-0000-4000-8000-000000000002/1), as `audit export` shows them"
    )


def _tree_size(tree: MerkleTree, checkpoint_file: str | None) -> int:
    if checkpoint_file is None:
        return tree.size
    try:
        with open(checkpoint_file, encoding="utf-8") as handle:  # noqa: PTH123
            kept, _body, _signatures = read_checkpoint_text(handle.read())
    except (OSError, ProofError) as error:
        raise CheckpointError(f"checkpoint {checkpoint_file}: {error}") from None
    if kept.size > tree.size or tree.root(kept.size) != kept.root:
        raise CheckpointError(
            f"the store does not extend checkpoint {checkpoint_file}: run `audit verify "
            "--checkpoint` to see why"
        )
    return kept.size


@click.command("prove")
@click.argument("event")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Prove against this checkpoint's tree (by default the store's whole log).",
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to a file, not stdout.")
@json_option
@click.pass_context
@refusals
def prove(
    ctx: click.Context,
    /,
    *,
    event: str,
    checkpoint_file: str | None,
    output: str | None,
    as_json: bool,
) -> None:
    """Print an inclusion proof of EVENT (a log position, or STREAM_ID/VERSION), as JSON.

    The stand-alone verifier (``python -m goalpath.core.storage.proof_verifier
    inclusion``, or that one file copied anywhere) checks it against a
    checkpoint and the log's public key. --json is accepted for uniformity:
    the proof is JSON already.
    """
    del as_json
    with open_app(ctx) as app:
        leaves, tree = _store_log(app)
    size = _tree_size(tree, checkpoint_file)
    index = _leaf_index(leaves[:size], event)
    document = {
        "type": "inclusion",
        "leaf": leaves[index].document(),
        "leaf_index": index,
        "tree_size": size,
        "path": [node.hex() for node in tree.inclusion_path(index, size)],
    }
    _write_output(json.dumps(document, indent=2) + "\n", output)


@click.command("consistency")
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False), required=False)
@click.option("--output", type=click.Path(dir_okay=False), help="Write to a file, not stdout.")
@json_option
@click.pass_context
@refusals
def consistency(
    ctx: click.Context, /, *, old: str, new: str | None, output: str | None, as_json: bool
) -> None:
    """Print a consistency proof that checkpoint NEW (or the whole log) extends OLD, as JSON.

    The stand-alone verifier (``python -m goalpath.core.storage.proof_verifier
    consistency``) checks it against both checkpoints and the public key.
    --json is accepted for uniformity: the proof is JSON already.
    """
    del as_json
    with open_app(ctx) as app:
        _leaves, tree = _store_log(app)
    first = _tree_size(tree, old)
    second = _tree_size(tree, new)
    document = {
        "type": "consistency",
        "first_size": first,
        "second_size": second,
        "path": [node.hex() for node in tree.consistency_proof(first, second)],
    }
    _write_output(json.dumps(document, indent=2) + "\n", output)


CHECKPOINT_COMMANDS = (keygen, checkpoint, prove, consistency)
"""The commands this module adds to ``goalpath audit``."""
