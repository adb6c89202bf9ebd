"""The built-in policy as a table: every role x every command and read x assigned or not.

Done-when 3 of the many-users issue: each cell is run against a copy of one
SQLite store through :class:`GoalpathApp`; an allowed command succeeds, a
refused one raises :class:`NotAuthorizedError` naming its rule and leaves
the store's files byte-identical.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from uuid import UUID

import pytest

from goalpath.core.application import GoalpathApp
from goalpath.core.authorization import (
    COMMANDS,
    READS,
    ClinicalPolicy,
    Decision,
    Principal,
    Subject,
    as_principal,
)
from goalpath.core.errors import InvalidValueError, NotAuthorizedError, NotFoundError
from goalpath.core.goal import Goal
from goalpath.core.values import Actor
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, THERAPIST, TODAY

CLIENT: Final = "client-1"
ROLE_PRINCIPALS: Final = {
    # role: (the principal assigned to / owning the episode, one who is not)
    "therapist": (Principal("therapist-7", "therapist"), Principal("therapist-8", "therapist")),
    "client": (Principal(CLIENT, "client"), Principal("client-2", "client")),
    "supervisor": (Principal("supervisor-1", "supervisor"),) * 2,
    "auditor": (Principal("auditor-1", "auditor"),) * 2,
    "system": (Principal("ehr-sync", "system"),) * 2,
}

EVERYTHING: Final = frozenset(COMMANDS) | frozenset(READS)
ALLOWED: Final[dict[tuple[str, bool], frozenset[str]]] = {
    ("system", True): EVERYTHING,
    ("system", False): EVERYTHING,
    ("supervisor", True): EVERYTHING,
    ("supervisor", False): EVERYTHING,
    ("auditor", True): frozenset({"history", "audit-export", "fhir-export", "access-log"}),
    ("auditor", False): frozenset({"history", "audit-export", "fhir-export", "access-log"}),
    ("therapist", True): EVERYTHING - {"assign_therapist", "erase_client", "access-log"},
    ("therapist", False): frozenset({"open_episode"}),
    ("client", True): frozenset(
        {"create_goal", "refine_goal", "activate_goal", "record_measurement"}
        | {"episode", "plan", "goal", "progress", "history", "fhir-export"}
    ),
    ("client", False): frozenset(),
}
"""The expected decisions: what each role may do, assigned (or own record) and not."""

CASES: Final = [
    (role, action, assigned)
    for role in ROLE_PRINCIPALS
    for action in (*COMMANDS, *READS)
    for assigned in (True, False)
]


def _build(app: GoalpathApp) -> dict[str, UUID]:
    """One episode of client-1 with therapist-7: an active goal, a clinician's proposal, the
    client's own proposal."""
    episode = app.open_episode(
        client_id=CLIENT,
        therapist_ids=["therapist-7"],
        concerns=["panic attacks"],
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )
    active = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST, activate=True)
    app.record_measurement(active, 3, actor=THERAPIST, observed_on=GOAL_START)
    proposal = app.create_goal(episode, CATALOG["panic"].definition, actor=THERAPIST)
    own = app.create_goal(episode, CATALOG["vague"].definition, actor=Actor(CLIENT, "client"))
    return {"episode": episode, "active": active, "proposal": proposal, "own": own}


