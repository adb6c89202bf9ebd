"""Driver errors become goalpath's typed errors at the application's boundary.

SQLite, psycopg and eventsourcing each raise their own exceptions for a full
disk, an I/O error, a lock timeout or a lost connection. A host should see
one: :class:`~goalpath.core.errors.StoreError`, its cause chained, whatever
the store. :func:`translating_driver_errors` wraps every public method of
the application (and its constructor) so that no driver error escapes;
errors goalpath raises on purpose pass unchanged.
"""

from __future__ import annotations

import functools
import inspect
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Final, TypeVar

from eventsourcing.persistence import PersistenceError

from goalpath.core.errors import GoalpathError, OutcomeUnknownError, StoreError

__all__ = [
    "DRIVER_ERRORS",
    "connection_lost",
    "store_failure",
    "translating_driver_errors",
    "write_failure",
]


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.Error, PersistenceError]
    try:
        import psycopg  # noqa: PLC0415  # PostgreSQL support is optional at import time
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return tuple(errors)
    errors.append(psycopg.Error)
    return tuple(errors)


DRIVER_ERRORS: Final = _driver_errors()
"""The exceptions of the database drivers and of eventsourcing's persistence layer."""


_CONNECTION_CLASSES: Final = ("08", "57P")
"""SQLSTATE classes of a lost connection: connection exception, operator intervention."""


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (or the driver error it wraps) says the server connection was lost.

    psycopg gives no SQLSTATE when the connection itself broke, class 08 for a
    connection exception and 57P for a server shut down or a terminated
    backend; a lock timeout or a refused statement has another SQLSTATE.
    """
    try:
        import psycopg  # noqa: PLC0415  # PostgreSQL support is optional at import time
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, psycopg.Error):
        cause = cause.__cause__
    if not isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = cause.sqlstate
    return state is None or state.startswith(_CONNECTION_CLASSES)


def write_failure(error: BaseException, store_kind: str, kinds: Sequence[str]) -> StoreError:
    """The typed error for a save of ``kinds`` (``"goal"``...) that the store failed.

    On PostgreSQL a connection lost during the save may have lost only the
    reply to a commit that happened: the outcome is unknown
    (:class:`OutcomeUnknownError`). Any other failure stored nothing.
    """
    if store_kind == "postgres" and connection_lost(error):
        return OutcomeUnknownError(
            f"the connection to the goalpath store was lost while saving ({error}): the "
            f"change may or may not be stored; read the {' and '.join(kinds)} again before "
            "repeating it"
        )
    return StoreError(f"the goalpath store could not save: {error}")


def store_failure(error: BaseException) -> StoreError:
    """The typed error for a driver's ``error``: what failed, and that nothing was stored."""
    return StoreError(
        f"the goalpath store failed ({type(error).__name__}: {str(error).strip()}); "
        "the command was not completed: try again once the store is usable"
    )


T = TypeVar("T", bound=type[Any])


def translating_driver_errors(cls: T) -> T:
    """Wrap each public method of ``cls`` (and of its goalpath bases) and its constructor.

    A driver error raised inside becomes :func:`store_failure`'s ``StoreError``
    (``__cause__`` the driver's error); a ``GoalpathError`` passes unchanged.
    A generator method is wrapped as it is iterated.
    """
    names = {
        name
        for owner in cls.__mro__
        if owner.__module__.startswith("goalpath.")
        for name, member in vars(owner).items()
        if inspect.isfunction(member) and (not name.startswith("_") or name == "__init__")
    }
    for name in sorted(names):
        setattr(cls, name, _translating(getattr(cls, name)))
    return cls


def _translating(function: Callable[..., Any]) -> Callable[..., Any]:
    if getattr(function, "_translates_driver_errors", False):
        return function
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from function(*args, **kwargs)
            except GoalpathError:
                raise
            except DRIVER_ERRORS as error:
                raise store_failure(error) from error

        generator._translates_driver_errors = True  # type: ignore[attr-defined]
        return generator

    @functools.wraps(function)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except GoalpathError:
            raise
        except DRIVER_ERRORS as error:
            raise store_failure(error) from error

    translated._translates_driver_errors = True  # type: ignore[attr-defined]
    return translated
