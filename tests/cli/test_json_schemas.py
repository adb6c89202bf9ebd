"""Every ``--json`` output of the command line validates against its published JSON Schema.

One scenario over the demo's store (``goalpath demo`` writes it) runs every
command that prints JSON (each change, each read, the audit and plugin
commands, FHIR export and import) and refusals of several kinds, and checks
each document against its schema in :data:`goalpath.exports.schemas.SCHEMAS`
with the ``jsonschema`` library (draft 2020-12, formats checked). The
schemas committed in docs/schemas/ are the generated ones.
"""

from __future__ import annotations

import copy
import json
import shlex
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import jsonschema
import pytest
from click.testing import CliRunner

from goalpath.cli.demo import build_demo
from goalpath.cli.main import cli
from goalpath.core import GoalpathApp, NotFoundError
from goalpath.exports import documents
from goalpath.exports.schemas import COMMANDS, SCHEMAS, main, write_schemas
from goalpath.projections import Projections
from tests.cli.test_every_command import COMMANDS as COMMAND_PATHS

ROOT = Path(__file__).parents[2]
TODAY = date(2026, 5, 1)
SMART_STATEMENT = (
    "I will reduce my panic attacks from 3 to 1 per week within 6 weeks "
    "by practising daily breathing exercises"
)


@dataclass(frozen=True)
class Output:
    """One command's run: its words, the schema its stdout must satisfy, the document."""

    command: str
    schema: str
    exit_code: int
    document: Any


FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    """RFC 3339 times, with their offset (jsonschema checks them only with an extra package)."""
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = SCHEMAS[name]
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=FORMATS)


def command_of(words: str) -> str:
    """The command (``goal show``) that a command line's words (``goal show 1a2b``) run."""
    parts = shlex.split(words)
    return next(
        " ".join(parts[:length]) for length in (2, 1) if " ".join(parts[:length]) in COMMANDS
    )


