"""The stand-alone proof verifier: goalpath's proofs check with that one file and the public key.

It must import only the standard library and cryptography, so an auditor
can copy it out; it checks inclusion and consistency proofs made by
``goalpath audit prove`` and ``goalpath audit consistency``, and refuses a
proof of an altered event. The tree algorithms are checked against RFC
9162's definitions written out naively, and against the worked example of
C2SP's merkle-tree specification.
"""

from __future__ import annotations

import ast
import hashlib
import json
import shlex
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from goalpath.core import GoalpathApp
from goalpath.core.storage import proof_verifier
from goalpath.core.storage.merkle_log import MerkleTree
from goalpath.core.storage.proof_verifier import (
    EMPTY_ROOT,
    ProofMismatchError,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.core.history_support import (
    TODAY,
    LogKeys,
    add_client,
    checkpoint,
    invoke,
    make_keys,
    measure,
)
from tests.core.test_audit_doc import DOC, doc_commands

VERIFIER = Path(proof_verifier.__file__)


def test_the_verifier_imports_only_the_standard_library_and_cryptography() -> None:
    tree = ast.parse(VERIFIER.read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports: the file must run on its own"
            imported.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"cryptography", "__future__"}
    assert imported <= allowed, imported - allowed
    assert "goalpath" not in imported


# -- RFC 9162's definitions, written out as the RFC states them ---------------------------


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(entries: list[bytes]) -> bytes:
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return leaf_hash(entries[0])
    k = _split(len(entries))
    return node_hash(_mth(entries[:k]), _mth(entries[k:]))


def _path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = _split(len(entries))
    if m < k:
        return [*_path(m, entries[:k]), _mth(entries[k:])]
    return [*_path(m - k, entries[k:]), _mth(entries[:k])]


def _subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if complete else [_mth(entries)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, entries[:k], complete), _mth(entries[k:])]
    return [*_subproof(m - k, entries[k:], False), _mth(entries[:k])]  # noqa: FBT003


@settings(max_examples=60, deadline=None)
@given(size=st.integers(0, 70), data=st.data())
def test_the_tree_and_its_proofs_are_rfc_9162s(size: int, data: st.DataObject) -> None:
    """Law: roots, inclusion paths and consistency proofs equal the RFC's recursive definitions,
    and each proof verifies; a proof against a wrong root does not."""
    entries = [index.to_bytes(4, "big") for index in range(size)]
    tree = MerkleTree([leaf_hash(entry) for entry in entries])
    assert tree.root() == _mth(entries)
    assert MerkleTree([]).root() == EMPTY_ROOT
    if size == 0:
        return
    index = data.draw(st.integers(0, size - 1))
    path = tree.inclusion_path(index)
    assert path == _path(index, entries)
    verify_inclusion(index, size, leaf_hash(entries[index]), path, tree.root())
    with pytest.raises(ProofMismatchError):
        verify_inclusion(index, size, leaf_hash(b"another"), path, tree.root())
    first = data.draw(st.integers(1, size))
    proof = tree.consistency_proof(first)
    assert proof == (_subproof(first, entries, True) if first < size else [])  # noqa: FBT003
    verify_consistency(first, size, tree.root(first), tree.root(), proof)
    if first < size:
        with pytest.raises(ProofMismatchError):
            verify_consistency(first, size, _mth([b"x", *entries[1:first]]), tree.root(), proof)


def test_the_worked_example_of_the_c2sp_specification() -> None:
    """Seven leaves: the proofs the specification lists, by the names it gives the nodes."""
    entries = [bytes([index]) for index in range(7)]
    a, b, c, d, e, f, g = (leaf_hash(entry) for entry in entries)
    h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l = node_hash(h, i), node_hash(j, g)  # noqa: E741  # the specification's name
    tree = MerkleTree([a, b, c, d, e, f, g])
    assert tree.root() == node_hash(k, l)
    assert tree.inclusion_path(0) == [b, i, l]
    assert tree.inclusion_path(3) == [c, h, l]
    assert tree.inclusion_path(4) == [f, g, k]
    assert tree.inclusion_path(6) == [j, k]
    assert tree.consistency_proof(3) == [c, d, h, l]
    assert tree.consistency_proof(4) == [l]
    assert tree.consistency_proof(6) == [j, g, k]


# -- goalpath's proofs, checked by the verifier alone --------------------------------------


@pytest.fixture
def audited(tmp_path: Path) -> tuple[Path, LogKeys, Path, Path]:
    """A store with two checkpoints, a verifier copied out of goalpath, and the keys."""
    db = tmp_path / "proofs.db"
    keys = make_keys(tmp_path)
    with GoalpathApp(db, today=lambda: TODAY) as app:
        goal = add_client(app, "client-1")
        old = checkpoint(db, keys, tmp_path / "old.txt")
        measure(app, goal, 1)
        add_client(app, "client-2")
    new = checkpoint(db, keys, tmp_path / "new.txt")
    return db, keys, old, new


