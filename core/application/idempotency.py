"""Idempotency keys: a command repeated with its key returns its first result and writes nothing.

Every command of :class:`~goalpath.core.application.GoalpathApp` takes an
optional ``idempotency_key``; the commands that create (``open_episode``,
``create_goal``) also take the caller's id (``episode_id=``, ``goal_id=``)
as one. The first command given a key is stored with it: a record of the
key, of the command (a keyed digest of its name and canonical arguments), of
who gave it and of its result, inserted in the same database transaction as
the command's events (:mod:`goalpath.core.storage.idempotency_records`).
Then:

- the same command again with the same key (a retry after a timeout, a
  lost answer, an :class:`~goalpath.core.errors.OutcomeUnknownError`)
  returns the first result and writes nothing;
- the same key with another command, other arguments or another principal
  is refused (:class:`~goalpath.core.errors.IdempotencyKeyReusedError`),
  and so is a caller's id given again by the same principal with other
  content; a caller's id another principal's create holds stays a
  :class:`~goalpath.core.errors.DuplicateIdError`;
- of two processes racing one key exactly one stores it: the other's write
  is refused by the key's uniqueness, and it answers with the winner's
  record.

Outside a unit of work a keyed command runs as a unit of one command (its
save kept until the result is known, its aggregate's command lock held
until it is written); inside one its key is written with the unit's events.
An erasure is not one transaction (its record is written, then the key
destroyed): its idempotency key is recorded once it is complete, and a
keyed erasure of a client already erased answers with the erasure's record.

A key's record also keeps the version each aggregate had once the command
had run, so an interface can answer a retry as it answered the first time
(the goal as the command left it, not as later commands made it): inside
``with keyed_outcome() as outcome:``, a keyed command fills ``outcome``
(:class:`KeyedOutcome`) whether it ran or was answered from its record.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import inspect
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any, Final, ParamSpec, TypeVar, cast
from uuid import UUID

import attrs

from goalpath.core.application.snapshots import LOG
from goalpath.core.application.unit_of_work import PendingWrites
from goalpath.core.authorization import as_principal
from goalpath.core.errors import DuplicateIdError, GoalpathError, IdempotencyKeyReusedError
from goalpath.core.inputs import DEFAULT_MAX_IMPORT_ROWS, check_idempotency_key
from goalpath.core.storage.failures import DRIVER_ERRORS
from goalpath.core.storage.idempotency_records import KeyRecord, KeyRecorder
from goalpath.core.values import as_uuid

__all__ = [
    "KEY_PARAMETER",
    "KeyedOutcome",
    "canonical",
    "decode_result",
    "encode_result",
    "idempotent",
    "keyed_outcome",
]

P = ParamSpec("P")
R = TypeVar("R")

KEY_PARAMETER: Final = "idempotency_key"
"""The keyword parameter every command takes its idempotency key as."""

_PURPOSE: Final = "idempotency-keys"
"""The master key's derivation for the keyed hashes of keys and commands."""

_UNANSWERED: Final[tuple[type[BaseException], ...]] = (GoalpathError, *DRIVER_ERRORS)
"""What a store that cannot look a key up raises."""


@attrs.define
class KeyedOutcome:
    """What a keyed command left: whether it was answered from its record, and the versions.

    ``versions``: the version of each aggregate the command changed, as the
    command left it (empty for a command whose record predates them, or an
    erasure).
    """

    replayed: bool = False
    versions: dict[UUID, int] = attrs.field(factory=dict)


_OUTCOME: ContextVar[KeyedOutcome | None] = ContextVar("goalpath_keyed_outcome", default=None)


@contextmanager
def keyed_outcome() -> Iterator[KeyedOutcome]:
    """A :class:`KeyedOutcome` the keyed commands run in the block fill in (the last one wins)."""
    outcome = KeyedOutcome()
    token = _OUTCOME.set(outcome)
    try:
        yield outcome
    finally:
        _OUTCOME.reset(token)


def _tell(*, replayed: bool, versions: Mapping[UUID, int]) -> None:
    outcome = _OUTCOME.get()
    if outcome is not None:
        outcome.replayed = replayed
        outcome.versions = dict(versions)


def canonical(value: Any) -> Any:  # noqa: PLR0911  # one return per kind of value
    """``value`` as plain JSON, the same for equal arguments however they were given.

    Numbers are compared as floats (``3`` and ``3.0`` are one measurement),
    ids as UUIDs, dates and times by their ISO form, value objects field by
    field, lists and tuples alike, mappings by sorted key.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return {"n": repr(float(value))}
    if isinstance(value, UUID):
        return {"uuid": str(value)}
    if isinstance(value, datetime | date):
        return {type(value).__name__: value.isoformat()}
    if attrs.has(type(value)):
        fields = attrs.fields(type(value))
        shown = {field.name: canonical(getattr(value, field.name)) for field in fields}
        return {"value": type(value).__qualname__, "fields": shown}
    if isinstance(value, Mapping):
        items = [[canonical(key), canonical(item)] for key, item in value.items()]
        return {"map": sorted(items, key=_sort_key)}
    if isinstance(value, list | tuple | range):
        return [canonical(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((canonical(item) for item in value), key=_sort_key)
    return {"object": type(value).__qualname__, "repr": repr(value)}


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _who(actor: Any) -> Any:
    """The principal behind ``actor`` as plain JSON: their id and role (however asserted)."""
    try:
        principal = as_principal(actor)
    except GoalpathError:
        return canonical(actor)  # the command refuses it
    return {"id": principal.id, "role": principal.role}


def encode_result(result: Any) -> str:
    """A command's result (an id, a number, a range, a map of them, or nothing) as JSON text."""
    return json.dumps(_encoded(result), sort_keys=True)


