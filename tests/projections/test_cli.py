"""The read-model commands on the demo's episode: plan, progress, reviews, audit log, outcomes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from goalpath.cli.demo import build_demo
from goalpath.core.application import local_today
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.values import Actor
from tests.projections.stores import ProjectionStore
from tests.projections.strategies import gad7_definition, phq9_definition
from tests.projections.test_charts import png_size

THERAPIST = Actor("therapist-7", "therapist")


@pytest.fixture
def demo(projection_store: ProjectionStore) -> dict[str, Any]:
    with projection_store.app() as app:
        built = build_demo(app, local_today())
    return {"db": projection_store, **built}


def run(db: ProjectionStore, *args: str) -> Result:
    return db.cli(*args)


def run_json(db: ProjectionStore, *args: str) -> Any:
    result = run(db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_plan_show_for_an_episode_and_a_client(demo: dict[str, Any]) -> None:
    db, episode_id = demo["db"], str(demo["episode_id"])
    plan = run_json(db, "plan", "show", "--episode", episode_id)
    assert plan["episode_id"] == episode_id
    assert [goal["id"] for goal in plan["goals"]] == [str(g) for g in demo["goal_ids"]]
    assert all(goal["smart"]["passed"] for goal in plan["goals"])
    assert plan["goals"][0]["latest_measurement"]["value"] == 1
    today = local_today().isoformat()
    overdue = {g["id"] for g in plan["goals"] if g["next_review_due"] < today}
    assert {w["code"] for w in plan["warnings"]} <= {"review-overdue"}
    assert {w["goal_id"] for w in plan["warnings"]} == overdue
    assert plan["gas_t_score"] == pytest.approx(43.8, abs=0.01)  # levels 0 and -1
    by_client = run_json(db, "plan", "show", "client-0042")
    assert [p["episode_id"] for p in by_client["plans"]] == [episode_id]
    text = run(db, "plan", "show", "--episode", episode_id)
    assert text.exit_code == 0
    assert "S M A R T" in text.stdout
    assert ("no plan warnings" in text.stdout) == (not plan["warnings"])


def test_plan_show_needs_exactly_one_of_client_and_episode(demo: dict[str, Any]) -> None:
    assert run(demo["db"], "plan", "show").exit_code == 2
    both = run(demo["db"], "plan", "show", "client-0042", "--episode", str(demo["episode_id"]))
    assert both.exit_code == 2
    unknown = run(demo["db"], "plan", "show", "nobody")
    assert unknown.exit_code == 1
    assert "no client with id nobody" in unknown.stderr


def test_plan_show_as_of_returns_the_plan_as_it_stood_then(
    projection_store: ProjectionStore,
) -> None:
    db = projection_store
    with db.app() as app:
        episode_id = app.open_episode(
            client_id="client-9",
            therapist_ids=["therapist-7"],
            concerns=["low mood"],
            opened_on=phq9_definition().start_on,
            actor=THERAPIST,
        )
        goal_id = app.create_goal(episode_id, phq9_definition(), actor=THERAPIST, activate=True)
        known = app.goal_events(goal_id)[0].timestamp
        app.refine_goal(
            goal_id, reason="agreed a longer cadence", review_every_days=14, actor=THERAPIST
        )
        assert app.goal_events(goal_id)[1].timestamp > known
    then = run_json(db, "plan", "show", "--episode", str(episode_id), "--as-of", known.isoformat())
    now = run_json(db, "plan", "show", "--episode", str(episode_id))
    assert then["goals"][0]["definition"]["review_every_days"] == 28
    assert then["goals"][0]["version"] == 1
    assert now["goals"][0]["definition"]["review_every_days"] == 14
    before = run_json(db, "plan", "show", "client-9", "--as-of", "2000-01-01")
    assert before["plans"] == []


def test_progress_shows_a_chart_and_saves_a_png(demo: dict[str, Any], tmp_path: Path) -> None:
    db, goal_id = demo["db"], str(demo["goal_ids"][0])
    png = tmp_path / "progress.png"
    report = run_json(db, "progress", goal_id, "--png", str(png))
    assert report["status"] == "achieved"
    assert report["percent"] == 100
    assert [point["value"] for point in report["series"]] == [3, 3, 2, 2, 1, 1]
    assert report["expected_trajectory"][0]["value"] == 3
    assert report["trend_per_week"] < 0
    assert png_size(png.read_bytes()) == (640, 400)
    text = run(db, "progress", goal_id)
    assert text.exit_code == 0
    assert "●" in text.stdout
    assert "expected trajectory" in text.stdout
    bad = run(db, "progress", goal_id, "--png", str(tmp_path / "missing" / "x.png"))
    assert bad.exit_code == 2


def test_reviews_due_per_therapist(demo: dict[str, Any]) -> None:
    db = demo["db"]
    plan = run_json(db, "plan", "show", "--episode", str(demo["episode_id"]))
    horizon = (local_today() + timedelta(days=7)).isoformat()
    due = {g["id"] for g in plan["goals"] if g["next_review_due"] <= horizon}
    assert due  # the demo's goals are reviewed every few weeks
    queue = run_json(db, "reviews", "due", "--therapist", "therapist-7")
    assert {item["goal_id"] for item in queue["reviews"]} == due
    for item in queue["reviews"]:
        assert item["state"] == ("overdue" if item["due_on"] < local_today().isoformat() else "due")
    assert run_json(db, "reviews", "due", "--therapist", "therapist-8")["reviews"] == []
    soon = run_json(db, "reviews", "due", "--within", "0")["reviews"]
    assert all(item["state"] == "overdue" or item["days_overdue"] == 0 for item in soon)
    assert "reviews due" in run(db, "reviews", "due").stdout


def test_audit_log_filters_by_goal_actor_client_and_time(demo: dict[str, Any]) -> None:
    db, goal_id = demo["db"], str(demo["goal_ids"][0])
    with db.app() as app:
        head = int(engine_of(app).recorder.max_notification_id() or 0)
    everything = run_json(db, "audit", "log")["entries"]
    assert [entry["position"] for entry in everything] == list(range(1, head + 1))
    for_goal = run_json(db, "audit", "log", "--goal", goal_id)["entries"]
    assert {entry["goal_id"] for entry in for_goal} == {goal_id}
    with db.app() as app:
        assert len(for_goal) == len(app.goal_events(demo["goal_ids"][0]))
    correction = next(e for e in for_goal if e["event_type"] == "MeasurementCorrected")
    assert correction["changes"] == [
        {"field": "measurements[3].value", "before": 12.0, "after": 2.0},
        {"field": "measurements[3].status", "before": "final", "after": "amended"},
        {"field": "measurements[3].original_value", "before": None, "after": 12.0},
    ]
    assert correction["reason"].startswith("typed 12 for 2")
    refined = next(e for e in for_goal if e["event_type"] == "Refined")
    assert {"field": "definition.statement", "before": "I want to be less anxious"}.items() <= next(
        c for c in refined["changes"] if c["field"] == "definition.statement"
    ).items()
    assert run_json(db, "audit", "log", "--actor", "someone-else")["entries"] == []
    assert len(run_json(db, "audit", "log", "--client", "client-0042")["entries"]) == head
    assert run_json(db, "audit", "log", "--until", "2000-01-01")["entries"] == []
    assert (
        len(run_json(db, "audit", "log", "--since", local_today().isoformat())["entries"]) == head
    )
    assert len(run_json(db, "audit", "log", "--limit", "5")["entries"]) == 5
    text = run(db, "audit", "log", "--goal", goal_id)
    assert text.exit_code == 0
    assert "MeasurementCorrected" in text.stdout


def test_outcomes_count_paired_outcomes_of_finished_courses(
    projection_store: ProjectionStore,
) -> None:
    db = projection_store
    start = phq9_definition().start_on
    with db.app() as app:
        for client, phq9, gad7, close in (
            ("client-a", (18, 8), (9, 5), True),  # reliable recovery
            ("client-b", (9, 16), (5, 5), True),  # reliable deterioration
            ("client-c", (18, 8), (9, 5), False),  # still open: interim
        ):
            episode_id = app.open_episode(
                client_id=client,
                therapist_ids=["therapist-7"],
                concerns=["low mood"],
                opened_on=start,
                actor=THERAPIST,
            )
            for definition, scores in ((phq9_definition(), phq9), (gad7_definition(), gad7)):
                goal_id = app.create_goal(episode_id, definition, actor=THERAPIST)
                for week, score in enumerate(scores):
                    app.record_measurement(
                        goal_id, score, actor=THERAPIST, observed_on=start + timedelta(weeks=week)
                    )
            for week in range(2):
                app.record_session(
                    episode_id, actor=THERAPIST, held_on=start + timedelta(weeks=week)
                )
            if close:
                app.close_episode(
                    episode_id,
                    reason="treatment finished",
                    actor=THERAPIST,
                    closed_on=start + timedelta(weeks=2),
                )
    document = run_json(db, "outcomes", "--therapist", "therapist-7")
    assert document["rule"]["name"] == "NHS Talking Therapies paired outcome"
    assert document["rule"]["version"]
    counts = document["by_therapist"]["therapist-7"]
    assert counts["finished_paired"] == 2
    assert counts["interim"] == 1
    assert counts["reliable_recovery"] == 1
    assert counts["reliable_deterioration"] == 1
    assert counts["rates"]["reliable_deterioration"] == 0.5
    assert document["overall"]["cases_at_start"] == 1
    assert sorted(e["label"] for e in document["episodes"]) == [
        "interim",
        "reliable deterioration",
        "reliable recovery",
    ]
    text = run(db, "outcomes").stdout
    assert "overall" in text
    assert "NHS Talking Therapies paired outcome" in text


def test_projections_status_and_rebuild(demo: dict[str, Any]) -> None:
    db = demo["db"]
    status = run_json(db, "projections", "status")
    head = status["head"]
    assert head > 0
    assert (status["position"], status["lag"]) == (0, head)
    rebuilt = run_json(db, "projections", "rebuild")
    assert rebuilt["applied"] == head
    assert rebuilt["lag"] == 0
    assert rebuilt["rows"]["gp_audit_log"] == head
    text = run(db, "projections", "rebuild")
    assert text.exit_code == 0
    assert f"rebuilt: {head} events" in text.stdout
