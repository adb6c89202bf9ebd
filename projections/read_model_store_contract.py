"""The read-model store contract: reusable test cases for a ReadModelStore implementation.

A host that keeps goalpath's read models in a database of its own subclasses
:class:`ReadModelStoreContract` in its test suite (as eventsourcing's
``tests/persistence.py`` cases are used) and says how to make a store::

    from goalpath.projections.read_model_store_contract import ReadModelStoreContract

    class TestWarehouseReadModels(ReadModelStoreContract):
        def make_store(self):
            return WarehouseReadModelStore(...)

pytest collects every ``test_...`` method of the subclass. The checks are
what :class:`~goalpath.projections.read_model_store.ReadModelStore`
promises and the projectors rely on: a write transaction commits every
statement or none (an exception, or a failing statement, rolls all of them
back), ``execute``, ``executemany`` (also with no rows) and ``query`` inside a
transaction, :meth:`ReadModelStore.query` outside one, the portable SQL
subset (``CREATE TABLE IF NOT EXISTS``, ``INSERT ... ON CONFLICT ... DO
UPDATE``, ``?`` placeholders, ``TEXT``, ``INTEGER`` wide enough for a
tracking position, ``DOUBLE PRECISION``), ``purge_deleted`` and ``close``. A
store whose data outlives its object also overrides
:meth:`ReadModelStoreContract.reopen_store`; then the write lock, the read
snapshot and the rows kept after ``close`` are checked across two store
objects.

The checks write one table, ``gp_contract_notes`` (the ``gp_`` prefix of
goalpath's read-model tables, which a store's ``purge_deleted`` covers).
The module imports no test framework: a failed check raises
``AssertionError`` with a message saying what the store did.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final
from unittest import SkipTest

from goalpath.projections.read_model_store import ReadModelStore, Row

__all__ = ["WIDE_INTEGER", "ReadModelStoreContract"]

WIDE_INTEGER: Final = 2**62
"""An ``INTEGER`` value beyond 32 bits: tracking positions and counts must fit."""

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS gp_contract_notes ("
    "id INTEGER PRIMARY KEY, note TEXT NOT NULL, score DOUBLE PRECISION, position INTEGER)"
)
_INSERT: Final = "INSERT INTO gp_contract_notes (id, note, score, position) VALUES (?, ?, ?, ?)"
_ALL_ROWS: Final = "SELECT id, note, score, position FROM gp_contract_notes ORDER BY id"

_LOCK_HELD_SECONDS: Final = 0.3
"""How long the lock check holds its write transaction while another store tries to write."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _same(found: list[Row], expected: list[Row], what: str) -> None:
    _check(found == expected, f"{what}: the store holds {found!r}, expected {expected!r}")


class _Abandoned(Exception):  # noqa: N818  # not an error: the check abandons a transaction
    """Raised inside a transaction to abandon it."""


