"""Signed checkpoints: a store proves it extends every checkpoint an auditor kept.

The tampers here are those that pass ``audit verify`` without a checkpoint
(they keep every chain, head and seal consistent): a rollback followed by as
many new records, a splice that removes a client's streams and puts back an
older seal, and two records of different streams swapping places. Each is
reported by ``audit verify --checkpoint`` against a checkpoint taken before.
"""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql

from goalpath.core import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.storage import fast_paths
from goalpath.core.storage.checkpoints import SigningKey, check_checkpoints, sign_checkpoint
from goalpath.core.storage.merkle_log import MerkleTree, read_leaves
from goalpath.core.storage.proof_verifier import Checkpoint, open_checkpoint
from tests.core.history_support import (
    SUPERVISOR,
    TODAY,
    LogKeys,
    add_client,
    checkpoint,
    execute,
    invoke,
    make_keys,
    measure,
    verify,
)
from tests.postgres_support import PostgresTenant, postgres_tenant


def _backup(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (what a backup tool makes), with its key file."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
    shutil.copy2(f"{source}.key", f"{target}.key")


def _restore(backup: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with sqlite3.connect(backup) as copy, sqlite3.connect(target) as restored:
        copy.backup(restored)


def _kinds(report: dict[str, object]) -> set[str]:
    problems = report["problems"]
    assert isinstance(problems, list)
    return {problem["kind"] for problem in problems}


@pytest.fixture
def keys(tmp_path: Path) -> LogKeys:
    return make_keys(tmp_path)


def test_a_store_that_only_grew_extends_its_checkpoints(tmp_path: Path, keys: LogKeys) -> None:
    db = tmp_path / "grow.db"
    taken = []
    with GoalpathApp(db, today=lambda: TODAY) as app:
        goal = add_client(app, "client-1")
        taken.append(checkpoint(db, keys, tmp_path / "cp1.txt"))
        measure(app, goal, 1)
        taken.append(checkpoint(db, keys, tmp_path / "cp2.txt"))
        add_client(app, "client-2")
    code, report, _stderr = verify(db, keys, *taken)
    assert code == 0, report["problems"]
    assert report["ok"] is True


def test_an_erasure_keeps_every_earlier_checkpoint(tmp_path: Path, keys: LogKeys) -> None:
    """Leaves are over ciphertext: destroying a client's key changes none of them."""
    db = tmp_path / "erased.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
        add_client(app, "client-2")
        kept = checkpoint(db, keys, tmp_path / "before.txt")
        app.erase_client("client-1", reason="request 3", actor=SUPERVISOR)
    code, report, _stderr = verify(db, keys, kept)
    assert code == 0, report["problems"]
    assert report["erased_streams"] == 2  # the episode and the goal


def test_checking_a_checkpoint_needs_the_public_key(tmp_path: Path, keys: LogKeys) -> None:
    db = tmp_path / "nokey.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
    kept = checkpoint(db, keys, tmp_path / "cp.txt")
    result = invoke("--db", str(db), "audit", "verify", "--checkpoint", str(kept))
    assert result.exit_code == 1
    assert "needs the log's public key" in result.stderr


def test_rollback_then_regrowth_is_detected(tmp_path: Path, keys: LogKeys) -> None:
    """The old anchor, a record count, passes; the checkpoint does not."""
    db = tmp_path / "rollback.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        goal = add_client(app, "client-1")
    _backup(db, tmp_path / "backup.db")
    with GoalpathApp(db, today=lambda: TODAY) as app:
        for week in range(3):
            measure(app, goal, 2, week)
        records = app.verify().records_checked
    kept = checkpoint(db, keys, tmp_path / "before.txt")
    _restore(tmp_path / "backup.db", db)
    with GoalpathApp(db, today=lambda: TODAY) as app:
        for week in range(3):
            measure(app, goal, 1.5, week)  # as many records as were lost, different ones
        assert app.verify().ok
        assert app.verify().records_checked == records
    code, report, stderr = verify(db, keys, kept)
    assert code == 1
    assert _kinds(report) == {"inconsistent"}
    assert "does not extend the checkpoint" in stderr


def test_the_stale_seal_splice_is_detected(tmp_path: Path, keys: LogKeys) -> None:
    """Delete a client's old streams, renumber the positions, put back an older seal."""
    db = tmp_path / "splice.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-old")
        spliced = app.verify().records_checked
        old_streams = sorted({leaf.stream_id for leaf in read_leaves(engine_of(app).recorder)})
    with sqlite3.connect(db) as connection:
        stale_seal = connection.execute(
            "SELECT records, last_position, mac FROM goalpath_seal"
        ).fetchone()
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-new")  # the same number of records as client-old's
    kept = checkpoint(db, keys, tmp_path / "before.txt")
    hexes = sorted({stream.replace("-", "") for stream in old_streams})
    marks = ",".join("?" * len(hexes))
    execute(
        db,
        (f"DELETE FROM stored_events WHERE originator_id IN ({marks})", tuple(hexes)),  # noqa: S608
        (f"DELETE FROM goalpath_stream_heads WHERE stream_id IN ({marks})", tuple(old_streams)),  # noqa: S608
        ("UPDATE stored_events SET rowid = rowid - ?", (spliced,)),
        ("UPDATE goalpath_seal SET records = ?, last_position = ?, mac = ?", stale_seal),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        assert app.verify().ok  # every check inside the database passes
    code, report, _stderr = verify(db, keys, kept)
    assert code == 1
    assert _kinds(report) == {"rolled-back"}
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-regrown")  # and grown back to the checkpoint's size
    code, report, _stderr = verify(db, keys, kept)
    assert code == 1
    assert _kinds(report) == {"inconsistent"}


def test_two_streams_swapping_positions_is_detected(tmp_path: Path, keys: LogKeys) -> None:
    db = tmp_path / "swap.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
        leaves = read_leaves(engine_of(app).recorder)
    kept = checkpoint(db, keys, tmp_path / "before.txt")
    first, second = next(
        (a, b) for a, b in itertools.pairwise(leaves) if a.stream_id != b.stream_id
    )
    execute(
        db,
        ("UPDATE stored_events SET rowid = -1 WHERE rowid = ?", (first.position,)),
        ("UPDATE stored_events SET rowid = ? WHERE rowid = ?", (first.position, second.position)),
        ("UPDATE stored_events SET rowid = ? WHERE rowid = -1", (second.position,)),
    )
    with GoalpathApp(db, today=lambda: TODAY) as app:
        assert app.verify().ok  # each stream's own order is intact
    code, report, _stderr = verify(db, keys, kept)
    assert code == 1
    assert _kinds(report) == {"inconsistent"}


def test_the_fast_read_of_the_leaves_gives_the_librarys_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "fast.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
        add_client(app, "client-2")
        app.erase_client("client-1", reason="request 4", actor=SUPERVISOR)
    execute(db, ("UPDATE stored_events SET state = x'0102' WHERE rowid = 2", ()))
    with GoalpathApp(db, today=lambda: TODAY) as app:
        fast = read_leaves(engine_of(app).recorder)
        assert read_leaves(engine_of(app).recorder, stop=3) == fast[:3]
        monkeypatch.setattr(fast_paths, "ENABLED", False)
        assert read_leaves(engine_of(app).recorder) == fast


def test_a_checkpoint_of_another_key_or_altered_is_refused(tmp_path: Path, keys: LogKeys) -> None:
    db = tmp_path / "keys.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
    kept = checkpoint(db, keys, tmp_path / "cp.txt")
    (tmp_path / "other").mkdir()
    other = make_keys(tmp_path / "other")
    code, _report, stderr = _refused(db, other, kept)
    assert "no signature by the key" in stderr
    text = kept.read_text(encoding="utf-8").splitlines(keepends=True)
    text[1] = str(int(text[1]) + 1) + "\n"
    forged = tmp_path / "forged.txt"
    forged.write_text("".join(text), encoding="utf-8")
    code, _report, stderr = _refused(db, keys, forged)
    assert code == 1
    assert "does not verify" in stderr


def _refused(db: Path, keys: LogKeys, kept: Path) -> tuple[int, str, str]:
    result = invoke(
        "--db",
        str(db),
        "audit",
        "verify",
        "--checkpoint",
        str(kept),
        "--public-key",
        str(keys.public),
    )
    assert result.exit_code == 1
    return result.exit_code, result.stdout, result.stderr


def test_no_checkpoint_is_signed_over_a_tampered_store(tmp_path: Path, keys: LogKeys) -> None:
    db = tmp_path / "tampered.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        add_client(app, "client-1")
    execute(db, ("DELETE FROM stored_events WHERE rowid = 2", ()))
    result = invoke("--db", str(db), "audit", "checkpoint", "--key", str(keys.key))
    assert result.exit_code == 1
    assert "no checkpoint is signed over it" in result.stderr
    assert result.stdout == ""


WRITES = st.lists(
    st.one_of(
        st.tuples(st.just("client"), st.integers(0, 2)),
        st.tuples(st.just("measure"), st.integers(0, 5)),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None)
@given(writes=WRITES)
def test_a_store_that_only_grew_passes_against_every_earlier_checkpoint(
    writes: list[tuple[str, int]],
) -> None:
    """Law: whatever is written, the log after it extends the log at every checkpoint before it."""
    key = SigningKey.generate("example.org/law")
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "law.db"
        kept: list[tuple[str, Checkpoint]] = []
        with GoalpathApp(db, today=lambda: TODAY) as app:
            goals = [add_client(app, "client-0", measurements=0)]
            for number, (kind, argument) in enumerate(writes):
                if kind == "client":
                    goals.append(add_client(app, f"client-{number}", measurements=argument))
                else:
                    measure(app, goals[argument % len(goals)], 2, argument)
                tree = MerkleTree.of_leaves(read_leaves(engine_of(app).recorder))
                note = sign_checkpoint(Checkpoint(key.name, tree.size, tree.root()), key)
                kept.append((f"after write {number}", open_checkpoint(note, key.verifier())))
            final = MerkleTree.of_leaves(read_leaves(engine_of(app).recorder))
            assert check_checkpoints(final, kept, key.name) == []
            assert app.verify().ok


@pytest.fixture
def pg_tenant() -> Iterator[PostgresTenant]:
    yield from postgres_tenant()


def test_postgresql_position_swap_is_detected(pg_tenant: PostgresTenant) -> None:
    """PostgreSQL keeps positions in its own column: the same swap, the same report."""
    key = SigningKey.generate("example.org/pg")
    with GoalpathApp(
        pg_tenant.url, tenant=pg_tenant.tenant, master_key=pg_tenant.master_key, today=lambda: TODAY
    ) as app:
        add_client(app, "client-pg")
        leaves = read_leaves(engine_of(app).recorder)
        tree = MerkleTree.of_leaves(leaves)
        kept = open_checkpoint(
            sign_checkpoint(Checkpoint(key.name, tree.size, tree.root()), key), key.verifier()
        )
        first, second = next(
            (a, b) for a, b in itertools.pairwise(leaves) if a.stream_id != b.stream_id
        )
        table = sql.Identifier(pg_tenant.schema, "goalpath_events")
        with psycopg.connect(pg_tenant.url, autocommit=True) as connection:
            for old, new in (
                (first.position, -1),
                (second.position, first.position),
                (-1, second.position),
            ):
                connection.execute(
                    sql.SQL("UPDATE {} SET notification_id = %s WHERE notification_id = %s").format(
                        table
                    ),
                    (new, old),
                )
        assert app.verify().ok
        after = MerkleTree.of_leaves(read_leaves(engine_of(app).recorder))
        problems = check_checkpoints(after, [("before", kept)], key.name)
        assert [problem.kind for problem in problems] == ["inconsistent"]
