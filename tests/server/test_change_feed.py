"""The change feed over HTTP: the cursor, long-polling, who may follow what, and no content."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from starlette.testclient import TestClient

from goalpath.core.errors import StoreError
from goalpath.projections import Projections
from goalpath.projections.audit_log import AuditEntry
from tests.server.support import SMART_DEFINITION, Issuer, in_process_server, open_episode

CONTENT_STATEMENT: Final = (
    "Walk to the allotment alone three times a week by practising graded exposure"
)
CONTENT_NOTE: Final = "felt the panic rise at the gate"
CONTENT_REASON: Final = "the allotment closes for winter"
ITEM_KEYS: Final = {
    "position",
    "event_type",
    "stream_type",
    "stream_id",
    "version",
    "goal_id",
    "episode_id",
    "client_id",
    "recorded_at",
}


class Feed:
    """A server with two clients' episodes, and the tokens the tests use."""

    def __init__(self, client: TestClient, issuer: Issuer) -> None:
        self.client = client
        self.issuer = issuer
        self.therapist = issuer.bearer("therapist-1", "therapist")
        self.supervisor = issuer.bearer("supervisor-1", "supervisor")
        self.episode = open_episode(client, self.therapist, "client-1")
        self.other_episode = open_episode(client, self.therapist, "client-2")
        definition = SMART_DEFINITION | {"statement": CONTENT_STATEMENT}
        created = client.post(
            f"/episodes/{self.episode}/goals",
            json={"definition": definition, "activate": True},
            headers=self.therapist,
        )
        assert created.status_code == 201, created.text
        self.goal: str = created.json()["id"]
        self.measure(4.75)

    def measure(self, value: float) -> None:
        """Record a measurement of the goal, with a note."""
        measured = self.client.post(
            f"/goals/{self.goal}/measurements",
            json={"value": value, "observed_on": "2026-05-20", "note": CONTENT_NOTE},
            headers=self.therapist,
        )
        assert measured.status_code == 201, measured.text

    def changes(self, headers: dict[str, str], **params: Any) -> Any:
        """GET /changes with ``params``."""
        return self.client.get("/changes", params=params, headers=headers)


@pytest.fixture
def feed(issuer: Issuer, tmp_path: Path) -> Iterator[Feed]:
    """The server of :class:`Feed`."""
    with in_process_server(issuer, tmp_path) as (client, _api, _app):
        yield Feed(client, issuer)


def test_the_cursor_answers_each_change_once_in_log_order(feed: Feed) -> None:
    first = feed.changes(feed.supervisor)
    assert first.status_code == 200, first.text
    page = first.json()
    kinds = [(item["stream_type"], item["event_type"]) for item in page["changes"]]
    assert kinds == [
        ("episode", "Opened"),
        ("episode", "Opened"),
        ("goal", "Created"),
        ("episode", "GoalAdded"),
        ("goal", "Measured"),
    ]
    positions = [item["position"] for item in page["changes"]]
    assert positions == sorted(set(positions))
    assert page["next"] == positions[-1]
    goal_versions = [item["version"] for item in page["changes"] if item["goal_id"] == feed.goal]
    assert goal_versions == [1, 2]

    assert feed.changes(feed.supervisor, after=page["next"]).json() == {
        "changes": [],
        "next": page["next"],
    }
    feed.measure(5)
    following = feed.changes(feed.supervisor, after=page["next"]).json()
    assert [(item["event_type"], item["version"]) for item in following["changes"]] == [
        ("Measured", 3)
    ]
    paged = feed.changes(feed.supervisor, limit=2).json()
    assert [item["position"] for item in paged["changes"]] == positions[:2]
    assert paged["next"] == positions[1]


def test_a_long_poll_answers_the_change_recorded_while_it_waits(feed: Feed) -> None:
    head = feed.changes(feed.supervisor).json()["next"]
    assert feed.changes(feed.supervisor, after=head, wait=0.3).json()["changes"] == []
    writer = threading.Timer(0.5, feed.measure, args=(6,))
    writer.start()
    try:
        waited = feed.changes(feed.supervisor, after=head, wait=20).json()
    finally:
        writer.join()
    assert [item["event_type"] for item in waited["changes"]] == ["Measured"]


