"""Rebuilding and extending aggregates from events: goalpath's fast paths, or the library's.

Where the installed eventsourcing is one the fast paths were checked
against (:data:`goalpath.core.storage.fast_paths.ENABLED`), events are applied by
their decorated methods directly; otherwise through the library's own
``mutate`` and ``trigger_event``. Both build the same aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from goalpath.core.storage import fast_paths

__all__ = ["append_event", "append_events", "collect_events", "replay"]


def replay(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """Apply events to an aggregate (or to ``None`` for a new one), oldest first."""
    if fast_paths.ENABLED:
        return fast_paths.replay_events(aggregate, domain_events)
    for domain_event in domain_events:
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def append_event(aggregate: Any, event_class: type[Any], **fields: Any) -> Any:
    """Trigger the next event of an aggregate, queued for saving; return the event.

    For batch imports: the same as the aggregate's ``trigger_event``.
    """
    if fast_paths.ENABLED:
        return fast_paths.append_fast_event(aggregate, event_class, **fields)
    aggregate.trigger_event(event_class, **fields)
    return aggregate._pending_events[-1]  # the library's own queue


def append_events(
    aggregate: Any, event_class: type[Any], rows: Iterable[dict[str, Any]]
) -> list[Any]:
    """Trigger many events of one class in turn, recorded at one moment; return them.

    The same as :func:`goalpath.core.goal.trigger_each` (see
    :data:`goalpath.core.goal.EventAppender`), faster under the fast paths.
    """
    if fast_paths.ENABLED:
        return fast_paths.append_fast_events(aggregate, event_class, rows)
    timestamp = event_class.create_timestamp()
    return [append_event(aggregate, event_class, timestamp=timestamp, **fields) for fields in rows]


def collect_events(aggregate: Any) -> list[Any]:
    """Take an aggregate's pending events, oldest first, as its ``collect_events`` does.

    For batch imports: the library's takes them one at a time from the front
    of a list, in time growing with the square of their number.
    """
    if fast_paths.ENABLED:
        return fast_paths.collect_fast_events(aggregate)
    return list(aggregate.collect_events())
