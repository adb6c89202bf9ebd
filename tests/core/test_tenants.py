"""Two tenants in one PostgreSQL database: neither sees the other's goals, read models or audit.

Each tenant is a schema of its own (``goalpath_<tenant>``) with its own
events, keys and read models. Both tenants here even share a client id, so
a leak through a client id would show.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from goalpath.cli.demo import build_demo
from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp
from goalpath.core.application.audit import export_rows
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.errors import NotFoundError
from goalpath.core.values import Actor
from goalpath.projections import Projections
from tests.conftest import fixed_today
from tests.postgres_support import PostgresTenant, require_postgres
from tests.projections.strategies import phq9_definition
from tests.strategies import GOAL_START, OPENED_ON, TODAY

SHARED_CLIENT = "client-0042"  # the demo's client id: both tenants have a client of that id
OTHER_THERAPIST = Actor("therapist-b1", "therapist")


@pytest.fixture
def tenants() -> Iterator[tuple[PostgresTenant, PostgresTenant]]:
    url = require_postgres()
    first, second = PostgresTenant(url), PostgresTenant(url)
    try:
        yield first, second
    finally:
        first.drop()
        second.drop()


def _app(tenant: PostgresTenant) -> GoalpathApp:
    return GoalpathApp(
        tenant.url, tenant=tenant.tenant, master_key=tenant.master_key, today=fixed_today
    )


def _record_second_tenant(app: GoalpathApp) -> dict[str, Any]:
    episode_id = app.open_episode(
        client_id=SHARED_CLIENT,
        therapist_ids=[OTHER_THERAPIST.id],
        concerns=["panic attacks"],
        opened_on=OPENED_ON,
        actor=OTHER_THERAPIST,
    )
    goal_id = app.create_goal(episode_id, phq9_definition(), actor=OTHER_THERAPIST, activate=True)
    for week, score in enumerate((17, 9)):
        app.record_measurement(
            goal_id,
            score,
            actor=OTHER_THERAPIST,
            observed_on=GOAL_START + timedelta(weeks=week),
        )
    return {"episode_id": episode_id, "goal_ids": [goal_id]}


def _streams(app: GoalpathApp) -> set[UUID]:
    return {UUID(str(row["stream_id"])) for row in export_rows(app)}


def test_neither_tenant_sees_the_other_s_goals_read_models_or_audit(
    tenants: tuple[PostgresTenant, PostgresTenant],
) -> None:
    first, second = tenants
    with _app(first) as app_a, _app(second) as app_b:
        built = {"a": build_demo(app_a, TODAY), "b": _record_second_tenant(app_b)}
        apps = {"a": app_a, "b": app_b}
        with Projections(app_a) as read_a, Projections(app_b) as read_b:
            reads = {"a": read_a, "b": read_b}
            for mine, theirs in (("a", "b"), ("b", "a")):
                app, read, other = apps[mine], reads[mine], built[theirs]
                own_streams = {built[mine]["episode_id"], *built[mine]["goal_ids"]}
                # Commands and reads of the event store.
                with pytest.raises(NotFoundError):
                    app.get_episode(other["episode_id"])
                for goal_id in other["goal_ids"]:
                    with pytest.raises(NotFoundError):
                        app.get_goal(goal_id)
                    with pytest.raises(NotFoundError):
                        read.progress(goal_id)
                # Read models: plans, audit log, review queue, caseload.
                with pytest.raises(NotFoundError):
                    read.plan_for_episode(other["episode_id"])
                assert read.episode_ids_of_client(SHARED_CLIENT) == [built[mine]["episode_id"]]
                logged = {entry.stream_id for entry in read.audit_log()}
                assert logged == own_streams
                assert len(read.audit_log()) == engine_of(app).recorder.max_notification_id()
                queued = {item.goal_id for item in read.reviews_due(within_days=365)}
                assert queued <= set(built[mine]["goal_ids"])
                assert queued  # each tenant has goals due, so an empty queue proves nothing
                therapists = set(read.caseload_outcomes().by_therapist)
                assert therapists == ({"therapist-7"} if mine == "a" else {OTHER_THERAPIST.id})
                # The auditor's export.
                assert _streams(app) == own_streams


def test_the_cli_keeps_tenants_apart(tenants: tuple[PostgresTenant, PostgresTenant]) -> None:
    first, second = tenants
    with _app(first) as app_a, _app(second) as app_b:
        episode_a = build_demo(app_a, TODAY)["episode_id"]
        episode_b = _record_second_tenant(app_b)["episode_id"]

    def run(tenant: PostgresTenant, *args: str) -> Any:
        return CliRunner().invoke(
            cli,
            ["--db", tenant.url, "--tenant", tenant.tenant, *args],
            env={"GOALPATH_KEY": tenant.master_key.to_text()},
            catch_exceptions=False,
        )

    for tenant, own, other in ((first, episode_a, episode_b), (second, episode_b, episode_a)):
        plans = json.loads(run(tenant, "plan", "show", SHARED_CLIENT, "--json").stdout)
        assert [plan["episode_id"] for plan in plans["plans"]] == [str(own)]
        refused = run(tenant, "plan", "show", "--episode", str(other), "--json")
        assert refused.exit_code == 1
        assert "no episode" in refused.stderr
        exported = run(tenant, "audit", "export", "--format", "jsonl").stdout.splitlines()
        assert exported
        assert str(other) not in "\n".join(exported)
        assert {json.loads(line)["stream_id"] for line in exported} >= {str(own)}