class Scenario:
    """Runs goalpath commands on one store and keeps every JSON document they print."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = str(folder / "demo.db")
        self.runner = CliRunner()
        self.outputs: list[Output] = []

    def run(self, schema: str, words: str, *, code: int = 0, db: str | None = None) -> Any:
        arguments = ["--db", db or self.db, *shlex.split(words), "--json"]
        result = self.runner.invoke(cli, arguments, catch_exceptions=False)
        assert result.exit_code == code, (words, result.stdout, result.stderr)
        document = json.loads(result.stdout)
        self.outputs.append(Output(words, schema, result.exit_code, document))
        return document

    def change(self, schema: str, words: str, *, code: int = 0, db: str | None = None) -> Any:
        return self.run(schema, f"{words} --actor therapist-7 --role therapist", code=code, db=db)


def run_every_command(folder: Path) -> list[Output]:  # one scenario, in order
    s = Scenario(folder)
    runner = s.runner
    demo = runner.invoke(cli, ["demo", "--db", s.db, "--json"], catch_exceptions=False)
    assert demo.exit_code == 0, demo.stderr
    s.outputs.append(Output("demo", "demo", 0, json.loads(demo.stdout)))
    episode_id = s.outputs[0].document["episode_id"]
    goal_ids = s.outputs[0].document["goal_ids"]

    s.run("smart", f"smart {shlex.quote(SMART_STATEMENT)}")
    s.run("smart", "smart 'I want to be less anxious'")
    s.run("episode-list", "episode list")
    s.run("episode-list", "episode list --client no-such-client")
    s.run("goal-list", "goal list")
    s.run("goal-list", "goal list --status active --due")
    s.run("episode-show", f"episode show {episode_id}")
    for goal_id in goal_ids:
        s.run("goal", f"goal show {goal_id}")
        s.run("goal-history", f"goal history {goal_id}")
        s.run("goal-measurements", f"goal measurements {goal_id}")
        s.run("progress", f"progress {goal_id}")
        s.run("audit-log", f"audit log --goal {goal_id}")
    s.run("goal", f"goal show {goal_ids[0]} --version 1")
    s.run("goal-measurements", f"goal measurements {goal_ids[0]} --version 1")
    s.run("plan", f"plan show --episode {episode_id}")
    s.run("client-plans", "plan show client-0042")
    s.run("client-plans", "plan show client-0042 --as-of 2000-01-01")
    s.run("review-queue", "reviews due")
    s.run("review-queue", "reviews due --therapist therapist-7")
    s.run("audit-log", "audit log")
    s.run("outcomes", "outcomes")
    s.run("outcomes", "outcomes --therapist therapist-7")

    # Every change, on an episode of its own.
    opened = s.change(
        "episode",
        "episode open --client client-0099 --therapist therapist-7 --concern 'panic attacks'",
    )
    new_episode = opened["id"]
    s.change("episode", f"episode session {new_episode}")
    s.run(
        "episode",
        f"episode assign {new_episode} --therapist therapist-8 --actor lead-1 --role supervisor",
    )
    created = s.change(
        "goal",
        f"goal create {new_episode} --statement {shlex.quote(SMART_STATEMENT)}",
    )
    goal_id = created["id"]
    s.change("goal", f"goal activate {goal_id}")
    vague = s.change("goal", f"goal create {new_episode} --statement 'Sleep better'")
    s.change("goal", f"goal refine {goal_id} --reason 'a nearer target' --target 2")
    s.change("goal", f"goal measure {goal_id} 3")
    rows = folder / "rows.csv"
    rows.write_text("value,observed_on,note\n2,2000-01-01,old system\n", encoding="utf-8")
    s.change("error", f"goal import {goal_id} {rows}", code=1)  # before the goal's start
    rows.write_text(f"value,observed_on\n2,{created['definition']['start_on']}\n", encoding="utf-8")
    s.change("goal-import", f"goal import {goal_id} {rows}")
    s.change("goal", f"goal correct {goal_id} 1 --value 4 --reason 'misread'")
    s.change("goal", f"goal correct {goal_id} 2 --void --reason 'entered twice'")
    s.change("goal", f"goal review {goal_id} --achievement improving --decision continue")
    s.change("goal", f"goal retire {vague['id']} --reason-code no-longer-relevant --reason done")
    s.change("episode", f"episode close {new_episode} --reason 'discharged'")

    # The read models, plugins, templates.
    s.run("projections-status", "projections status")
    s.run("projections-rebuild", "projections rebuild")
    s.run("projections-run", "projections run --once")
    s.run("projections-verify", "projections verify")
    s.run("template-list", "templates list")
    s.run("template-list", "templates list --modality cbt")
    s.run("template", "templates show cbt.panic-frequency")
    s.run("plugins", "plugins")
    s.run("instruments", "instruments")
    s.run("plugin-new", f"plugin new dbt-skills --directory {folder}")

    # Audit, checkpoints and proofs, erasure.
    s.run("verification", "audit verify")
    s.run("access-log", "audit access")
    key, public = folder / "log.key", folder / "log.pub"
    s.run("signing-key", f"audit keygen --name demo-log --key {key} --public-key {public}")
    checkpoint = s.run("checkpoint", f"audit checkpoint --key {key}")
    kept = folder / "kept.checkpoint"
    kept.write_text(checkpoint["note"], encoding="utf-8")
    s.run("verification", f"audit verify --checkpoint {kept} --public-key {public}")
    s.run("inclusion-proof", "audit prove 1")
    s.run("consistency-proof", f"audit consistency {kept}")
    s.run(
        "erasure", "client erase client-0099 --reason 'request 7' --actor lead-1 --role supervisor"
    )
    s.run("purge", "audit purge")
    export = runner.invoke(
        cli, ["--db", s.db, "audit", "export", "--key", str(key), "--json"], catch_exceptions=False
    )
    assert export.exit_code == 0, export.stderr
    for line in export.stdout.splitlines():
        s.outputs.append(Output("audit export", "audit-export-line", 0, json.loads(line)))

    # FHIR: a bundle out, the bundle in (once; again is refused as an OperationOutcome).
    bundle = s.run("fhir-bundle", "export fhir client-0042 --bundle-type transaction")
    bundle_file = folder / "bundle.json"
    bundle_file.write_text(json.dumps(bundle), encoding="utf-8")
    other = str(folder / "other.db")
    s.change("episode", "episode open --client client-0100 --therapist therapist-7", db=other)
    importing = f"import fhir {bundle_file} --actor migration --role system"
    s.run("fhir-import", importing, db=other)
    s.run("operation-outcome", importing, db=other, code=1)

    # The server: what it prints before it serves (uvicorn itself is not started here).
    with mock.patch("uvicorn.run") as serving:
        s.run("serving", "serve --insecure-dev --port 8123 --workers 2")
    assert serving.call_count == 1

    # Refusals: every kind the command line gives is one error document.
    s.run("error", "goal show 6f1d2c1e-0000-4000-8000-00000000dead", code=1)
    s.run("error", f"goal show {goal_ids[0]} --no-such-option", code=2)
    s.change("error", f"goal measure {goal_ids[0]} nan", code=1)
    s.change("error", f"goal activate {vague['id']}", code=1)
    s.run("error", f"goal measure {goal_ids[0]} 1 --actor client-0001 --role client", code=1)
    s.run("error", "goal list", db=str(folder / "missing.db"), code=1)
    return s.outputs


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list[Output]:
    return run_every_command(tmp_path_factory.mktemp("json-schemas"))


def test_every_output_validates_against_its_schema(outputs: list[Output]) -> None:
    failures = [
        f"{output.command} ({output.schema}): {error.json_path}: {error.message}"
        for output in outputs
        for error in validator(output.schema).iter_errors(output.document)
    ]
    assert failures == []


def test_each_output_is_a_document_its_command_publishes(outputs: list[Output]) -> None:
    for output in outputs:
        published = COMMANDS[command_of(output.command)]
        expected = {"error"} if output.exit_code else set(published)
        if command_of(output.command) == "import fhir":
            expected = set(published) | expected
        assert output.schema in expected, output.command


def test_every_command_and_every_schema_is_covered(outputs: list[Output]) -> None:
    assert set(COMMANDS) == {" ".join(path) for path in COMMAND_PATHS}
    succeeded = {command_of(output.command) for output in outputs if output.exit_code == 0}
    assert succeeded == set(COMMANDS)
    assert {output.schema for output in outputs} == set(SCHEMAS)
    published = {name for names in COMMANDS.values() for name in names}
    assert published | {"error"} == set(SCHEMAS)


def test_the_error_schema_catches_a_wrong_field(outputs: list[Output]) -> None:
    """A schema that could not fail would prove nothing: small changes are refused."""
    error = next(output.document for output in outputs if output.schema == "error")
    check = validator("error")
    assert check.is_valid(error)
    renamed = copy.deepcopy(error)
    renamed["error"]["kind"] = renamed["error"].pop("type")
    assert not check.is_valid(renamed)
    unknown_code = copy.deepcopy(error)
    unknown_code["error"]["code"] = "no-such-code"
    assert not check.is_valid(unknown_code)
    goal = next(output.document for output in outputs if output.schema == "goal")
    goal_check = validator("goal")
    assert goal_check.is_valid(goal)
    for broken in (
        {**goal, "status": "finished"},
        {**goal, "version": "1"},
        {**goal, "extra": 1},
        {key: value for key, value in goal.items() if key != "smart"},
        {**goal, "next_review_due": "next week"},
    ):
        assert not goal_check.is_valid(broken), broken


def test_the_committed_schemas_are_the_generated_ones(tmp_path: Path) -> None:
    written = write_schemas(tmp_path)
    committed = ROOT / "docs" / "schemas"
    assert sorted(path.name for path in written) == sorted(
        path.name for path in committed.glob("*.json")
    )
    for path in written:
        assert (committed / path.name).read_text(encoding="utf-8") == path.read_text(
            encoding="utf-8"
        ), f"docs/schemas/{path.name} differs: run python -m goalpath.exports.schemas docs/schemas"


def test_the_writer_writes_every_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "schemas")]) == 0
    written = capsys.readouterr().out.split()
    assert len(written) == len(SCHEMAS)
    assert json.loads(Path(written[0]).read_text(encoding="utf-8")) == next(iter(SCHEMAS.values()))
    assert main([]) == 2


def test_the_documents_module_makes_the_published_documents() -> None:
    """A host's own API, serving goalpath.exports.documents, serves the same documents."""
    with GoalpathApp(":memory:", today=lambda: TODAY) as app, Projections(app) as projections:
        built = build_demo(app, TODAY)
        episode_id, goal_ids = built["episode_id"], built["goal_ids"]
        made = {
            "goal": [documents.goal_document(app.get_goal(goal_id)) for goal_id in goal_ids],
            "episode": [documents.episode_document(app.get_episode(episode_id))],
            "plan": [documents.plan_document(projections.plan_for_episode(episode_id))],
            "progress": [documents.progress_document(projections.progress(g)) for g in goal_ids],
            "outcomes": [documents.outcomes_document(projections.caseload_outcomes())],
            "projections-status": [documents.status_document(projections.status())],
            "error": [documents.error_document(NotFoundError("goal", "1234"))],
        }
        reviews = [documents.review_document(item) for item in projections.reviews_due()]
        entries = [documents.audit_document(entry) for entry in projections.audit_log()]
    made["review-queue"] = [{"today": TODAY.isoformat(), "therapist_id": None, "reviews": reviews}]
    made["audit-log"] = [{"entries": entries}]
    assert reviews
    assert entries
    for name, made_documents in made.items():
        for document in made_documents:
            assert list(validator(name).iter_errors(document)) == [], name