def _encoded(result: Any) -> Any:
    if result is None or isinstance(result, int):
        return result
    if isinstance(result, UUID):
        return {"uuid": str(result)}
    if isinstance(result, range):
        return {"range": [result.start, result.stop]}
    if isinstance(result, Mapping):
        return {"map": [[_encoded(key), _encoded(item)] for key, item in result.items()]}
    msg = f"a command's result of type {type(result).__name__} has no stored form"
    raise TypeError(msg)  # a defect: every command returns one of the above


def decode_result(text: str) -> Any:
    """The result :func:`encode_result` stored, as the command returned it."""
    return _decoded(json.loads(text))


def _record_text(result: Any, versions: Mapping[UUID, int]) -> str:
    """A key record's text: the command's result and the versions it left."""
    answered = json.loads(encode_result(result))
    left = sorted([str(aggregate_id), version] for aggregate_id, version in versions.items())
    return json.dumps({"answered": answered, "versions": left}, sort_keys=True)


def _read_record(text: str) -> tuple[Any, dict[UUID, int]]:
    """A key record's result and versions (a record without versions has none)."""
    stored = json.loads(text)
    if isinstance(stored, dict) and "answered" in stored:
        versions = {
            UUID(aggregate_id): int(version) for aggregate_id, version in stored["versions"]
        }
        return _decoded(stored["answered"]), versions
    return _decoded(stored), {}


