"""Every reader of events handles every event class, and refuses one it does not know.

Done-when of the architecture issue: a test fails when an event type is not
handled by a projector, the change describer or an exporter, shown here by
a dummy event class that each of them refuses with UnhandledEventError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from goalpath.core.access import AccessRecord
from goalpath.core.application import GoalpathApp
from goalpath.core.application.audit import export_rows
from goalpath.core.changes import (
    EVENT_CLASSES,
    StreamState,
    describe_changes,
    effective_on,
    event_classes_of,
)
from goalpath.core.episode import Episode
from goalpath.core.erasure import ClientErasure
from goalpath.core.errors import UnhandledEventError
from goalpath.core.goal import Goal, status_after
from goalpath.core.history import HistoryBuilder
from goalpath.core.values import Actor
from goalpath.exports.fhir import provenance_activity
from goalpath.projections import Projections, SQLiteReadModelStore
from goalpath.projections.read_side import default_projectors
from tests.strategies import CATALOG, GOAL_START, OPENED_ON, THERAPIST, TODAY

SUPERVISOR = Actor("supervisor-1", "supervisor")


def record_every_event_class(app: GoalpathApp) -> None:
    """A short therapy, a read of it, and a second client's erasure: every event class."""
    episode_id = app.open_episode(
        client_id="client-1",
        therapist_ids=["therapist-7"],
        concerns=["panic attacks"],
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )
    app.assign_therapist(episode_id, "therapist-2", actor=SUPERVISOR)
    app.record_session(episode_id, held_on=OPENED_ON + timedelta(weeks=1), actor=THERAPIST)
    goal_id = app.create_goal(episode_id, CATALOG["panic"].definition, actor=THERAPIST)
    app.activate_goal(goal_id, actor=THERAPIST)
    app.record_measurement(goal_id, 3, actor=THERAPIST, observed_on=GOAL_START)
    app.correct_measurement(goal_id, 1, value=2, reason="typed 3 for 2", actor=THERAPIST)
    app.review_goal(
        goal_id,
        reviewed_on=GOAL_START + timedelta(weeks=1),
        achievement="improving",
        decision="continue",
        actor=THERAPIST,
    )
    app.refine_goal(goal_id, reason="agreed together", priority="high-priority", actor=THERAPIST)
    app.retire_goal(
        goal_id,
        reason_code="achieved",
        reason="no panic attacks for a month",
        retired_on=TODAY,
        actor=THERAPIST,
    )
    app.close_episode(episode_id, reason="goals met", closed_on=TODAY, actor=THERAPIST)
    app.list_goals(episode_id, principal=THERAPIST, purpose="discharge letter")
    app.open_episode(
        client_id="client-2",
        therapist_ids=["therapist-1"],
        concerns=[],
        opened_on=OPENED_ON,
        actor=THERAPIST,
    )
    app.erase_client("client-2", reason="erasure request 7", actor=SUPERVISOR)


@pytest.fixture
def recorded() -> Iterator[tuple[GoalpathApp, list[Any]]]:
    with GoalpathApp(today=lambda: TODAY) as app:
        record_every_event_class(app)
        yield app, [event for _position, event in app.iter_events()]


def test_event_classes_are_every_class_the_aggregates_declare() -> None:
    declared = {
        value
        for aggregate in (Goal, Episode, ClientErasure, AccessRecord)
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, Aggregate.Event)
    }
    # Besides its own classes, each aggregate holds the library's Event base, and
    # Created where it names its creation event otherwise.
    library = {Goal.Event, Episode.Event, Episode.Created, ClientErasure.Event}
    library |= {ClientErasure.Created, AccessRecord.Event, AccessRecord.Created}
    assert set(EVENT_CLASSES) == declared - library
    assert len(EVENT_CLASSES) == len(set(EVENT_CLASSES)) == 14


def test_the_scenario_records_every_event_class(recorded: tuple[GoalpathApp, list[Any]]) -> None:
    _app, events = recorded
    # A new event class fails here until the scenario (and so every check below) covers it.
    assert {type(event) for event in events} >= set(EVENT_CLASSES)


def test_every_event_is_described_dated_and_projected(
    recorded: tuple[GoalpathApp, list[Any]],
) -> None:
    app, events = recorded
    builder = HistoryBuilder()
    for event in events:
        entry = builder.entry_for(event)
        assert entry.changes, f"{type(event).__qualname__} changed nothing"
        effective_on(event)
    with Projections(app, store=SQLiteReadModelStore(":memory:")) as projections:
        projections.catch_up()
        logged = projections.audit_log()
    # The erased client's episode cannot be read any more: not among the events, not
    # in the audit log, and in the export as structure only.
    # Reads are listed by the access log, not the audit log of changes.
    reads = [event for event in events if isinstance(event, AccessRecord.Recorded)]
    assert len(reads) == 1
    assert len(logged) == len(events) - len(reads)
    exported = list(export_rows(app))
    assert [row["erased"] for row in exported].count(True) == 1
    assert len(exported) == len(events) + 1
    for event in events:
        if isinstance(event, Goal.Event):
            assert provenance_activity(event, None)
            status_after(event, "active")


def _dummy_events() -> list[Any]:
    class Unheard(Goal.Event):
        """An event no reader knows."""

    class Unannounced(Episode.Event):
        """Another event no reader knows."""

    return [
        cls(originator_id=uuid4(), originator_version=2, timestamp=Goal.Event.create_timestamp())
        for cls in (Unheard, Unannounced)
    ]


READERS: dict[str, Callable[[Any], object]] = {
    "describe_changes": lambda event: describe_changes(StreamState(), event),
    "effective_on": effective_on,
}


@pytest.mark.parametrize("reader", sorted(READERS))
@pytest.mark.parametrize("dummy", _dummy_events(), ids=lambda event: type(event).__name__)
def test_the_change_describer_refuses_an_unknown_event(reader: str, dummy: Any) -> None:
    with pytest.raises(UnhandledEventError, match=type(dummy).__qualname__):
        READERS[reader](dummy)


@pytest.mark.parametrize("dummy", _dummy_events()[:1], ids=["goal event"])
def test_the_goal_rules_and_the_fhir_exporter_refuse_an_unknown_goal_event(dummy: Any) -> None:
    with pytest.raises(UnhandledEventError):
        status_after(dummy, "active")
    with pytest.raises(UnhandledEventError):
        provenance_activity(dummy, "active")


@pytest.mark.parametrize("dummy", _dummy_events(), ids=lambda event: type(event).__name__)
@pytest.mark.parametrize("index", range(len(default_projectors())))
def test_every_projector_refuses_an_unknown_event(index: int, dummy: Any) -> None:
    projector = default_projectors()[index]
    store = SQLiteReadModelStore(":memory:")
    try:
        with store.transaction() as transaction:
            for statement in (ddl for each in default_projectors() for ddl in each.schema):
                transaction.execute(statement)
            projector.start_batch()
            with pytest.raises(UnhandledEventError, match=type(dummy).__qualname__):
                projector.apply(transaction, 1, dummy)
    finally:
        store.close()


def test_the_walk_finds_an_event_class_added_to_an_aggregate() -> None:
    class Probe(Aggregate):
        class Started(Aggregate.Created):
            pass

        class Nudged(Aggregate.Event):
            pass

    assert [cls.__name__ for cls in event_classes_of(Probe)] == ["Started", "Nudged"]
