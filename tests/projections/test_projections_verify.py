"""goalpath projections verify: the read models against a rebuild, on SQLite and PostgreSQL.

Done-when of the verifiable-history issue: an altered read-model row and a
tracking position past the end of the log are each reported.
"""

from __future__ import annotations

import json

from tests.projections.event_writer import write_round
from tests.projections.stores import ProjectionStore
from tests.strategies import TODAY


def _verify(store: ProjectionStore) -> tuple[int, dict[str, object]]:
    result = store.cli("projections", "verify", "--json")
    return result.exit_code, json.loads(result.stdout)


def _built(store: ProjectionStore) -> None:
    with store.app(today=lambda: TODAY) as app:
        for number in range(3):
            write_round(app, number)
    assert store.cli("projections", "rebuild").exit_code == 0


def test_untouched_read_models_verify(projection_store: ProjectionStore) -> None:
    _built(projection_store)
    code, report = _verify(projection_store)
    assert code == 0
    assert report["passed"] is True
    assert report["problems"] == []
    assert report["position"] == report["head"]
    assert report["rows_checked"]


def test_an_altered_row_is_reported(projection_store: ProjectionStore) -> None:
    _built(projection_store)
    projection_store.query("UPDATE gp_goals SET status = 'completed' WHERE status = 'active'")
    projection_store.query("UPDATE gp_audit_log SET actor_id = 'someone-else' WHERE position = 1")
    code, report = _verify(projection_store)
    assert code == 1
    problems = report["problems"]
    assert isinstance(problems, list)
    assert any(
        p.startswith("gp_goals: row changed or added") and "completed" in p for p in problems
    )
    assert any(p.startswith("gp_goals: row changed or removed") for p in problems)
    assert any(p.startswith("gp_audit_log:") and "someone-else" in p for p in problems)
    # nothing was repaired by looking
    assert projection_store.query("SELECT COUNT(*) FROM gp_goals WHERE status = 'completed'")[0][0]


def test_a_tracking_position_past_the_end_is_reported(projection_store: ProjectionStore) -> None:
    _built(projection_store)
    projection_store.query("UPDATE gp_projection_tracking SET position = position + 1000")
    code, report = _verify(projection_store)
    assert code == 1
    assert any("past the end of the event log" in str(p) for p in report["problems"])  # type: ignore[attr-defined]
    text = projection_store.cli("projections", "verify")
    assert text.exit_code == 1
    assert "past the end of the event log" in text.stdout
