"""Fixtures shared by every test folder: applications on each store, hypothesis profiles.

Stores are listed in :data:`STORES`, a registry of store makers; the
``app_factory`` fixture is parametrised over all of them, and the
``shared_app_factory`` fixture over those where two applications see the
same events (a file or a server, not process memory). A PostgreSQL store
joins as one more :func:`register_store` call.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import attrs
import eventsourcing.domain
import pytest
from hypothesis import settings

from goalpath.core.application import GoalpathApp

# Test folders share ``tests/strategies.py`` as ``tests.strategies``; pytest's
# importlib mode leaves sys.path alone, so the repository root is appended
# (appended, so an installed package always wins over a folder of the same name).
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

from tests.postgres_support import (  # noqa: E402  # needs the path set just above
    POSTGRES_URL,
    PostgresTenant,
    require_postgres,
)
from tests.strategies import TODAY  # noqa: E402

# -- hypothesis profiles --------------------------------------------------------

settings.register_profile("dev", max_examples=50, deadline=None)
# CI explores the same examples on every run, so that a submission's result does not depend
# on chance; local runs ("dev") explore new examples each time.
settings.register_profile(
    "ci", max_examples=50, deadline=None, database=None, print_blob=True, derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI", "").lower() == "true" else "dev")


# -- stores ---------------------------------------------------------------------


@attrs.frozen
class StoreKind:
    """How to make one kind of goalpath store for a test.

    ``location`` turns the test's temporary folder into the ``store``
    argument of :class:`GoalpathApp`. ``shared`` says whether two
    applications given the same location see each other's events.
    """

    name: str
    location: Callable[[Path], str]
    shared: bool


MAX_OPEN_SERVER_APPS: Final = 4
"""Applications a PostgreSQL factory keeps open at once (see AppFactory.__call__)."""

STORES: Final[dict[str, StoreKind]] = {}
"""Every store the core behaviour is tested on, by name."""


def register_store(kind: StoreKind) -> None:
    """Add a store kind to the registry (used at import time of this module)."""
    STORES[kind.name] = kind


register_store(StoreKind("memory", lambda _tmp: ":memory:", shared=False))
register_store(StoreKind("sqlite", lambda tmp: str(tmp / "goalpath.db"), shared=True))
# A fresh tenant schema on the test server per test; the factory adds the tenant and key.
register_store(StoreKind("postgres", lambda _tmp: POSTGRES_URL, shared=True))


@attrs.define
class AppFactory:
    """Makes :class:`GoalpathApp` instances on one store, with the fixed clock.

    Every call returns a new application on the same location; on a shared
    store they see each other's events. Applications are closed at teardown.
    """

    kind: StoreKind
    location: str
    made: list[GoalpathApp] = attrs.field(factory=list)
    defaults: dict[str, Any] = attrs.field(factory=dict)

    def __call__(self, **options: Any) -> GoalpathApp:
        """Return a new application; ``options`` are passed to :class:`GoalpathApp`."""
        options.setdefault("today", fixed_today)
        for name, value in self.defaults.items():
            options.setdefault(name, value)
        app = GoalpathApp(self.location, **options)
        self.made.append(app)
        if self.kind.name == "postgres" and len(self.made) > MAX_OPEN_SERVER_APPS:
            # Property tests make an application per example; on a server each holds
            # connections, so those of earlier examples are closed as new ones open.
            self.made.pop(0).close()
        return app

    def close(self) -> None:
        """Close every application made."""
        for app in self.made:
            app.close()


def fixed_today() -> date:
    """The tests' clock."""
    return TODAY


# -- the event clock (recorded time) ------------------------------------------------


@attrs.define
class EventClock:
    """Stamps events on a chosen day, one second apart, starting at 10:00 UTC.

    Recorded time in tests: the ``clock`` fixture puts it in place of the
    library's clock, so events are stamped without waiting on the wall clock.
    """

    now: datetime = datetime(2026, 1, 1, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def move_to(self, day: date) -> None:
        """Stamp the next events on ``day``."""
        self.now = datetime.combine(day, time(10), tzinfo=UTC)

    def today(self) -> date:
        """The day the next events are stamped on: an application's ``today``."""
        return self.now.date()

    @contextmanager
    def installed(self) -> Iterator[EventClock]:
        """Stamp events by this clock inside the block (for a hypothesis example)."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", self)
            yield self


def end_of(day: date) -> datetime:
    """The last moment of ``day`` (UTC), as an ``as_of`` time."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> EventClock:
    """Event timestamps from an :class:`EventClock` instead of the wall clock."""
    event_clock = EventClock()
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", event_clock)
    return event_clock


def _factory(kind: StoreKind, tmp_path: Path) -> Iterator[AppFactory]:
    if kind.name != "postgres":
        factory = AppFactory(kind, kind.location(tmp_path))
        yield factory
        factory.close()
        return
    tenant = PostgresTenant(require_postgres())
    factory = AppFactory(
        kind,
        tenant.url,
        defaults={"tenant": tenant.tenant, "master_key": tenant.master_key},
    )
    try:
        yield factory
    finally:
        factory.close()
        tenant.drop()


@pytest.fixture(params=sorted(STORES))
def app_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppFactory]:
    """An application maker on each registered store in turn."""
    yield from _factory(STORES[request.param], tmp_path)


@pytest.fixture(params=sorted(name for name, kind in STORES.items() if kind.shared))
def shared_app_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppFactory]:
    """An application maker on each store two applications can share."""
    yield from _factory(STORES[request.param], tmp_path)


@pytest.fixture
def app(app_factory: AppFactory) -> GoalpathApp:
    """An application on each store, with the fixed clock and default snapshots."""
    return app_factory()