COMMAND_CALLS: Final[dict[str, Callable[[GoalpathApp, dict[str, UUID], Principal], object]]] = {
    "open_episode": lambda app, _ids, who: app.open_episode(
        client_id=CLIENT, therapist_ids=["therapist-7"], opened_on=TODAY, actor=who
    ),
    "record_session": lambda app, ids, who: app.record_session(
        ids["episode"], held_on=TODAY, actor=who
    ),
    "assign_therapist": lambda app, ids, who: app.assign_therapist(
        ids["episode"], "therapist-9", actor=who
    ),
    "close_episode": lambda app, ids, who: app.close_episode(
        ids["episode"], reason="discharged", closed_on=TODAY, actor=who
    ),
    "create_goal": lambda app, ids, who: app.create_goal(
        ids["episode"], CATALOG["vague"].definition, actor=who
    ),
    "refine_goal": lambda app, ids, who: app.refine_goal(
        ids["own"], reason="in my own words", statement="I want to feel calmer", actor=who
    ),
    "activate_goal": lambda app, ids, who: app.activate_goal(ids["proposal"], actor=who),
    "record_measurement": lambda app, ids, who: app.record_measurement(
        ids["active"], 2, observed_on=TODAY, actor=who
    ),
    "import_measurements": lambda app, ids, who: app.import_measurements(
        ids["active"], [(2.0, TODAY - timedelta(days=1), None)], actor=who
    ),
    "correct_measurement": lambda app, ids, who: app.correct_measurement(
        ids["active"], 1, value=2, reason="typed 3 for 2", actor=who
    ),
    "review_goal": lambda app, ids, who: app.review_goal(
        ids["active"], achievement="improving", decision="continue", reviewed_on=TODAY, actor=who
    ),
    "retire_goal": lambda app, ids, who: app.retire_goal(
        ids["active"], reason_code="achieved", reason="met", retired_on=TODAY, actor=who
    ),
    "erase_client": lambda app, _ids, who: app.erase_client(CLIENT, reason="request 12", actor=who),
}
READ_TARGETS: Final = {
    "episode": "episode",
    "plan": "episode",
    "goal": "goal",
    "progress": "goal",
    "history": "goal",
    "audit-export": "client",
    "fhir-export": "client",
    "access-log": "client",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, UUID]]:
    folder = tmp_path_factory.mktemp("template")
    with GoalpathApp(folder / "gp.db", today=lambda: TODAY) as app:
        ids = _build(app)
    return folder, ids


def _store_files(folder: Path) -> dict[str, bytes]:
    # The -shm file is SQLite's shared-memory index, rewritten by readers too.
    return {
        path.name: path.read_bytes()
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.endswith("-shm")
    }


def _read(app: GoalpathApp, ids: dict[str, UUID], who: Principal, read: Any) -> object:
    target = READ_TARGETS[read]
    named: dict[str, Any] = {"client_id": CLIENT}
    if target == "episode":
        named = {"episode_id": ids["episode"]}
    elif target == "goal":
        named = {"goal_id": ids["active"]}
    with app.reading(who, read, **named) as record_id:
        return record_id


@pytest.mark.parametrize(("role", "action", "assigned"), CASES)
def test_the_policy_table(
    template: tuple[Path, dict[str, UUID]],
    tmp_path: Path,
    role: str,
    action: str,
    assigned: bool,
) -> None:
    folder, ids = template
    store = tmp_path / "store"
    shutil.copytree(folder, store)
    who = ROLE_PRINCIPALS[role][0 if assigned else 1]
    allowed = action in ALLOWED[role, assigned]
    before = _store_files(store)
    with GoalpathApp(store / "gp.db", today=lambda: TODAY) as app:
        run = COMMAND_CALLS.get(action) or (lambda app, ids, who: _read(app, ids, who, action))
        if allowed:
            run(app, ids, who)
            return
        with pytest.raises(NotAuthorizedError) as refused:
            run(app, ids, who)
    error = refused.value
    assert (error.principal_id, error.role, error.action) == (who.id, role, action)
    assert error.rule in str(error)
    assert _store_files(store) == before, "a refused command or read changed the store"


def test_the_table_covers_every_command_and_read() -> None:
    assert set(COMMAND_CALLS) == set(COMMANDS)
    assert set(READ_TARGETS) == set(READS)
    assert {role for role, _assigned in ALLOWED} == set(ROLE_PRINCIPALS)


@pytest.mark.parametrize("role", ["therapist", "client"])
def test_only_oversight_reads_the_whole_store(role: str) -> None:
    who = ROLE_PRINCIPALS[role][0]
    for read in ("audit-export", "fhir-export", "access-log"):
        assert not ClinicalPolicy().decide(who, read, Subject()).allowed


