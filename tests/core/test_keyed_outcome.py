"""What a keyed command left: the versions an interface answers a retry with (issue 17).

A key's record keeps the version each aggregate had once the command had
run; ``keyed_outcome()`` tells them, whether the command ran or was answered
from its record, so the HTTP server answers a retry with the goal as the
first request left it, whatever was written since. A record stored before
versions were kept still answers its result, with no versions.
"""

from __future__ import annotations

import uuid
from typing import Final

from goalpath.core.application import idempotency
from goalpath.core.application.idempotency import encode_result, keyed_outcome
from tests.conftest import AppFactory
from tests.strategies import CATALOG, GOAL_START, THERAPIST, open_standard_episode

PANIC: Final = CATALOG["panic"].definition


def test_a_keyed_command_and_its_retry_tell_the_version_it_left(
    app_factory: AppFactory,
) -> None:
    app = app_factory()
    episode = open_standard_episode(app)
    goal = app.create_goal(episode, PANIC, actor=THERAPIST, activate=True)
    with keyed_outcome() as first:
        sequence = app.record_measurement(
            goal, 3, observed_on=GOAL_START, actor=THERAPIST, idempotency_key="walks-1"
        )
    left = app.get_goal(goal).version
    assert (first.replayed, first.versions) == (False, {goal: left})
    app.record_measurement(goal, 2, observed_on=GOAL_START, actor=THERAPIST)
    with keyed_outcome() as retry:
        again = app.record_measurement(
            goal, 3, observed_on=GOAL_START, actor=THERAPIST, idempotency_key="walks-1"
        )
    assert again == sequence
    assert (retry.replayed, retry.versions) == (True, {goal: left})
    assert app.get_goal(goal).version == left + 1
    with keyed_outcome() as unkeyed:
        app.record_measurement(goal, 1, observed_on=GOAL_START, actor=THERAPIST)
    assert (unkeyed.replayed, unkeyed.versions) == (False, {})


def test_a_record_without_versions_still_answers_its_result() -> None:
    """A record stored as the bare result (before versions were kept) reads with no versions."""
    aggregate = uuid.uuid4()
    for result in (None, 7, aggregate, range(2, 5), {aggregate: range(1, 3)}):
        assert idempotency._read_record(encode_result(result)) == (result, {})
        text = idempotency._record_text(result, {aggregate: 4})
        assert idempotency._read_record(text) == (result, {aggregate: 4})
