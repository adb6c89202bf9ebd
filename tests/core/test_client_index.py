"""The client index: each client's episodes, as a scan of the whole log finds them.

A law over two applications sharing a store (episodes opened for three
clients and clients erased, in any order, by either application), and the
index's point: once it has read the log, a lookup reads only the events
recorded since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalpath.core.application import GoalpathApp
from goalpath.core.application.goalpath_app import engine_of
from goalpath.core.episode import Episode
from goalpath.core.values import Actor
from goalpath.exports.fhir import client_episode_ids
from tests.conftest import AppFactory
from tests.strategies import OPENED_ON, THERAPIST

CLIENTS = ("client-a", "client-b", "client-c")
SUPERVISOR = Actor("supervisor-1", "supervisor")


def _scanned(app: GoalpathApp, client_id: str, as_of: datetime | None = None) -> list[UUID]:
    """The client's episodes by a scan of every readable event (what the index replaces)."""
    return [
        domain_event.originator_id
        for _position, domain_event in app.iter_events()
        if isinstance(domain_event, Episode.Opened)
        and domain_event.client_id == client_id
        and (as_of is None or domain_event.timestamp <= as_of)
    ]


Step = tuple[str, int, int]  # ("open" or "erase", client index, application index)

steps = st.lists(
    st.tuples(
        st.sampled_from(["open", "open", "open", "erase"]), st.integers(0, 2), st.integers(0, 1)
    ),
    max_size=12,
)


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=steps)
def test_each_applications_index_gives_the_episodes_a_scan_of_the_log_finds(
    shared_app_factory: AppFactory, history: list[Step]
) -> None:
    """Law: after every step, by whichever application, both applications' indexes list
    each client's episodes as a scan of the log does (an erased client's: none)."""
    apps = [shared_app_factory(), shared_app_factory()]
    # The store outlives one example (the fixture is the test's): clients of this example's own.
    clients = [f"{name}-{uuid4().hex[:8]}" for name in CLIENTS]
    erased: set[str] = set()
    moments: list[datetime] = []
    for kind, client, writer in history:
        client_id, app = clients[client], apps[writer]
        if client_id in erased:
            continue  # an erased client's data is gone; nothing more is written for them
        if kind == "open":
            app.open_episode(
                client_id=client_id,
                therapist_ids=[THERAPIST.id],
                opened_on=OPENED_ON,
                actor=THERAPIST,
            )
        elif any(_scanned(app, client_id)):
            app.erase_client(client_id, reason="the client asked", actor=SUPERVISOR)
            erased.add(client_id)
        moments.append(datetime.now(UTC))
        for reader in apps:
            for name in clients:
                assert client_episode_ids(reader, name) == _scanned(reader, name)
    for moment in moments[:3]:
        for name in clients:
            assert client_episode_ids(apps[0], name, as_of=moment) == _scanned(
                apps[0], name, moment
            )
    for name in erased:
        assert client_episode_ids(apps[1], name) == []


def test_once_read_a_lookup_reads_only_the_events_recorded_since(app: GoalpathApp) -> None:
    engine = engine_of(app)
    read: list[int] = []
    iter_events = engine.iter_events

    def counted(**options: Any) -> Any:
        for position, domain_event in iter_events(**options):
            read.append(position)
            yield position, domain_event

    engine.iter_events = counted  # type: ignore[method-assign]  # count what the index reads
    first = app.open_episode(
        client_id=CLIENTS[0], therapist_ids=[THERAPIST.id], opened_on=OPENED_ON, actor=THERAPIST
    )
    assert engine.clients.episode_ids(CLIENTS[0]) == [first]
    everything = len(read)
    assert everything >= 1
    assert engine.clients.episode_ids(CLIENTS[0]) == [first]
    assert len(read) == everything  # nothing new: nothing read
    second = app.open_episode(
        client_id=CLIENTS[0], therapist_ids=[THERAPIST.id], opened_on=OPENED_ON, actor=THERAPIST
    )
    assert engine.clients.episode_ids(CLIENTS[1]) == []
    assert engine.clients.episode_ids(CLIENTS[0]) == [first, second]
    assert len(read) == everything + 1  # the one event recorded since