def _decoded(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "uuid" in value:
        return UUID(value["uuid"])
    if "range" in value:
        start, stop = value["range"]
        return range(start, stop)
    return {_decoded(key): _decoded(item) for key, item in value["map"]}


def _materialised(value: Any, limit: int) -> Any:
    """An argument read once (an iterator of rows) as a list, so it can be digested and used.

    At most ``limit + 1`` items are read: the command refuses more, and a huge
    input is not held in memory.
    """
    if isinstance(value, Iterator):
        return list(itertools.islice(value, limit + 1))
    if isinstance(value, Mapping) and any(isinstance(item, Iterator) for item in value.values()):
        return {key: _materialised(item, limit) for key, item in value.items()}
    return value


class _Keys:
    """The keyed hashes of one command call: its keys, its digest, who gave it."""

    def __init__(self, keys: list[tuple[bytes, str]], digest: bytes, who: bytes) -> None:
        self.keys = keys
        """Each key's hash, with how to name it in a refusal."""
        self.digest = digest
        self.who = who

    def records(self, result: Any, versions: Mapping[UUID, int]) -> list[KeyRecord]:
        """The records to store for ``result`` and the ``versions`` it left, one per key."""
        text = _record_text(result, versions)
        _tell(replayed=False, versions=versions)
        return [KeyRecord(key, self.digest, self.who, text) for key, _named in self.keys]

    def replayed(self, engine: Any, *, swallow: bool = False) -> tuple[bool, Any]:
        """``(True, first result)`` if a key is recorded for this command; refuse another one.

        ``swallow``: a store that fails to answer counts as no record (the
        caller raises the error it already has).
        """
        for key, named in self.keys:
            try:
                record = _key_record(engine, key)
            except _UNANSWERED:
                if swallow:
                    return False, None
                raise
            if record is None:
                continue
            if record.digest == self.digest:
                result, versions = _read_record(record.result)
                _tell(replayed=True, versions=versions)
                return True, result
            raise self._refusal(record, named)
        return False, None

    def _refusal(self, record: KeyRecord, named: str) -> GoalpathError:
        if named.startswith("id|"):
            _, kind, aggregate_id = named.split("|")
            if record.principal != self.who:
                return DuplicateIdError(kind, UUID(aggregate_id))
            return IdempotencyKeyReusedError(
                f"{kind} {aggregate_id} was created by an earlier request of yours with other "
                "content; nothing was written. Repeat that request exactly to get its "
                f"answer, or give the new {kind} another id",
                field=f"{kind}_id",
            )
        return IdempotencyKeyReusedError(
            "this idempotency key was used before for another command (another command, "
            "other arguments or another principal); nothing was written. Repeat that "
            "command exactly to get its answer, or give a new key for a new command",
            field=KEY_PARAMETER,
        )


def idempotent(
    *, creates: str | None = None, unit: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Give a command of the application its ``idempotency_key`` (see the module).

    ``creates``: the parameter holding the caller's id of what it creates
    (``"goal_id"``), itself a key. ``unit=False``: the command cannot run in
    a unit of work (an erasure); its key is recorded after it, in a
    transaction of its own.
    """

    def decorate(command: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(command)
        if KEY_PARAMETER not in signature.parameters:
            msg = f"{command.__qualname__} must take {KEY_PARAMETER} as a parameter"
            raise TypeError(msg)
        name = command.__name__

        @functools.wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            given = kwargs.get(KEY_PARAMETER)
            caller_id = kwargs.get(creates) if creates else None
            if given is None and caller_id is None:
                return command(*args, **kwargs)
            limit = kwargs.get("max_rows", DEFAULT_MAX_IMPORT_ROWS)
            limit = limit if isinstance(limit, int) else DEFAULT_MAX_IMPORT_ROWS
            args = tuple(_materialised(value, limit) for value in args)  # type: ignore[assignment]
            kwargs = {key: _materialised(value, limit) for key, value in kwargs.items()}  # type: ignore[assignment]
            app: Any = args[0]
            keys = _keys_of(
                app._engine,
                name=name,
                signature=signature,
                args=args,
                kwargs=kwargs,
                creates=creates,
            )
            if keys is None:
                return command(*args, **kwargs)  # an id it refuses, with its own error
            return cast("R", _keyed(command, keys, unit=unit, args=args, kwargs=kwargs))

        return run

    return decorate


def _keys_of(
    engine: Any,
    *,
    name: str,
    signature: inspect.Signature,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    creates: str | None,
) -> _Keys | None:
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop("self", None)
    given = arguments.pop(KEY_PARAMETER, None)
    keys: list[tuple[bytes, str]] = []
    if given is not None:
        keys.append((f"key|{check_idempotency_key(given)}".encode(), "key"))
    if creates is not None and arguments.get(creates) is not None:
        kind = creates.removesuffix("_id")
        try:
            aggregate_id = as_uuid(arguments[creates], kind)
        except GoalpathError:
            return None
        arguments[creates] = aggregate_id
        named = f"id|{kind}|{aggregate_id}"
        keys.append((named.encode(), named))
    who = _who(arguments.get("actor"))
    arguments["actor"] = who
    secret = engine.master_key.derive(_PURPOSE)
    command = json.dumps(
        {"command": name, "arguments": {key: canonical(value) for key, value in arguments.items()}},
        sort_keys=True,
        separators=(",", ":"),
    )
    return _Keys(
        [(_mac(secret, key), named) for key, named in keys],
        _mac(secret, b"command|" + command.encode()),
        _mac(secret, b"principal|" + json.dumps(who, sort_keys=True).encode()),
    )


def _key_record(engine: Any, key: bytes) -> KeyRecord | None:
    """The record of an idempotency key: kept in the engine's unit of work, or stored."""
    unit: PendingWrites | None = engine._unit
    if unit is not None and key in unit.keys:
        return unit.keys[key]
    recorder: KeyRecorder = engine.recorder  # every goalpath recorder keeps key records
    return recorder.select_key_record(key)


def _mac(secret: bytes, message: bytes) -> bytes:
    return hmac.digest(secret, message, hashlib.sha256)


def _keyed(
    command: Callable[..., Any],
    keys: _Keys,
    *,
    unit: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    app: Any = args[0]
    engine = app._engine
    done, result = keys.replayed(engine)
    if done:
        return result
    if engine._unit is not None:  # a host's unit of work: the key goes with its events
        result = command(*args, **kwargs)
        for record in keys.records(result, _versions(engine._unit)):
            engine._unit.record_key(record)
        return result
    if not unit:
        result = command(*args, **kwargs)
        try:
            engine._save(based_on={}, keys=keys.records(result, {}))
        except GoalpathError as error:
            # Done and irreversible: the command's result stands, and a retry with the key
            # answers from what it did (a keyed erasure of an erased client gives its record).
            LOG.warning("idempotency key of %s not recorded (%s)", command.__name__, error)
        return result
    work = copy.copy(app)
    work._engine = copy.copy(engine)
    pending = work._engine._unit = PendingWrites(holding=True)
    try:
        try:
            result = command(work, *args[1:], **kwargs)
        finally:
            pending.ended = True
        for record in keys.records(result, _versions(pending)):
            pending.record_key(record)
        engine._write_unit(pending)
    except GoalpathError:
        # Another writer of the same key may have won the race (a conflict, a duplicate
        # id), or the store may have committed before failing (an unknown outcome).
        done, first = keys.replayed(engine, swallow=True)
        if done:
            return first
        raise
    finally:
        pending.release()
    return result


def _versions(unit: PendingWrites) -> dict[UUID, int]:
    """The version of each aggregate a unit holds, as its commands so far left it."""
    return {aggregate.id: aggregate.version for aggregate in unit.aggregates()}
