"""The client-key store contract: reusable test cases for a ClientKeyStore implementation.

A host that keeps client keys somewhere of its own subclasses
:class:`ClientKeyStoreContract` in its test suite (as eventsourcing's
``tests/persistence.py`` cases are used) and says how to make a store::

    from goalpath.core.storage.key_store_contract import ClientKeyStoreContract
    from goalpath.core.storage.keys import MasterKey

    class TestVaultKeyStore(ClientKeyStoreContract):
        def make_store(self):
            return VaultClientKeyStore(MasterKey.generate())

pytest collects every ``test_...`` method of the subclass. The checks are
those :class:`~goalpath.core.storage.keys.ClientKeyStore` promises: a
client's key is created once and stays the same, erasing destroys it and is
refused a second time, an erased client's key and new records are refused
with :class:`~goalpath.core.errors.ClientErasedError`, and the system key is
never erased. A store that keeps its keys beyond one object also overrides
:meth:`ClientKeyStoreContract.reopen_store`, and the same checks run across
two store objects on the same data.

The module imports no test framework: a failed check raises
``AssertionError`` with a message saying what the store did.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final
from unittest import SkipTest
from uuid import UUID

from goalpath.core.errors import ClientErasedError
from goalpath.core.storage.keys import SYSTEM_KEY_ID, ClientKeyRecord, ClientKeyStore

__all__ = ["CLIENT_KEY_BYTES", "ClientKeyStoreContract"]

CLIENT_KEY_BYTES: Final = 32
"""Length of every key a store hands out (AES-256 client keys, the derived system key)."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _found(store: ClientKeyStore, client_id: str) -> ClientKeyRecord:
    record = store.lookup(client_id)
    if record is None:
        raise AssertionError(f"lookup({client_id!r}) found no key record; one was expected")
    return record


def _refused(action: Callable[[], object], what: str) -> None:
    """Check that ``action`` raises ClientErasedError; ``what`` names it in the message."""
    try:
        result = action()
    except ClientErasedError:
        return
    except Exception as error:  # the contract reports any other error as a failure
        raise AssertionError(
            f"{what} raised {type(error).__name__} ({error}); a ClientErasedError was expected"
        ) from error
    raise AssertionError(f"{what} was accepted (it returned {result!r}); it should be refused")


