"""Make the golden store: a SQLite store written by goalpath as it was, kept under ``tests/golden``.

Run once, from the repository root: ``python tests/golden/make_golden_store.py``. The
committed ``golden.db``, its key file and ``expected.json`` were made by this script at
the commit that added them (before the architecture change); the test
``tests/core/test_golden_store.py`` opens that file with today's code and checks that it
verifies, replays and projects to the plan recorded in ``expected.json``. Never regenerate
the committed files: a store that later code cannot read is exactly what the test is for.

Every event class of ``Episode`` and ``Goal`` and the client erasure is present, so every
stored topic must keep resolving.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from goalpath.cli.demo import build_demo, remove_store
from goalpath.core.application import GoalpathApp
from goalpath.core.values import Actor, GoalDefinition, Measure, Target
from goalpath.modalities import instantiate_template
from goalpath.projections import Projections

HERE = Path(__file__).resolve().parent
GOLDEN_DB = HERE / "golden.db"
EXPECTED = HERE / "expected.json"
GOLDEN_TODAY = date(2026, 12, 1)
"""The application clock the store was written with, and the day its plans are read on."""

THERAPIST = Actor("therapist-7", "therapist")
SECOND_THERAPIST = Actor("therapist-9", "therapist")
SUPERVISOR = Actor("supervisor-1", "supervisor")
CLIENT_B = "client-0100"
CLIENT_ERASED = "client-0200"


def build_second_client(app: GoalpathApp) -> dict[str, Any]:
    """An episode with every remaining event: assignment, pause/resume, retirement, closure."""
    opened_on = GOLDEN_TODAY - timedelta(weeks=12)
    episode_id = app.open_episode(
        client_id=CLIENT_B,
        therapist_ids=["therapist-9"],
        concerns=["low mood", "withdrawal"],
        opened_on=opened_on,
        actor=SECOND_THERAPIST,
    )
    app.assign_therapist(episode_id, "therapist-7", actor=SUPERVISOR)
    app.record_session(episode_id, held_on=opened_on, actor=SECOND_THERAPIST)
    app.record_session(
        episode_id, held_on=opened_on + timedelta(weeks=1), attended=False, actor=SECOND_THERAPIST
    )
    depression = instantiate_template(
        "cbt.low-mood-phq9",
        {"baseline": 18, "target": 9},
        start_on=opened_on,
    )
    phq_goal = app.create_goal(
        episode_id,
        depression.definition,
        actor=SECOND_THERAPIST,
        activate=True,
        template_id=depression.template_id,
        template_version=depression.template_version,
    )
    for week, score in enumerate((18, 15, 12, 8)):
        app.record_measurement(
            phq_goal,
            score,
            observed_on=opened_on + timedelta(weeks=2 * week + 1),
            actor=SECOND_THERAPIST,
        )
    app.review_goal(
        phq_goal,
        achievement="improving",
        decision="pause",
        reviewed_on=opened_on + timedelta(weeks=6),
        attainment=0,
        note="holiday for three weeks",
        actor=SECOND_THERAPIST,
    )
    app.review_goal(
        phq_goal,
        achievement="improving",
        decision="resume",
        reviewed_on=opened_on + timedelta(weeks=9),
        attainment=1,
        actor=SECOND_THERAPIST,
    )
    walks = app.create_goal(
        episode_id,
        GoalDefinition(
            statement="Walk outside for 20 minutes on 5 days each week within 8 weeks",
            start_on=opened_on + timedelta(weeks=1),
            measure=Measure(name="days with a walk", unit="days per week", direction="increase"),
            target=Target(baseline=1, value=5, due_on=opened_on + timedelta(weeks=9)),
            area="behavioural-change",
            focus="strength-building",
        ),
        actor=SECOND_THERAPIST,
    )
    app.activate_goal(walks, actor=Actor(CLIENT_B, "client"))
    app.record_measurement(
        walks, 2, observed_on=opened_on + timedelta(weeks=2), actor=SECOND_THERAPIST
    )
    app.record_measurement(
        walks, 5, observed_on=opened_on + timedelta(weeks=8), actor=Actor(CLIENT_B, "client")
    )
    app.correct_measurement(
        walks, 2, value=None, reason="recorded against the wrong week", actor=SECOND_THERAPIST
    )
    app.retire_goal(
        walks,
        reason_code="achieved",
        reason="walking five days a week for a month",
        retired_on=opened_on + timedelta(weeks=9),
        actor=SECOND_THERAPIST,
    )
    typo = app.create_goal(
        episode_id,
        GoalDefinition(statement="duplicate entry", start_on=opened_on + timedelta(weeks=2)),
        actor=SECOND_THERAPIST,
    )
    app.retire_goal(
        typo,
        reason_code="entered-in-error",
        reason="entered twice by mistake",
        retired_on=opened_on + timedelta(weeks=2),
        actor=SECOND_THERAPIST,
    )
    app.close_episode(
        episode_id,
        reason="agreed ending after twelve weeks",
        closed_on=GOLDEN_TODAY - timedelta(days=1),
        actor=SECOND_THERAPIST,
    )
    return {"episode_id": episode_id, "goal_ids": [phq_goal, walks, typo]}


def build_erased_client(app: GoalpathApp) -> dict[str, Any]:
    """A client whose data was erased (crypto-shredded) after a few events."""
    opened_on = GOLDEN_TODAY - timedelta(weeks=3)
    episode_id = app.open_episode(
        client_id=CLIENT_ERASED,
        therapist_ids=["therapist-7"],
        concerns=["sleep"],
        opened_on=opened_on,
        actor=THERAPIST,
    )
    goal = app.create_goal(
        episode_id,
        GoalDefinition(statement="sleep better, a confidential note", start_on=opened_on),
        actor=THERAPIST,
    )
    app.erase_client(CLIENT_ERASED, reason="client asked for erasure", actor=SUPERVISOR)
    return {"episode_id": episode_id, "goal_ids": [goal]}


def plan_digest(plan: Any, app: GoalpathApp) -> dict[str, Any]:
    """What must stay the same of a plan: ids, statements, statuses, latest values, due dates.

    And each goal's measurements, from ``app`` (a plan holds the latest only).
    """
    return {
        "episode_id": str(plan.episode.episode_id),
        "client_id": plan.episode.client_id,
        "goals": [
            {
                "goal_id": str(goal.record.goal_id),
                "statement": goal.record.definition.statement,
                "status": goal.record.status,
                "version": goal.record.version,
                "measurements": [
                    [item.sequence, item.value, item.status]
                    for item in app.goal_measurements(goal.record.goal_id)
                ],
                "latest": None if goal.latest is None else goal.latest.value,
                "next_review_due": None
                if goal.next_review_due is None
                else goal.next_review_due.isoformat(),
            }
            for goal in plan.goals
        ],
        "ended": [
            {"goal_id": str(goal.record.goal_id), "status": goal.record.status}
            for goal in plan.ended
        ],
        "warnings": sorted(warning.code for warning in plan.warnings),
        "gas_t_score": None if plan.gas_t_score is None else round(plan.gas_t_score, 2),
    }


def main() -> int:
    """Write golden.db, golden.db.key and expected.json beside this file."""
    remove_store(GOLDEN_DB)
    app = GoalpathApp(GOLDEN_DB, today=lambda: GOLDEN_TODAY)
    try:
        demo = build_demo(app, GOLDEN_TODAY)
        second = build_second_client(app)
        erased = build_erased_client(app)
        report = app.verify()
        goals = {
            str(goal_id): {
                "version": app.get_goal(goal_id).version,
                "status": app.get_goal(goal_id).status,
                "events": [type(event).__qualname__ for event in app.goal_events(goal_id)],
            }
            for goal_id in demo["goal_ids"] + second["goal_ids"]
        }
        with Projections(app) as projections:
            projections.catch_up()
            plans = {
                client: [
                    plan_digest(plan, app)
                    for plan in projections.plan_for_client(client, today=GOLDEN_TODAY)
                ]
                for client in ("client-0042", CLIENT_B)
            }
        expected = {
            "made_at": datetime.now(UTC).isoformat(),
            "today": GOLDEN_TODAY.isoformat(),
            "records_checked": report.records_checked,
            "streams_checked": report.streams_checked,
            "erased_streams": report.erased_streams,
            "verified_ok": report.ok,
            "erased_goal_ids": [str(goal_id) for goal_id in erased["goal_ids"]],
            "erased_episode_id": str(erased["episode_id"]),
            "goals": goals,
            "plans": plans,
        }
    finally:
        app.close()
    EXPECTED.write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
