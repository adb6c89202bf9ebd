"""GoalpathApp is a facade: goalpath's commands and reads, none of the library's persistence.

The eventsourcing application (the engine) is held privately; its methods
(``save``, ``take_snapshot``, ``repository``, ``notify``, the notification
log, the recorder) would write or read past every goalpath check, so none
of them is reachable on the application a host holds, or on a unit of
work's. Every public method and property is documented, in its docstring
and in docs/embedding.md.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Final

import pytest
from eventsourcing.application import Application

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import NotAuthorizedError
from goalpath.core.values import Actor
from tests.conftest import fixed_today
from tests.strategies import THERAPIST

DOC: Final = Path(__file__).parents[2] / "docs" / "embedding.md"

PERSISTENCE: Final = (
    "save",
    "take_snapshot",
    "repository",
    "notify",
    "notification_log",
    "recorder",
    "events",
    "snapshots",
    "mapper",
    "factory",
    "sealing",
    "keys",
    "master_key",
)
"""The engine's persistence parts a host must not reach (the library's and goalpath's own)."""

GOALPATH_OWN: Final = {"close"}
"""Names the library's Application has that GoalpathApp defines itself, with goalpath's meaning."""


def public_names(app: object) -> list[str]:
    return sorted(name for name in dir(app) if not name.startswith("_"))


def library_names() -> list[str]:
    return sorted(
        name for name in dir(Application) if not name.startswith("_") and name not in GOALPATH_OWN
    )


@pytest.fixture
def app() -> GoalpathApp:
    return GoalpathApp(today=fixed_today)


def test_no_persistence_method_is_reachable_on_the_application(app: GoalpathApp) -> None:
    with app:
        for name in PERSISTENCE:
            assert not hasattr(app, name), name
        for name in library_names():
            assert not hasattr(app, name), name
        assert not isinstance(app, Application)


def test_nor_on_a_unit_of_work(app: GoalpathApp) -> None:
    with app, app.unit_of_work() as work:
        assert [name for name in PERSISTENCE if hasattr(work, name)] == []
        assert public_names(work) == public_names(app)


def test_the_engine_is_reached_only_through_the_internal_accessor(app: GoalpathApp) -> None:
    with app:
        engine = engine_of(app)
        assert isinstance(engine, Application)
        assert all(hasattr(engine, name) for name in ("save", "repository", "notification_log"))
        episode_id = app.open_episode(
            client_id="client-1", therapist_ids=["therapist-7"], actor=THERAPIST
        )
        # What the engine stores is what the facade reads: one store behind both.
        assert engine.repository.get(episode_id).client_id == "client-1"


def test_commands_through_the_facade_are_still_decided(app: GoalpathApp) -> None:
    with app:
        episode_id = app.open_episode(
            client_id="client-1", therapist_ids=["therapist-7"], actor=THERAPIST
        )
        with pytest.raises(NotAuthorizedError):
            app.record_session(episode_id, actor=Actor("therapist-8", "therapist"))


def test_every_public_method_and_property_is_documented(app: GoalpathApp) -> None:
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index("## The facade") :]
    section = section[: section.index("\n## ", 1)]
    undocumented, unlisted = [], []
    for name in public_names(app):
        member = inspect.getattr_static(GoalpathApp, name, None)
        target = member.fget if isinstance(member, property) else getattr(app, name)
        if name == "policy":
            target = None  # an attribute: its documentation is on the class that declares it
        elif not (inspect.getdoc(target) or "").strip():
            undocumented.append(name)
        if not re.search(rf"`{name}`", section):
            unlisted.append(name)
    assert undocumented == []
    assert unlisted == [], "name these in docs/embedding.md's 'The facade' section"
    assert "policy" in (inspect.getdoc(GoalpathApp) or "")
