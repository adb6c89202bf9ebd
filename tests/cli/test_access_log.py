"""The access log (done-when 4 of the many-users issue) and the CLI's principals.

A plan read, a history read and a FHIR export by three principals appear in
``audit access --json`` as exactly those three reads, with who, when and
what; the records are sealed like the events, so ``audit verify`` finds a
flipped bit in one; they survive the client's erasure; and with
``GOALPATH_ENV=production`` a command without an explicit principal is refused.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner, Result

from goalpath.cli.common import LOCAL_READER
from goalpath.cli.main import cli
from goalpath.core.access import AccessRecord
from goalpath.core.application import GoalpathApp
from goalpath.core.authorization import Principal
from goalpath.core.errors import NotAuthorizedError
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, SUPERVISOR, THERAPIST, TODAY

CLIENT = "client-1"


def run(db: Path, *args: str, **env: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], env=env, catch_exceptions=False)


def as_reader(actor: str, role: str, source: str = "clinic-sso") -> dict[str, str]:
    return {"GOALPATH_ACTOR": actor, "GOALPATH_ROLE": role, "GOALPATH_ASSERTED_BY": source}


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, UUID, UUID]:
    db = tmp_path / "gp.db"
    with GoalpathApp(db, today=lambda: TODAY) as app:
        episode = app.open_episode(
            client_id=CLIENT, therapist_ids=["therapist-7"], opened_on=OPENED_ON, actor=THERAPIST
        )
        goal = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
        app.record_measurement(goal, 3, actor=THERAPIST, observed_on=GOAL_START)
    return db, episode, goal


def test_three_reads_by_three_principals_are_listed_with_who_when_and_what(
    store: tuple[Path, UUID, UUID],
) -> None:
    db, episode, goal = store
    started = datetime.now(UTC)
    reads = [
        (["plan", "show", "--episode", str(episode)], as_reader("therapist-7", "therapist")),
        (["goal", "history", str(goal)], as_reader("auditor-1", "auditor", "audit-portal")),
        (["export", "fhir", CLIENT], as_reader("ehr-sync", "system", "ehr-integration")),
    ]
    for args, env in reads:
        result = run(db, *args, "--json", **env)
        assert result.exit_code == 0, result.output
    listed = run(db, "audit", "access", "--json", **as_reader("auditor-1", "auditor"))
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)["reads"]

    assert [
        (e["actor_id"], e["actor_role"], e["asserted_by"], e["read"], e["client_id"])
        for e in entries
    ] == [
        ("therapist-7", "therapist", "clinic-sso", "plan", CLIENT),
        ("auditor-1", "auditor", "audit-portal", "history", CLIENT),
        ("ehr-sync", "system", "ehr-integration", "fhir-export", CLIENT),
    ]
    assert [(e["episode_id"], e["goal_id"]) for e in entries] == [
        (str(episode), None),
        (str(episode), str(goal)),
        (None, None),
    ]
    times = [datetime.fromisoformat(e["read_at"]) for e in entries]
    assert started <= times[0] <= times[1] <= times[2] <= datetime.now(UTC)
    # No health content: identifiers, roles, kinds of read and times only.
    assert "panic" not in listed.stdout.lower()

    # Reading the access log was itself recorded, after the listing.
    again = run(db, "audit", "access", "--json", "--actor", "auditor-1", **as_reader("s", "system"))
    assert [e["read"] for e in json.loads(again.stdout)["reads"]] == ["history", "access-log"]


def test_the_listing_filters_by_client_actor_and_time(store: tuple[Path, UUID, UUID]) -> None:
    db, episode, goal = store
    with GoalpathApp(db, today=lambda: TODAY) as app:
        app.get_goal(goal, principal=THERAPIST, purpose="session preparation")
        middle = datetime.now(UTC)
        app.list_goals(episode, principal=SUPERVISOR)
        auditor = Principal("auditor-1", "auditor")
        assert [e.read for e in app.access_log(principal=auditor, actor_id="therapist-7")] == [
            "goal"
        ]
        assert [e.purpose for e in app.access_log(principal=auditor, until=middle)] == [
            "session preparation"
        ]
        since = app.access_log(principal=auditor, since=middle)
        assert [e.actor_id for e in since] == ["supervisor-1", "auditor-1", "auditor-1"]
        assert app.access_log(principal=auditor, client_id="someone-else") == []
        with pytest.raises(NotAuthorizedError, match="access-log-is-for-oversight"):
            app.access_log(principal=THERAPIST)


def test_a_refused_read_is_not_logged_and_reads_nothing(store: tuple[Path, UUID, UUID]) -> None:
    db, _episode, goal = store
    result = run(db, "goal", "show", str(goal), **as_reader("therapist-8", "therapist"))
    assert result.exit_code == 1
    assert "therapist-acts-on-assigned-episodes" in result.stderr
    listed = run(db, "audit", "access", "--json")
    assert json.loads(listed.stdout)["reads"] == []


def _access_records(db: Path) -> int:
    with GoalpathApp(db, today=lambda: TODAY) as app:  # no principal: not itself logged
        return sum(isinstance(e, AccessRecord.Recorded) for _position, e in app.iter_events())


LONG_AGO = "2000-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("read", "failing"),
    [
        (["goal", "show", "{goal}"], ["--as-of", LONG_AGO]),
        (["goal", "show", "{goal}"], ["--version", "99"]),
        (["progress", "{goal}"], ["--as-of", LONG_AGO]),
        (["progress", "{goal}"], ["--png", "{missing}/chart.png"]),
        (["plan", "show", "--episode", "{episode}"], ["--as-of", LONG_AGO]),
        (["export", "fhir", CLIENT], ["--as-of", LONG_AGO]),
        (["export", "fhir", "--episode", "{episode}"], ["--as-of", LONG_AGO]),
        (["audit", "export"], ["--since", "not a time"]),
    ],
    ids=[
        "goal before it was stated",
        "goal version that does not exist",
        "progress before the goal",
        "progress chart to no folder",
        "plan before the episode",
        "client export before the client",
        "episode export before the episode",
        "audit export with a bad time",
    ],
)
def test_an_allowed_read_that_fails_leaves_the_access_log_as_it_was(
    store: tuple[Path, UUID, UUID], read: list[str], failing: list[str]
) -> None:
    db, episode, goal = store
    names = {"goal": goal, "episode": episode, "missing": db.parent / "missing"}
    read = [part.format(**names) for part in read]
    failed = run(db, *read, *(part.format(**names) for part in failing))
    assert failed.exit_code in (1, 2), failed.output
    assert _access_records(db) == 0
    answered = run(db, *read)  # the same read, allowed and answered: logged once
    assert answered.exit_code == 0, answered.output
    assert _access_records(db) == 1


def _flip_a_bit_of_the_first_access_record(db: Path) -> None:
    with GoalpathApp(db, today=lambda: TODAY) as app:
        record_id = next(
            event.originator_id
            for _position, event in app.iter_events()
            if isinstance(event, AccessRecord.Recorded)
        )
    with sqlite3.connect(db) as connection:
        (state,) = connection.execute(
            "SELECT state FROM stored_events WHERE originator_id = ?", (record_id.hex,)
        ).fetchone()
        flipped = bytearray(state)
        flipped[len(flipped) // 2] ^= 0x01
        connection.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = ?",
            (bytes(flipped), record_id.hex),
        )


def test_audit_verify_covers_the_access_records(store: tuple[Path, UUID, UUID]) -> None:
    db, episode, _goal = store
    assert run(db, "plan", "show", "--episode", str(episode), "--json").exit_code == 0
    verified = run(db, "audit", "verify", "--json")
    assert verified.exit_code == 0, verified.output
    _flip_a_bit_of_the_first_access_record(db)
    tampered = run(db, "audit", "verify", "--json")
    assert tampered.exit_code == 1, tampered.output
    problems: list[Any] = json.loads(tampered.stdout)["problems"]
    assert problems, tampered.stdout


def test_access_records_survive_the_clients_erasure(store: tuple[Path, UUID, UUID]) -> None:
    db, episode, _goal = store
    with GoalpathApp(db, today=lambda: TODAY) as app:
        app.list_goals(episode, principal=THERAPIST)
        app.erase_client(CLIENT, reason="erasure request 12", actor=SUPERVISOR)
        entries = app.access_log(principal=SUPERVISOR)
        assert [(e.read, e.client_id, e.episode_id) for e in entries] == [("plan", CLIENT, episode)]
        assert app.verify().ok


def test_production_needs_an_explicit_principal(store: tuple[Path, UUID, UUID]) -> None:
    db, _episode, goal = store
    key = Path(f"{db}.key").read_text(encoding="utf-8").strip()
    production = {"GOALPATH_ENV": "production", "GOALPATH_KEY": key}
    refused = run(db, "goal", "measure", str(goal), "2", "--actor", "therapist-7", **production)
    assert refused.exit_code == 2
    assert "explicit principal" in refused.output
    assert "GOALPATH_ASSERTED_BY" in refused.output
    refused_read = run(db, "goal", "history", str(goal), **production)
    assert refused_read.exit_code == 2
    assert "GOALPATH_ACTOR" in refused_read.output
    explicit = {**production, **as_reader("therapist-7", "therapist", "clinic-sso")}
    assert run(db, "goal", "history", str(goal), **explicit).exit_code == 0
    measured = run(db, "goal", "measure", str(goal), "2", "--actor", "therapist-7", **explicit)
    assert measured.exit_code == 0, measured.output


PURPOSE = "TREAT"


@pytest.mark.parametrize(
    ("args", "read"),
    [
        (["plan", "show", "--episode", "{episode}"], "plan"),
        (["goal", "show", "{goal}"], "goal"),
        (["goal", "measurements", "{goal}"], "goal"),
        (["goal", "history", "{goal}"], "history"),
        (["export", "fhir", CLIENT], "fhir-export"),
        (["audit", "access"], "access-log"),
    ],
)
def test_every_read_command_logs_the_purpose_it_was_given(
    store: tuple[Path, UUID, UUID], args: list[str], read: str
) -> None:
    """``GOALPATH_PURPOSE`` reaches the access record of each read command's read."""
    db, episode, goal = store
    env = {"GOALPATH_PURPOSE": PURPOSE}  # the local operator, who may make every read
    command = [arg.format(episode=episode, goal=goal) for arg in args]
    result = run(db, *command, "--json", **env)
    assert result.exit_code == 0, result.output
    with GoalpathApp(db, today=lambda: TODAY) as app:
        [last] = app.access_log(principal=Principal("auditor-1", "auditor", "test"))[-1:]
    assert (last.read, last.actor_id, last.purpose) == (read, LOCAL_READER, PURPOSE)
