"""The golden store: records written by an earlier goalpath must open, verify, replay and project.

``tests/golden/golden.db`` (with its key file) was written by the code of the commit that
added it, by ``tests/golden/make_golden_store.py``; ``expected.json`` holds what that code
read back. A refactoring that moves an event class without registering its old topic, or a
schema change that cannot read old rows, fails here.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.errors import GoalpathError
from goalpath.projections import Projections
from tests.golden.make_golden_store import plan_digest

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
EXPECTED: dict[str, Any] = json.loads((GOLDEN / "expected.json").read_text())
TODAY = date.fromisoformat(EXPECTED["today"])


@pytest.fixture
def golden_app(tmp_path: Path) -> Any:
    """The golden store, copied so that the committed file is never written to."""
    for name in ("golden.db", "golden.db.key"):
        shutil.copy2(GOLDEN / name, tmp_path / name)
        (tmp_path / name).chmod(0o600)
    app = GoalpathApp(tmp_path / "golden.db", today=lambda: TODAY)
    yield app
    app.close()


def test_golden_store_verifies(golden_app: GoalpathApp) -> None:
    report = golden_app.verify()
    assert report.ok, report.problems
    assert report.records_checked == EXPECTED["records_checked"]
    assert report.streams_checked == EXPECTED["streams_checked"]
    assert report.erased_streams == EXPECTED["erased_streams"]


def test_golden_store_replays_every_goal(golden_app: GoalpathApp) -> None:
    for goal_id, expected in EXPECTED["goals"].items():
        goal = golden_app.get_goal(UUID(goal_id))
        assert goal.version == expected["version"]
        assert goal.status == expected["status"]
        events = [type(event).__qualname__ for event in golden_app.goal_events(UUID(goal_id))]
        assert events == expected["events"]


def test_golden_store_erased_client_stays_unreadable(golden_app: GoalpathApp) -> None:
    for goal_id in EXPECTED["erased_goal_ids"]:
        with pytest.raises(GoalpathError):
            golden_app.get_goal(UUID(goal_id))


def test_golden_store_projects_to_the_same_plans(golden_app: GoalpathApp) -> None:
    with Projections(golden_app) as projections:
        projections.rebuild()
        for client, plans in EXPECTED["plans"].items():
            got = [
                plan_digest(plan, golden_app)
                for plan in projections.plan_for_client(client, today=TODAY)
            ]
            assert got == plans