def test_a_long_poll_is_one_read_logged_once_it_has_answered(
    feed: Feed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def feed_reads() -> int:
        log = feed.client.get("/audit/access", headers=feed.supervisor).json()["reads"]
        return sum(entry["purpose"] == "change feed" for entry in log)

    head = feed.changes(feed.supervisor).json()["next"]
    assert feed_reads() == 1
    # Polls 0.2 s apart for 0.7 s, nothing new: one request, one read, one access record.
    assert feed.changes(feed.supervisor, after=head, wait=0.7).json()["changes"] == []
    assert feed_reads() == 2
    # A poll failing after the read was allowed: the request fails, and logs nothing.
    calls: list[int] = []
    real = Projections.audit_log

    def fails_when_polled_again(self: Projections, **options: Any) -> list[AuditEntry]:
        calls.append(len(calls))
        if len(calls) > 1:
            raise StoreError("the store went away")
        return real(self, **options)

    monkeypatch.setattr(Projections, "audit_log", fails_when_polled_again)
    failed = feed.changes(feed.supervisor, after=head, wait=5)
    monkeypatch.undo()
    assert failed.status_code == 503, failed.text
    assert calls == [0, 1]
    assert feed_reads() == 2


def test_a_change_carries_ids_and_versions_but_no_health_content(feed: Feed) -> None:
    response = feed.changes(feed.supervisor)
    for item in response.json()["changes"]:
        assert set(item) == ITEM_KEYS
    retired = feed.client.post(
        f"/goals/{feed.goal}/retire",
        json={"reason": CONTENT_REASON, "reason_code": "no-longer-relevant"},
        headers=feed.therapist,
    )
    assert retired.status_code == 200, retired.text
    text = feed.changes(feed.supervisor).text
    assert "Retired" in text
    for content in (CONTENT_STATEMENT, CONTENT_NOTE, CONTENT_REASON, "4.75", "therapist-1"):
        assert content not in text


def test_a_client_follows_their_own_changes_only(feed: Feed) -> None:
    own = feed.issuer.bearer("client-1", "client", patient="client-1")
    mine = feed.changes(own)
    assert mine.status_code == 200, mine.text
    assert {item["client_id"] for item in mine.json()["changes"]} == {"client-1"}
    assert feed.episode in {item["episode_id"] for item in mine.json()["changes"]}
    assert feed.other_episode not in mine.text
    refused = feed.changes(own, client_id="client-2")
    assert refused.status_code == 403
    assert refused.json()["code"] == "not-authorized"


def test_the_feed_is_authorized_like_any_read(feed: Feed) -> None:
    assert feed.changes(feed.therapist).status_code == 403  # the whole store is not a caseload
    assigned = feed.changes(feed.therapist, client_id="client-2")
    assert assigned.status_code == 200
    assert {item["episode_id"] for item in assigned.json()["changes"]} == {feed.other_episode}
    stranger = feed.issuer.bearer("therapist-9", "therapist")
    assert feed.changes(stranger, client_id="client-1").status_code == 403
    auditor = feed.issuer.bearer("auditor-1", "auditor")
    assert feed.changes(auditor).status_code == 200
    narrow = feed.issuer.bearer("supervisor-1", "supervisor", scope="user/Goal.rs")
    scoped = feed.changes(narrow)
    assert scoped.status_code == 403
    assert "Provenance" in scoped.json()["detail"]
    assert feed.client.get("/changes").status_code == 401

    log = feed.client.get("/audit/access", headers=feed.supervisor).json()["reads"]
    feed_reads = [entry for entry in log if entry["purpose"] == "change feed"]
    assert {(entry["actor_id"], entry["client_id"]) for entry in feed_reads} == {
        ("therapist-1", "client-2"),
        ("auditor-1", None),
    }


def test_the_change_of_docs_serving_md_has_the_members_of_a_change() -> None:
    text = (Path(__file__).parents[2] / "docs" / "serving.md").read_text(encoding="utf-8")
    section = text.split("## Change feed", 1)[1].split("\n## ", 1)[0]
    example = json.loads(section.split("```json\n", 1)[1].split("```", 1)[0])
    assert set(example) == {"changes", "next"}
    assert set(example["changes"][0]) == ITEM_KEYS