def test_a_clients_own_words_become_active_only_with_a_clinician(
    template: tuple[Path, dict[str, UUID]], tmp_path: Path
) -> None:
    folder, ids = template
    shutil.copytree(folder, tmp_path / "store")
    client = Principal(CLIENT, "client", asserted_by="client-portal")
    with GoalpathApp(tmp_path / "store" / "gp.db", today=lambda: TODAY) as app:
        with pytest.raises(NotAuthorizedError, match="activation-needs-both-sides"):
            app.activate_goal(ids["own"], actor=client)
        with pytest.raises(NotAuthorizedError, match="activation-needs-both-sides"):
            app.create_goal(
                ids["episode"], CATALOG["panic"].definition, actor=client, activate=True
            )
        with pytest.raises(NotAuthorizedError, match="client-refines-proposed-goals"):
            app.refine_goal(ids["active"], reason="mine", statement="calmer", actor=client)
        app.refine_goal(
            ids["own"],
            reason="made it SMART together",
            actor=client,
            statement=CATALOG["panic"].definition.statement,
        )
        app.activate_goal(ids["own"], actor=THERAPIST)
        events = app.goal_events(ids["own"])
        authors = {
            (e.actor.id, e.actor.role)
            for e in events
            if isinstance(e, Goal.Created | Goal.Activated | Goal.Refined)
        }
    assert authors == {(CLIENT, "client"), ("therapist-7", "therapist")}


def test_a_host_supplies_its_own_policy(tmp_path: Path) -> None:
    class ReadOnlyFridays:
        def decide(self, _principal: Principal, action: Any, _subject: Subject) -> Decision:
            if action in READS:
                return Decision(allowed=True, rule="reads", explanation="reading is fine")
            return Decision(allowed=False, rule="read-only-today", explanation="no changes today")

    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY, policy=ReadOnlyFridays()) as app:
        with pytest.raises(NotAuthorizedError, match="read-only-today"):
            app.open_episode(client_id=CLIENT, therapist_ids=["therapist-7"], actor=THERAPIST)
        assert list(app.iter_events()) == []


def test_an_actor_is_a_principal_the_caller_asserts() -> None:
    principal = as_principal(THERAPIST)
    assert (principal.id, principal.role, principal.asserted_by) == (
        "therapist-7",
        "therapist",
        "caller",
    )
    assert principal.actor == THERAPIST
    with pytest.raises(InvalidValueError, match="actor"):
        as_principal({"id": "therapist-7", "role": "therapist"})
    with pytest.raises(InvalidValueError, match="role"):
        Principal("someone", "doctor")  # type: ignore[arg-type]


def test_a_read_is_logged_once_it_has_answered_and_a_failed_one_leaves_no_record(
    tmp_path: Path,
) -> None:
    with GoalpathApp(tmp_path / "gp.db", today=lambda: TODAY) as app:
        ids = _build(app)
        auditor = Principal("auditor-1", "auditor")
        logged = len(app.access_log(principal=auditor))
        long_ago = datetime(2000, 1, 1, tzinfo=UTC)
        with pytest.raises(NotFoundError):
            app.get_goal(ids["active"], as_of=long_ago, principal=THERAPIST)
        with pytest.raises(InvalidValueError):
            app.get_goal(ids["active"], version=99, principal=THERAPIST)
        with pytest.raises(NotFoundError):
            app.list_goals(ids["episode"], as_of=long_ago, principal=THERAPIST)
        with pytest.raises(RuntimeError), app.reading(THERAPIST, "progress", goal_id=ids["active"]):
            raise RuntimeError("the host's read failed")
        stranger = Principal("therapist-8", "therapist")
        episode = ids["episode"]
        with pytest.raises(NotAuthorizedError), app.reading(stranger, "plan", episode_id=episode):
            pass
        assert len(app.access_log(principal=auditor)) == logged + 1  # the listing just read
        with app.reading(THERAPIST, "progress", goal_id=ids["active"]) as record_id:
            pass
        app.get_goal(ids["active"], principal=THERAPIST)
        reads = app.access_log(principal=auditor)[logged + 2 :]  # after the two listings
        assert [(read.actor_id, read.read) for read in reads] == [
            ("therapist-7", "progress"),
            ("therapist-7", "goal"),
        ]
        assert reads[0].record_id == record_id
