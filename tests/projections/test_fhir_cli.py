"""``goalpath export fhir``: the command line over the FHIR export, on the demo's SQLite store."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from fhir.resources import get_fhir_model_class as r5_model
from fhir.resources.R4B import get_fhir_model_class as r4b_model

from goalpath.cli.demo import CLIENT_ID, build_demo
from goalpath.cli.main import cli
from goalpath.core.application import GoalpathApp, local_today
from goalpath.core.goal import Goal


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo episode in a SQLite file, with the panic goal's review time."""
    db = tmp_path_factory.mktemp("fhir-cli") / "demo.db"
    with GoalpathApp(db) as app:
        built = build_demo(app, local_today())
        panic_goal = built["goal_ids"][0]
        reviewed = next(
            e for e in app.goal_events(panic_goal) if isinstance(e, Goal.Reviewed)
        ).timestamp
    return {"db": db, **built, "panic_goal": panic_goal, "reviewed_at": reviewed}


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), "export", "fhir", *args])


def bundle_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def goals(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]


def validate(bundle: dict[str, Any], version: str) -> None:
    model_for = r5_model if version == "R5" else r4b_model
    for entry in bundle["entry"]:
        model_for(entry["resource"]["resourceType"]).model_validate(entry["resource"])
    model_for("Bundle").model_validate(bundle)


def test_client_export_prints_one_r5_bundle(demo: dict[str, Any]) -> None:
    bundle = bundle_of(run(demo["db"], CLIENT_ID))
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "collection"
    assert [g["id"] for g in goals(bundle)] == [str(g) for g in demo["goal_ids"]]
    assert "source" in goals(bundle)[0]
    validate(bundle, "R5")


@pytest.mark.parametrize("spelling", ["R4B", "r4b"])
def test_episode_export_in_r4b(demo: dict[str, Any], spelling: str) -> None:
    result = run(demo["db"], "--episode", str(demo["episode_id"]), "--fhir-version", spelling)
    bundle = bundle_of(result)
    assert "expressedBy" in goals(bundle)[0]
    validate(bundle, "R4B")


def test_json_flag_prints_the_same_bundle(demo: dict[str, Any]) -> None:
    plain = bundle_of(run(demo["db"], CLIENT_ID))
    flagged = bundle_of(run(demo["db"], CLIENT_ID, "--json"))
    for bundle in (plain, flagged):
        del bundle["id"], bundle["timestamp"]
    assert plain == flagged


def test_output_writes_the_bundle_to_a_file(demo: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    result = run(demo["db"], CLIENT_ID, "--output", str(target), "--validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"to {target}" in result.stderr
    bundle = json.loads(target.read_text(encoding="utf-8"))
    assert len(bundle["entry"]) == int(result.stderr.split(" of ")[1].split()[0])
    validate(bundle, "R5")


def test_as_of_exports_the_plan_before_and_after_the_review(demo: dict[str, Any]) -> None:
    reviewed_at = demo["reviewed_at"]
    before = (reviewed_at - timedelta(microseconds=1)).isoformat()
    after = reviewed_at.isoformat()
    panic = str(demo["panic_goal"])
    goal_before = next(
        g
        for g in goals(bundle_of(run(demo["db"], CLIENT_ID, "--as-of", before)))
        if g["id"] == panic
    )
    goal_after = next(
        g
        for g in goals(bundle_of(run(demo["db"], CLIENT_ID, "--as-of", after)))
        if g["id"] == panic
    )
    assert "achievementStatus" not in goal_before
    assert goal_after["achievementStatus"]["coding"][0]["code"] == "improving"
    assert int(goal_after["meta"]["versionId"]) == int(goal_before["meta"]["versionId"]) + 1


@pytest.mark.parametrize(
    "args",
    [
        (),
        (CLIENT_ID, "--episode", "5a0c8d0e-6b1f-4c2e-9d3a-1f2e3d4c5b6a"),
        ("--episode", "not-a-uuid"),
        (CLIENT_ID, "--as-of", "yesterday"),
        (CLIENT_ID, "--fhir-version", "R4"),
    ],
)
def test_usage_errors_exit_2(demo: dict[str, Any], args: tuple[str, ...]) -> None:
    result = run(demo["db"], *args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("client-9999",), "no client with id client-9999"),
        ((CLIENT_ID, "--as-of", "2000-01-01"), "no client with id client-0042 as of 2000-01-01"),
        (("--episode", "5a0c8d0e-6b1f-4c2e-9d3a-1f2e3d4c5b6a"), "no episode"),
    ],
)
def test_refusals_exit_1_with_the_reason(
    demo: dict[str, Any], args: tuple[str, ...], message: str
) -> None:
    result = run(demo["db"], *args)
    assert result.exit_code == 1, result.output
    assert "goalpath: refused:" in result.stderr
    assert message in result.stderr