class ReadModelStoreContract(ABC):
    """Reusable test case: subclass it as ``TestSomething`` and implement :meth:`make_store`.

    Every store the contract makes (or reopens) is closed at the end of the
    check that made it.
    """

    @abstractmethod
    def make_store(self) -> ReadModelStore:
        """Return a new store holding no tables of the contract (called once per check)."""

    def reopen_store(self, store: ReadModelStore) -> ReadModelStore | None:
        """Return another store object on the same data as ``store``.

        ``store`` stays open: the two are used side by side, then closed.
        The default, ``None``, says the data lives only in the store object
        (SQLite ``:memory:``): the checks across stores are then skipped
        (``unittest.SkipTest``, which pytest and unittest both report).
        """
        del store
        return None

    @contextmanager
    def _stores(self) -> Iterator[list[ReadModelStore]]:
        opened: list[ReadModelStore] = []
        try:
            yield opened
        finally:
            for store in reversed(opened):
                store.close()

    @contextmanager
    def _store(self) -> Iterator[ReadModelStore]:
        with self._stores() as opened:
            opened.append(self.make_store())
            store = opened[0]
            with store.transaction() as transaction:
                transaction.execute(_SCHEMA)
            yield store

    @contextmanager
    def _two_stores(self) -> Iterator[tuple[ReadModelStore, ReadModelStore]]:
        with self._stores() as opened:
            opened.append(self.make_store())
            with opened[0].transaction() as transaction:
                transaction.execute(_SCHEMA)
            other = self.reopen_store(opened[0])
            if other is None:
                raise SkipTest("the store's data lives only in its object (reopen_store)")
            opened.append(other)
            yield opened[0], other

    def test_a_transaction_commits_every_statement(self) -> None:
        """Statements of one write transaction are all visible once it ends."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.execute(_INSERT, (1, "first", 1.5, 10))
                transaction.execute(_INSERT, [2, "second", None, None])
                transaction.execute("UPDATE gp_contract_notes SET score = ? WHERE id = ?", (2.5, 2))
            _same(
                store.query(_ALL_ROWS),
                [(1, "first", 1.5, 10), (2, "second", 2.5, None)],
                "after a committed transaction",
            )

    def test_an_exception_rolls_back_every_statement(self) -> None:
        """An exception inside a transaction undoes all its statements and is raised unchanged."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.execute(_INSERT, (1, "kept", None, None))
            abandoned = _Abandoned("the check abandons this transaction")
            try:
                with store.transaction() as transaction:
                    transaction.execute(_INSERT, (2, "rolled back", None, None))
                    transaction.executemany(_INSERT, [(3, "rolled back", None, None)])
                    transaction.execute("UPDATE gp_contract_notes SET note = ?", ("changed",))
                    transaction.execute("DELETE FROM gp_contract_notes WHERE id = ?", (1,))
                    raise abandoned
            except _Abandoned as raised:
                _check(raised is abandoned, "the transaction raised another exception than its own")
            else:
                raise AssertionError("the exception inside the transaction was swallowed")
            _same(store.query(_ALL_ROWS), [(1, "kept", None, None)], "after a rolled-back one")
            self._check_usable(store)

    def test_a_failing_statement_rolls_back_the_transaction(self) -> None:
        """A statement that fails (a duplicate key) leaves none of its transaction's writes."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.execute(_INSERT, (1, "kept", None, None))
            refused = False
            try:
                with store.transaction() as transaction:
                    transaction.execute(_INSERT, (2, "rolled back", None, None))
                    transaction.execute(_INSERT, (1, "a duplicate id", None, None))
            except Exception:  # the store chooses the error's type; what it kept is checked below
                refused = True
            _check(refused, "a duplicate primary key was accepted")
            _same(store.query(_ALL_ROWS), [(1, "kept", None, None)], "after a failed statement")
            self._check_usable(store)

    def test_executemany_runs_once_per_row(self) -> None:
        """``executemany`` takes any iterable of rows, and does nothing for no rows."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.executemany(_INSERT, [])
                transaction.executemany(_INSERT, iter(()))
                transaction.executemany(_INSERT, ((n, f"row {n}", n / 2, n * 10) for n in (1, 2)))
                transaction.executemany(_INSERT, [[3, "row 3", None, None]])
            _same(
                store.query(_ALL_ROWS),
                [(1, "row 1", 0.5, 10), (2, "row 2", 1.0, 20), (3, "row 3", None, None)],
                "after executemany",
            )

    def test_queries_see_the_transaction_and_the_committed_rows(self) -> None:
        """A transaction's query sees its own writes; read transactions see committed rows."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.execute(_INSERT, (1, "mine", None, None))
                _same(transaction.query(_ALL_ROWS), [(1, "mine", None, None)], "inside it")
                _same(
                    transaction.query("SELECT note FROM gp_contract_notes WHERE id = ?", (1,)),
                    [("mine",)],
                    "a query with a parameter",
                )
            with store.transaction(write=False) as reading:
                _same(reading.query(_ALL_ROWS), [(1, "mine", None, None)], "a read transaction")
            _same(store.query("SELECT COUNT(*) FROM gp_contract_notes"), [(1,)], "store.query")

    def test_the_portable_sql_subset(self) -> None:
        """``IF NOT EXISTS`` keeps rows, an upsert updates, ``%`` in SQL text is a character."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.execute(_INSERT, (1, "100% done?", None, 1))
                transaction.execute(_SCHEMA)  # a second time: the table and its row stay
                upsert = (
                    "INSERT INTO gp_contract_notes (id, note, score, position) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET note = excluded.note, score = excluded.score"
                )
                transaction.execute(upsert, (1, "updated", 0.25, 999))
                transaction.execute(upsert, (2, "inserted", None, 2))
            _same(
                store.query(_ALL_ROWS),
                [(1, "updated", 0.25, 1), (2, "inserted", None, 2)],
                "after two upserts",
            )
            _same(
                store.query(
                    "SELECT id FROM gp_contract_notes WHERE note LIKE 'upd%' AND id > ?", [0]
                ),
                [(1,)],
                "a LIKE pattern beside a placeholder",
            )

    def test_values_keep_their_type(self) -> None:
        """TEXT, INTEGER (beyond 32 bits) and DOUBLE PRECISION values come back as written."""
        rows: list[Row] = [
            (-1, "", -2.5, -WIDE_INTEGER),
            (0, "100% ? 'quoted' ünïcode", 0.1, 0),
            (WIDE_INTEGER, "x" * 10_000, 1e300, WIDE_INTEGER),
        ]
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.executemany(_INSERT, rows)
            found = store.query(_ALL_ROWS)
            _same(found, rows, "values written and read back")
            for row in found:
                _check(
                    [type(value) for value in row] == [int, str, float, int],
                    f"the row {row!r} came back as {[type(value).__name__ for value in row]}, "
                    "not int, str, float, int",
                )

    def test_purge_deleted_keeps_the_live_rows(self) -> None:
        """``purge_deleted`` after a delete keeps every live row and the store writable."""
        with self._store() as store:
            with store.transaction() as transaction:
                transaction.executemany(
                    _INSERT, [(1, "erased", None, None), (2, "kept", None, None)]
                )
            with store.transaction() as transaction:
                transaction.execute("DELETE FROM gp_contract_notes WHERE id = ?", (1,))
            store.purge_deleted()
            _same(store.query(_ALL_ROWS), [(2, "kept", None, None)], "after purge_deleted")
            store.purge_deleted()  # nothing left to purge: still fine
            self._check_usable(store)

    def test_close_keeps_committed_rows(self) -> None:
        """Rows committed before ``close`` are found by another store object on the same data."""
        with self._two_stores() as (first, second):
            with first.transaction() as transaction:
                transaction.execute(_INSERT, (1, "committed", None, WIDE_INTEGER))
            first.close()
            _same(second.query(_ALL_ROWS), [(1, "committed", None, WIDE_INTEGER)], "after close")

    def test_a_write_transaction_takes_the_write_lock_at_once(self) -> None:
        """A second store's write transaction starts only after the first one has committed."""
        with self._two_stores() as (first, second):
            entered = threading.Event()
            seen: list[list[Row]] = []
            failures: list[BaseException] = []

            def write_from_the_second_store() -> None:
                try:
                    with second.transaction() as transaction:
                        entered.set()
                        seen.append(transaction.query(_ALL_ROWS))
                        transaction.execute(_INSERT, (2, "second", None, None))
                except BaseException as error:  # reported by the check below
                    failures.append(error)
                    entered.set()

            with first.transaction() as transaction:
                transaction.execute(_INSERT, (1, "first", None, None))
                writer = threading.Thread(target=write_from_the_second_store)
                writer.start()
                entered_early = entered.wait(_LOCK_HELD_SECONDS)
            writer.join(timeout=30)
            _check(not writer.is_alive(), "the second store's write transaction never ended")
            _check(not failures, f"the second store's write transaction failed: {failures!r}")
            _check(
                not entered_early,
                "a second write transaction started while the first held the write lock",
            )
            _same(seen[0], [(1, "first", None, None)], "what the second writer saw on entry")
            _same(
                first.query(_ALL_ROWS),
                [(1, "first", None, None), (2, "second", None, None)],
                "after both writers",
            )

    def test_a_read_transaction_sees_one_snapshot(self) -> None:
        """Rows committed by another store during a read transaction are not seen by it."""
        with self._two_stores() as (first, second):
            with first.transaction() as transaction:
                transaction.execute(_INSERT, (1, "before", None, None))
            with second.transaction(write=False) as reading:
                before = reading.query(_ALL_ROWS)
                with first.transaction() as transaction:
                    transaction.execute(_INSERT, (2, "during", None, None))
                _same(reading.query(_ALL_ROWS), before, "a read transaction's second query")
            _same(
                second.query(_ALL_ROWS),
                [(1, "before", None, None), (2, "during", None, None)],
                "a read transaction begun afterwards",
            )

    @staticmethod
    def _check_usable(store: ReadModelStore) -> None:
        with store.transaction() as transaction:
            transaction.execute(_INSERT, (100, "usable", None, None))
        with store.transaction() as transaction:
            transaction.execute("DELETE FROM gp_contract_notes WHERE id = ?", (100,))
        _check(
            store.query("SELECT id FROM gp_contract_notes WHERE id = 100") == [],
            "the store is not writable after the previous check",
        )
