"""goalpath's shortcuts past eventsourcing's general code, and the guard that switches them off.

Each fast path produces exactly what the library's own path produces, and
relies on something the library does not promise; each has an equivalence
test in ``tests/core/test_fast_paths.py``:

- **replay** (:func:`replay_events`, used by :mod:`goalpath.core.storage.replay`):
  calls an event's decorated method directly instead of ``event.mutate``.
  Relies on ``eventsourcing.domain.decorated_funcs`` (event class to
  method), ``CanInitAggregate``, and events keeping their fields in
  ``__dict__``. Test: ``test_fast_replay_rebuilds_the_librarys_aggregate``.
- **batch events** (:func:`append_fast_event`, :func:`append_fast_events`):
  builds events as the library's mapper does (``object.__new__`` and a
  ``__dict__``) and appends them to the aggregate's ``_pending_events``.
  Relies on the same internals, and on ``_pending_events``. Test:
  ``test_fast_appending_triggers_the_librarys_events``.
- **direct JSON** (:data:`FAST_ENCODERS`, used by the mapper): writes the
  JSON of ``Goal.Measured`` events as text. Relies on the
  exact bytes ``JSONTranscoder`` writes (its separators, ``ensure_ascii``
  setting, and the ``_type_``/``_data_`` wrapping of transcoded values).
  Test: ``test_direct_json_of_measurements_is_the_transcoders``.

The run writer (:data:`RUN_ENCODERS`, :func:`encode_measured_run`) writes the
same direct JSON for an import's run of measurement events at once, with the
same reliance. Test: ``test_an_imported_run_sealed_a_step_at_a_time_is_the_same_records``
in ``tests/core/test_sealing.py``. The chain hash's keyed-state copy
(:func:`goalpath.core.storage.envelope.chain_macs`) relies on nothing in the
library and is always used.

The fast paths are used only under the eventsourcing versions they were
checked against (:data:`CHECKED_EVENTSOURCING_VERSIONS`); under any other
(a patch release, say) goalpath takes the library's own paths, which give
the same results more slowly. To check a new release, run the tests above
under it and add its version here.
"""

from __future__ import annotations

import inspect
import json
import math
import operator
from collections.abc import Callable, Iterable
from datetime import date, datetime
from importlib.metadata import version as installed_version
from typing import Any, Final

from eventsourcing import domain

from goalpath.core.storage.transcodings import MAX_REMEMBERED_ACTORS
from goalpath.core.values import Actor

__all__ = [
    "CHECKED_EVENTSOURCING_VERSIONS",
    "ENABLED",
    "FAST_ENCODERS",
    "RUN_ENCODERS",
    "TAKES_EVENT_FIELDS",
    "append_fast_event",
    "append_fast_events",
    "applier",
    "collect_fast_events",
    "encode_measured",
    "encode_measured_run",
    "fast_paths_apply",
    "replay_events",
]

CHECKED_EVENTSOURCING_VERSIONS: Final = frozenset({"9.5.6"})
"""The eventsourcing releases the fast paths were checked against."""


def fast_paths_apply(eventsourcing_version: str) -> bool:
    """Whether the fast paths may be used under this eventsourcing version."""
    return eventsourcing_version in CHECKED_EVENTSOURCING_VERSIONS


ENABLED: bool = fast_paths_apply(installed_version("eventsourcing"))
"""Whether goalpath uses its fast paths; read at each call, so a test may switch it."""


# -- replay and batch events ---------------------------------------------------------

Applier = tuple[Callable[..., None], Callable[[dict[str, Any]], tuple[Any, ...]]]
"""An event class's decorated method, and what picks its arguments from an event's fields."""
_APPLIERS: dict[type[Any], Applier | None] = {}


