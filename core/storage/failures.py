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
from collections.abc import Callable, Iterator
from typing import Any, Final, TypeVar

from eventsourcing.persistence import PersistenceError

from goalpath.core.errors import GoalpathError, StoreError

__all__ = ["DRIVER_ERRORS", "store_failure", "translating_driver_errors"]


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