def _run_verifier(folder: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run a copy of the verifier, outside goalpath's package, as an auditor would."""
    copy = folder / "proof_verifier.py"
    if not copy.exists():
        shutil.copy(VERIFIER, copy)
    return subprocess.run(  # the test's own interpreter and file
        [sys.executable, "-I", str(copy), *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )


def test_an_inclusion_proof_made_by_goalpath_verifies(
    tmp_path: Path, audited: tuple[Path, LogKeys, Path, Path]
) -> None:
    db, keys, _old, new = audited
    proof = tmp_path / "proof.json"
    made = invoke(
        "--db", str(db), "audit", "prove", "4", "--checkpoint", str(new), "--output", str(proof)
    )
    assert made.exit_code == 0, made.output
    checked = _run_verifier(
        tmp_path,
        "inclusion",
        str(proof),
        "--checkpoint",
        str(new),
        "--public-key",
        str(keys.public),
    )
    assert checked.returncode == 0, checked.stderr
    assert "position 4" in checked.stdout
    document = json.loads(proof.read_text(encoding="utf-8"))
    by_stream = invoke(
        "--db",
        str(db),
        "audit",
        "prove",
        f"{document['leaf']['stream_id']}/{document['leaf']['version']}",
        "--checkpoint",
        str(new),
    )
    assert json.loads(by_stream.stdout) == document


def test_a_consistency_proof_made_by_goalpath_verifies(
    tmp_path: Path, audited: tuple[Path, LogKeys, Path, Path]
) -> None:
    db, keys, old, new = audited
    proof = tmp_path / "consistency.json"
    made = invoke(
        "--db", str(db), "audit", "consistency", str(old), str(new), "--output", str(proof)
    )
    assert made.exit_code == 0, made.output
    arguments = ["--old", str(old), "--new", str(new), "--public-key", str(keys.public)]
    checked = _run_verifier(tmp_path, "consistency", str(proof), *arguments)
    assert checked.returncode == 0, checked.stderr
    swapped = _run_verifier(
        tmp_path,
        "consistency",
        str(proof),
        "--old",
        str(new),
        "--new",
        str(old),
        "--public-key",
        str(keys.public),
    )
    assert swapped.returncode == 1


@pytest.mark.parametrize("field", ["chain", "version", "position", "stream_id"])
def test_a_proof_for_an_altered_event_is_refused(
    tmp_path: Path, audited: tuple[Path, LogKeys, Path, Path], field: str
) -> None:
    db, keys, _old, new = audited
    proof = tmp_path / "proof.json"
    invoke("--db", str(db), "audit", "prove", "3", "--checkpoint", str(new), "--output", str(proof))
    document = json.loads(proof.read_text(encoding="utf-8"))
    leaf = document["leaf"]
    if field == "chain":
        leaf["chain"] = ("0" if leaf["chain"][0] != "0" else "1") + leaf["chain"][1:]
    elif field == "stream_id":
        leaf["stream_id"] = "6f1d2c1e-0000-4000-8000-000000000009"
    else:
        leaf[field] += 1
    proof.write_text(json.dumps(document), encoding="utf-8")
    checked = _run_verifier(
        tmp_path,
        "inclusion",
        str(proof),
        "--checkpoint",
        str(new),
        "--public-key",
        str(keys.public),
    )
    assert checked.returncode == 1
    assert "NOT verified" in checked.stderr


def test_an_event_altered_in_the_store_cannot_be_proved_in_an_earlier_checkpoint(
    tmp_path: Path, audited: tuple[Path, LogKeys, Path, Path]
) -> None:
    db, keys, _old, new = audited
    with sqlite3.connect(db) as connection:
        (state,) = connection.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()
        altered = bytearray(state)
        altered[20] ^= 0x01  # a byte of its chain hash
        connection.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (bytes(altered),))
    refused = invoke("--db", str(db), "audit", "prove", "3", "--checkpoint", str(new))
    assert refused.exit_code == 1
    assert "does not extend checkpoint" in refused.stderr
    current = tmp_path / "current.json"
    invoke("--db", str(db), "audit", "prove", "3", "--output", str(current))
    checked = _run_verifier(
        tmp_path,
        "inclusion",
        str(current),
        "--checkpoint",
        str(new),
        "--public-key",
        str(keys.public),
    )
    assert checked.returncode == 1


def test_the_verifier_refuses_a_checkpoint_signed_by_another_key(
    tmp_path: Path, audited: tuple[Path, LogKeys, Path, Path]
) -> None:
    db, _keys, _old, new = audited
    (tmp_path / "other").mkdir()
    other = make_keys(tmp_path / "other", name="example.org/practice-log")
    proof = tmp_path / "proof.json"
    invoke("--db", str(db), "audit", "prove", "1", "--checkpoint", str(new), "--output", str(proof))
    checked = _run_verifier(
        tmp_path,
        "inclusion",
        str(proof),
        "--checkpoint",
        str(new),
        "--public-key",
        str(other.public),
    )
    assert checked.returncode == 1
    assert "no signature by the key" in checked.stderr


def test_the_verifier_commands_of_the_audit_doc_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/audit.md's ``$ python -m goalpath.core.storage.proof_verifier`` lines verify."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GOALPATH_KEY", raising=False)
    monkeypatch.delenv("GOALPATH_KEY_FILE", raising=False)
    for words, expected in doc_commands():
        assert invoke(*words).exit_code == expected, words
    prefix = "$ python -m goalpath.core.storage.proof_verifier "
    lines = [
        line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(prefix)
    ]
    assert len(lines) == 3  # inclusion, consistency and an export
    for line in lines:
        assert proof_verifier.main(shlex.split(line.removeprefix(prefix))) == 0, line