def applier(event_class: type[Any]) -> Applier | None:
    """An event class's decorated method and its arguments' picker; ``None`` if it has none.

    The picker gives the fields the method takes, in the order of its
    parameters, from an event's fields (a ``KeyError`` for one missing): the
    method is called with them by position, as the library calls it with
    them by name, where every parameter may be given either way; otherwise
    the picker's fields are passed by name.
    """
    try:
        return _APPLIERS[event_class]
    except KeyError:
        pass
    function = domain.decorated_funcs.get(event_class)
    found: Applier | None = None
    if function is not None and not issubclass(event_class, domain.CanInitAggregate):
        parameters = list(inspect.signature(function).parameters.values())
        names = tuple(parameter.name for parameter in parameters if parameter.name != "self")
        by_position = (
            bool(parameters)
            and parameters[0].name == "self"
            and all(
                parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                for parameter in parameters
            )
        )
        found = (function, _picker(names)) if by_position else _by_name(function, names)
    _APPLIERS[event_class] = found
    return found


def _picker(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """What gives the values of ``names`` from a dict of fields, as a tuple in that order."""
    if len(names) > 1:
        return operator.itemgetter(*names)  # one C call (with one name it gives no tuple)
    return lambda fields: tuple(fields[name] for name in names)


def _by_name(function: Callable[..., None], names: tuple[str, ...]) -> Applier:
    """An applier giving ``function`` the fields of ``names`` by name."""

    def apply(aggregate: Any, fields: dict[str, Any]) -> None:
        function(aggregate, **{name: fields[name] for name in names})

    return apply, lambda fields: (fields,)


def replay_events(aggregate: Any, domain_events: Iterable[Any]) -> Any:
    """Apply events to an aggregate (or ``None``) as ``event.mutate`` would, oldest first.

    The library's path checks a runtime protocol on every event and its
    event-apply path inspects each decorated method's signature per call;
    this calls the same decorated methods with the same arguments and
    applies the same version checks.
    """
    for domain_event in domain_events:
        found = applier(type(domain_event))
        if (
            found is None
            or aggregate is None
            or domain_event.originator_version != aggregate.version + 1
            or domain_event.originator_id != aggregate.id
        ):
            # Created events, snapshots and anything unusual take the library's own path,
            # which also raises its errors for events out of sequence.
            aggregate = domain_event.mutate(aggregate)
            continue
        function, arguments = found
        function(aggregate, *arguments(domain_event.__dict__))
        aggregate.version = domain_event.originator_version
        aggregate.modified_on = domain_event.timestamp
    return aggregate


def append_fast_event(aggregate: Any, event_class: type[Any], **fields: Any) -> Any:
    """Trigger an aggregate's next event as ``trigger_event`` would; return the event.

    As there, a ``timestamp`` among the fields is the event's time (else now).
    """
    found = applier(event_class)
    if found is None:
        aggregate.trigger_event(event_class, **fields)
        return aggregate._pending_events[-1]  # the library's own queue
    timestamp = fields.pop("timestamp", None) or event_class.create_timestamp()
    domain_event = event_class(
        originator_id=aggregate.id,
        originator_version=aggregate.version + 1,
        timestamp=timestamp,
        **fields,
    )
    function, arguments = found
    function(aggregate, *arguments(fields))
    aggregate.version = domain_event.originator_version
    aggregate.modified_on = domain_event.timestamp
    aggregate._pending_events.append(domain_event)
    return domain_event


def append_fast_events(
    aggregate: Any, event_class: type[Any], rows: Iterable[dict[str, Any]]
) -> list[Any]:
    """Trigger many events of one class in turn, at one moment; return them.

    The same events as ``trigger_event`` with one ``timestamp`` for all (see
    :data:`goalpath.core.goal.EventAppender`). They are the frozen
    dataclasses the library builds, filled in directly (as the library's
    mapper does when it reads them back), which skips the dataclass
    constructor's per-field work on large imports; the decorated method is
    given the row's fields it takes (see :func:`applier`).
    """
    found = applier(event_class)
    timestamp = event_class.create_timestamp()
    if found is None:
        return [
            append_fast_event(aggregate, event_class, timestamp=timestamp, **fields)
            for fields in rows
        ]
    function, arguments = found
    pending = aggregate._pending_events  # the library's own queue
    originator_id = aggregate.id
    version = aggregate.version
    appended = []
    new_event = object.__new__
    set_state = object.__setattr__
    for fields in rows:
        version += 1
        domain_event = new_event(event_class)
        set_state(
            domain_event,
            "__dict__",
            {
                "originator_id": originator_id,
                "originator_version": version,
                "timestamp": timestamp,
                **fields,
            },
        )
        function(aggregate, *arguments(fields))
        appended.append(domain_event)
    if appended:
        # The appliers never read the version or time: set them once, as the last event would.
        aggregate.version = version
        aggregate.modified_on = timestamp
        pending.extend(appended)
    return appended


def collect_fast_events(aggregate: Any) -> list[Any]:
    """An aggregate's pending events, oldest first, taken all at once: ``collect_events``.

    The library takes them one at a time from the front of its list
    (``_pending_events``), which costs time growing with the square of
    their number; this takes the whole list and leaves the queue empty, as
    ``collect_events`` does.
    """
    pending = aggregate._pending_events  # the library's own queue
    collected = list(pending)
    pending.clear()
    return collected


# -- direct JSON of the most frequent events --------------------------------------------

Encode = Callable[[Any], bytes]
_MEASURED_FIELDS: Final = frozenset(
    {"timestamp", "sequence", "value", "observed_on", "note", "actor"}
)
_MEASURED_EVENT_FIELDS: Final = _MEASURED_FIELDS | {"originator_id", "originator_version"}
_ACTOR_JSON: dict[int, tuple[Actor, str]] = {}
"""Written actors by object identity (the actor is kept, so its id cannot be reused)."""
_json_text = json.JSONEncoder(ensure_ascii=False).encode
_LAST_TIME: tuple[object, str] = (None, "")
"""The last timestamp written and its text (kept, so its identity cannot be reused)."""


def _actor_json(actor: Actor) -> str:
    known = _ACTOR_JSON.get(id(actor))
    if known is not None and known[0] is actor:
        return known[1]
    text = (
        '{"_type_":"goalpath.Actor","_data_":{"id":'
        f'{_json_text(actor.id)},"role":{_json_text(actor.role)}}}}}'
    )
    if len(_ACTOR_JSON) >= MAX_REMEMBERED_ACTORS:
        _ACTOR_JSON.clear()
    _ACTOR_JSON[id(actor)] = (actor, text)
    return text


def encode_measured(state: dict[str, Any], _encode: Encode) -> bytes | None:
    """The JSON of a ``Goal.Measured`` event's state, written directly; ``None`` if unusual.

    ``state`` is the state the general encoder is given, or the event's own
    fields (see :data:`TAKES_EVENT_FIELDS`): the stream id and version are not written.

    The bytes are exactly what the library's ``JSONTranscoder`` (with the
    transcodings above) produces, so they decode the same way; writing them
    directly skips one Python callback per date, time and actor. A state with
    any other field or type returns ``None`` and takes the general path. It
    runs once per imported row, so the checks and the text are written out
    here rather than through general helpers.
    """
    keys = state.keys()
    if keys not in (_MEASURED_EVENT_FIELDS, _MEASURED_FIELDS):
        return None
    timestamp = state["timestamp"]
    sequence = state["sequence"]
    value = state["value"]
    observed_on = state["observed_on"]
    note = state["note"]
    actor = state["actor"]
    if (
        type(timestamp) is not datetime
        or type(sequence) is not int
        or type(value) is not float
        or not math.isfinite(value)
        or type(observed_on) is not date
        or type(actor) is not Actor
    ):
        return None
    if note is None:
        note_json = "null"
    elif type(note) is str:
        note_json = _json_text(note)
    else:
        return None
    known = _ACTOR_JSON.get(id(actor))
    actor_json = known[1] if known is not None and known[0] is actor else _actor_json(actor)
    global _LAST_TIME  # noqa: PLW0603  # one tuple, replaced whole: safe between threads
    last_time = _LAST_TIME
    if last_time[0] is timestamp:  # the events of one import share their timestamp
        time_text = last_time[1]
    else:
        time_text = timestamp.isoformat()
        _LAST_TIME = (timestamp, time_text)
    return (
        '{"timestamp":{"_type_":"datetime_iso","_data_":"'
        f'{time_text}"}},"sequence":{sequence},"value":{value!r},'
        f'"observed_on":{{"_type_":"date_iso","_data_":"{observed_on.isoformat()}"}},'
        f'"note":{note_json},"actor":{actor_json}}}'
    ).encode()


FAST_ENCODERS: Final[dict[str, Callable[[dict[str, Any], Encode], bytes | None]]] = {
    "goalpath.core.goal:Goal.Measured": encode_measured,
}
"""Direct JSON writers for frequent event topics, given an event's state and the general
encoder; each returns ``None`` to decline (the general encoder is used then).

A writer listed in :data:`TAKES_EVENT_FIELDS` is given the event's own fields
instead (its ``__dict__``, ``originator_id`` and ``originator_version`` included,
which it leaves out), which spares a copy of them per event."""

TAKES_EVENT_FIELDS: Final = frozenset({"goalpath.core.goal:Goal.Measured"})
"""The topics whose direct writer is given the event's own fields (see :data:`FAST_ENCODERS`)."""


def encode_measured_run(domain_events: Iterable[Any]) -> list[bytes] | None:
    """The JSON of many ``Goal.Measured`` events, each as :func:`encode_measured` writes it.

    Given the events themselves (their own fields, as with
    :data:`TAKES_EVENT_FIELDS`); ``None`` if any of them is unusual, and then
    each takes :func:`encode_measured` or the general path. The events of one
    import share their timestamp and actor, so their text is written once per
    run, and each observation date's once; every field of every event is
    still checked for exactly the types the direct text is right for.
    """
    written: list[bytes] = []
    append = written.append
    isfinite = math.isfinite
    days: dict[date, str] = {}
    last_time: object = None
    last_actor: object = None
    head = tail = ""
    for domain_event in domain_events:
        state = domain_event.__dict__
        if state.keys() != _MEASURED_EVENT_FIELDS:
            return None
        timestamp = state["timestamp"]
        actor = state["actor"]
        sequence = state["sequence"]
        value = state["value"]
        observed_on = state["observed_on"]
        note = state["note"]
        if timestamp is not last_time:
            if type(timestamp) is not datetime:
                return None
            last_time = timestamp
            head = (
                '{"timestamp":{"_type_":"datetime_iso","_data_":"'
                f'{timestamp.isoformat()}"}},"sequence":'
            )
        if actor is not last_actor:
            if type(actor) is not Actor:
                return None
            last_actor = actor
            tail = f',"actor":{_actor_json(actor)}}}'
        if (
            type(sequence) is not int
            or type(value) is not float
            or not isfinite(value)
            or type(observed_on) is not date
        ):
            return None
        day = days.get(observed_on)
        if day is None:
            day = days[observed_on] = observed_on.isoformat()
        if note is None:
            note_json = "null"
        elif type(note) is str:
            note_json = _json_text(note)
        else:
            return None
        append(
            f'{head}{sequence},"value":{value!r},'
            f'"observed_on":{{"_type_":"date_iso","_data_":"{day}"}},"note":{note_json}{tail}'.encode()
        )
    return written


RUN_ENCODERS: Final[dict[str, Callable[[Iterable[Any]], list[bytes] | None]]] = {
    "goalpath.core.goal:Goal.Measured": encode_measured_run,
}
"""Direct JSON writers of a run of events of one topic (given the events), for the mapper's
sealing of a batch; each returns ``None`` to decline (each event is then written alone)."""