class ClientKeyStoreContract(ABC):
    """Reusable test case: subclass it as ``TestSomething`` and implement :meth:`make_store`.

    Every store the contract makes (or reopens) is closed at the end of the
    check that made it.
    """

    @abstractmethod
    def make_store(self) -> ClientKeyStore:
        """Return a new, empty store with a master key of its own (called once per check)."""

    def reopen_store(self, store: ClientKeyStore) -> ClientKeyStore | None:
        """Return another store object on the same data and master key as ``store``.

        ``store`` stays open: the two are used side by side, then closed.
        The default, ``None``, says the store keeps nothing beyond its
        object (an in-memory store): the checks across stores are then
        skipped (``unittest.SkipTest``, which pytest and unittest both report).
        """
        del store
        return None

    @contextmanager
    def _stores(self) -> Iterator[list[ClientKeyStore]]:
        opened: list[ClientKeyStore] = []
        try:
            yield opened
        finally:
            for store in reversed(opened):
                store.close()

    @contextmanager
    def _store(self) -> Iterator[ClientKeyStore]:
        with self._stores() as opened:
            opened.append(self.make_store())
            yield opened[0]

    @contextmanager
    def _two_stores(self) -> Iterator[tuple[ClientKeyStore, ClientKeyStore]]:
        """The store and a reopened one; a check without one is skipped."""
        with self._stores() as opened:
            opened.append(self.make_store())
            other = self.reopen_store(opened[0])
            if other is None:
                raise SkipTest("the store keeps nothing beyond its object (reopen_store)")
            opened.append(other)
            yield opened[0], other

    def test_a_client_key_is_created_once(self) -> None:
        """``key_for_client`` creates a key on first use and returns the same id after."""
        with self._store() as store:
            _check(store.lookup("client-a") is None, "an unknown client has a key record")
            key_id = store.key_for_client("client-a")
            _check(isinstance(key_id, UUID), f"key_for_client returned {key_id!r}, not a UUID")
            _check(key_id != SYSTEM_KEY_ID, "a client was given the system key id")
            again = store.key_for_client("client-a")
            _check(again == key_id, f"a second key_for_client gave {again}, not {key_id}")
            record = _found(store, "client-a")
            _check(record.key_id == key_id, f"lookup gave key id {record.key_id}, not {key_id}")
            _check(
                record.erased_on is None,
                f"a client that was never erased has erased_on {record.erased_on!r}",
            )

    def test_a_key_is_the_same_32_bytes_each_time(self) -> None:
        """``key`` returns the same 32 bytes for a key id on every call."""
        with self._store() as store:
            key_id = store.key_for_client("client-a")
            key = store.key(key_id)
            _check(
                isinstance(key, bytes) and len(key) == CLIENT_KEY_BYTES,
                f"key() gave {type(key).__name__} of length {len(key)}, not 32 bytes",
            )
            _check(store.key(key_id) == key, "key() gave different bytes for the same key id")
            _check(not store.is_erased(key_id), "a key that was never erased is reported as erased")
            store.check_not_erased(key_id)

    def test_distinct_clients_get_distinct_keys(self) -> None:
        """Two clients never share a key id or a key; the lookup value is not the client id."""
        with self._store() as store:
            first, second = store.key_for_client("client-a"), store.key_for_client("client-b")
            _check(first != second, f"two clients were given the same key id {first}")
            _check(store.key(first) != store.key(second), "two clients were given the same key")
            ref = store.client_ref("client-a")
            _check(b"client-a" not in ref, "the lookup value holds the client id in clear")
            _check(ref != store.client_ref("client-b"), "two clients have the same lookup value")

    def test_erase_destroys_the_key(self) -> None:
        """``erase`` returns the key id; the key, its checks and new records are refused."""
        with self._store() as store:
            key_id = store.key_for_client("client-a")
            store.key(key_id)  # cached: erasing must forget it too
            kept = store.key_for_client("client-b")
            erased = store.erase("client-a")
            _check(erased == key_id, f"erase returned {erased}, not the client's key id {key_id}")
            _check(store.is_erased(key_id), "an erased key is not reported as erased")
            _refused(lambda: store.key(key_id), "key() of an erased key")
            _refused(lambda: store.check_not_erased(key_id), "check_not_erased of an erased key")
            _refused(lambda: store.key_for_client("client-a"), "key_for_client of an erased client")
            self._check_erased_record(store, "client-a", key_id)
            _check(not store.is_erased(kept), "erasing one client erased another")
            _check(len(store.key(kept)) == CLIENT_KEY_BYTES, "another client's key was lost")

    def test_erasing_twice_or_an_unknown_client_is_refused(self) -> None:
        """A second erase, and the erase of a client never stored, raise ClientErasedError."""
        with self._store() as store:
            store.key_for_client("client-a")
            store.erase("client-a")
            _refused(lambda: store.erase("client-a"), "a second erase")
            _refused(lambda: store.erase("client-never-seen"), "erasing an unknown client")
            _check(
                store.lookup("client-never-seen") is None,
                "erasing an unknown client left a key record",
            )

    def test_the_system_key_is_never_erased(self) -> None:
        """The system key is 32 stable bytes, never reported erased, even after erasures."""
        with self._store() as store:
            system = store.key(SYSTEM_KEY_ID)
            _check(len(system) == CLIENT_KEY_BYTES, "the system key is not 32 bytes")
            store.key_for_client("client-a")
            store.erase("client-a")
            _check(store.key(SYSTEM_KEY_ID) == system, "the system key changed after an erasure")
            _check(not store.is_erased(SYSTEM_KEY_ID), "the system key is reported as erased")
            store.check_not_erased(SYSTEM_KEY_ID)

    def test_keys_are_kept_across_store_objects(self) -> None:
        """A reopened store finds the same key id, the same key and the same system key."""
        with self._two_stores() as (first, second):
            key_id = first.key_for_client("client-a")
            key = first.key(key_id)
            again = second.key_for_client("client-a")
            _check(again == key_id, f"the reopened store gave key id {again}, not {key_id}")
            _check(second.key(key_id) == key, "the reopened store gave another key")
            _check(
                second.key(SYSTEM_KEY_ID) == first.key(SYSTEM_KEY_ID),
                "the reopened store derived another system key",
            )

    def test_an_erasure_is_seen_by_every_store_object(self) -> None:
        """An erasure through one store object is refused by another that cached the key."""
        with self._two_stores() as (first, second):
            key_id = first.key_for_client("client-a")
            first.key(key_id)  # cached in the first store
            erased = second.erase("client-a")
            _check(erased == key_id, f"erase returned {erased}, not the client's key id {key_id}")
            _check(first.is_erased(key_id), "the other store does not report the key erased")
            _refused(
                lambda: first.check_not_erased(key_id),
                "check_not_erased in a store that cached the key before its erasure",
            )
            _refused(lambda: first.key(key_id), "key() after check_not_erased saw the erasure")
            _refused(lambda: first.key_for_client("client-a"), "key_for_client in the other store")
            _refused(lambda: first.erase("client-a"), "a second erase through the other store")
            self._check_erased_record(first, "client-a", key_id)

    @staticmethod
    def _check_erased_record(store: ClientKeyStore, client_id: str, key_id: UUID) -> None:
        record = _found(store, client_id)
        _check(record.key_id == key_id, f"the erased record has key id {record.key_id}")
        _check(
            isinstance(record.erased_on, str) and bool(record.erased_on),
            f"the erased record's erased_on is {record.erased_on!r}, not when it was erased",
        )
