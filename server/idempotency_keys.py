"""The ``Idempotency-Key`` request header: a command retried over HTTP is written once.

Every command route (each ``POST`` and ``PUT``) takes an optional
``Idempotency-Key`` header, as the IETF httpapi draft "The Idempotency-Key
HTTP Header Field" defines it: a Structured Field String
(``Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"``); goalpath also
takes the key unquoted. The key goes to the command as its
``idempotency_key`` (:mod:`goalpath.core.application.idempotency`), which
gives the HTTP semantics the draft asks for:

- the same request again with the same key (a retry after a timeout) is
  answered as the first one was, with the same status and the same body
  (the goal or episode as that command left it, its version the ``ETag``),
  and writes nothing;
- the same key with another request (another route, other arguments,
  another ``If-Match``, another caller) is refused: 422
  ``idempotency-key-reused``, nothing written;
- a duplicate that arrives while the first is still being written waits
  for it (the aggregate's command lock in one process, the key's
  uniqueness in the store across processes) and is answered with its
  result; goalpath never writes it twice. A duplicate it cannot match with
  the first, because the first's outcome is not known yet, is refused as
  any refused write is, and is safe to retry with the same key.

A malformed header (not a string, more than one, a key longer than
:data:`MAX_KEY_LENGTH` or holding a character that is not printable ASCII)
is refused: 400 ``invalid-usage``, ``field`` ``Idempotency-Key``. Keys do not
expire: a key stays bound to its first request for as long as the store
keeps its events.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import Depends, Header, Request

from goalpath.core.application.idempotency import KeyedOutcome, keyed_outcome
from goalpath.core.errors import IdempotencyKeyReusedError
from goalpath.core.inputs import MAX_ID_LENGTH
from goalpath.server.problems import InvalidRequestError

__all__ = [
    "IDEMPOTENCY_KEY_HEADER",
    "MAX_KEY_LENGTH",
    "PARAMETER_COMPONENT",
    "IdempotencyKeyDep",
    "Keyed",
    "document_idempotency_key",
    "key_reused",
    "keyed",
    "parse_idempotency_key",
]

IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"

MAX_KEY_LENGTH: Final = MAX_ID_LENGTH
"""The longest key taken, in characters (the quotes and escapes of its string form not counted)."""

_MAX_HEADER_LENGTH: Final = 2 * MAX_KEY_LENGTH + 2
"""The longest header value: a key of escaped characters, in quotes."""

PARAMETER_COMPONENT: Final = "IdempotencyKey"
"""The header's name among the OpenAPI document's reusable parameters."""

_STRING: Final = re.compile(r'"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"')
"""A Structured Field String (RFC 9651, section 3.3.3): printable ASCII in quotes."""

_TOKEN: Final = re.compile(r"[\x21\x23-\x7e][\x21-\x7e]*")
"""A key given unquoted: visible ASCII, no space, not starting with a quote."""

_ACCEPTED: Final = (
    f"a string of 1 to {MAX_KEY_LENGTH} printable ASCII characters, in quotes "
    '("8e03978e-40d5-43e8-bc93-6894a57f9324") or unquoted without spaces'
)

_DESCRIPTION: Final = (
    'An idempotency key (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): '
    f"a string of 1 to {MAX_KEY_LENGTH} printable ASCII characters, in quotes as a "
    "Structured Field String, or unquoted without spaces; a random UUID is a good key. "
    "The same request again with the same key is answered as the first one was (same "
    "status, same body) and writes nothing; the same key with another request is refused "
    "(422 idempotency-key-reused). Keys do not expire."
)


def parse_idempotency_key(values: list[str]) -> str | None:
    """The key the request's ``Idempotency-Key`` header values give (``None``: no header).

    Refused (:class:`~goalpath.server.problems.InvalidRequestError`, 400):
    more than one header, a value that is neither a quoted string nor an
    unquoted token of visible ASCII, an empty key, a key over
    :data:`MAX_KEY_LENGTH` characters.
    """
    if not values:
        return None
    if len(values) > 1:
        raise _refused(f"the request has {len(values)} {IDEMPOTENCY_KEY_HEADER} headers; send one")
    value = values[0].strip(" \t")
    if len(value) > _MAX_HEADER_LENGTH:
        raise _refused(
            f"{IDEMPOTENCY_KEY_HEADER} is {len(value)} characters long; keys are at most "
            f"{MAX_KEY_LENGTH} characters"
        )
    quoted = _STRING.fullmatch(value)
    if quoted is not None:
        key = re.sub(r"\\(.)", r"\1", quoted.group(1))
    elif _TOKEN.fullmatch(value):
        key = value
    else:
        raise _refused(
            f"{IDEMPOTENCY_KEY_HEADER} {value[:60]!r} is not a key: it must be printable ASCII, "
            "in quotes (a backslash before a quote or a backslash inside them), or unquoted "
            "without spaces"
        )
    if not key.strip(" "):
        raise _refused(f"{IDEMPOTENCY_KEY_HEADER} must not be empty or blank")
    if len(key) > MAX_KEY_LENGTH:
        raise _refused(
            f"{IDEMPOTENCY_KEY_HEADER} holds a key of {len(key)} characters; at most "
            f"{MAX_KEY_LENGTH} are accepted"
        )
    return key


def _refused(message: str) -> InvalidRequestError:
    return InvalidRequestError(message, field=IDEMPOTENCY_KEY_HEADER, accepted=_ACCEPTED)


def _idempotency_key(
    request: Request,
    idempotency_key: Annotated[  # noqa: ARG001  # read from the request: every value of it
        str | None, Header(alias=IDEMPOTENCY_KEY_HEADER, description=_DESCRIPTION)
    ] = None,
) -> str | None:
    return parse_idempotency_key(request.headers.getlist(IDEMPOTENCY_KEY_HEADER))


IdempotencyKeyDep = Annotated[str | None, Depends(_idempotency_key)]
"""A command route's parameter for the request's idempotency key (``None`` without one)."""


class Keyed:
    """A command run with the request's key: which version of an aggregate to answer with."""

    def __init__(self, key: str | None, outcome: KeyedOutcome) -> None:
        self.key = key
        """The request's idempotency key (``None``: the request has none)."""
        self.outcome = outcome

    def version_of(self, aggregate_id: UUID) -> int | None:
        """The version the keyed command left ``aggregate_id`` at (``None``: answer the current).

        A retry answers with the same version as the first request did, so
        with the same body, whatever was written since.
        """
        if self.key is None:
            return None
        return self.outcome.versions.get(aggregate_id)


@contextmanager
def keyed(key: str | None) -> Iterator[Keyed]:
    """Run the block's command with ``key``; the :class:`Keyed` tells what it left."""
    with keyed_outcome() as outcome:
        yield Keyed(key, outcome)


def key_reused(error: IdempotencyKeyReusedError) -> bool:
    """Whether ``error`` refuses the request's key (not a caller's id given again otherwise)."""
    return error.field == "idempotency_key"


def document_idempotency_key(document: dict[str, Any]) -> None:
    """Make the header one reusable parameter of the OpenAPI document, referred to by each route."""
    components = document.setdefault("components", {}).setdefault("parameters", {})
    components[PARAMETER_COMPONENT] = {
        "name": IDEMPOTENCY_KEY_HEADER,
        "in": "header",
        "required": False,
        "description": _DESCRIPTION,
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": _MAX_HEADER_LENGTH,
            "pattern": "^[\\x21-\\x7e]([\\x20-\\x7e]*[\\x21-\\x7e])?$",
        },
        "example": '"8e03978e-40d5-43e8-bc93-6894a57f9324"',
    }
    reference = {"$ref": f"#/components/parameters/{PARAMETER_COMPONENT}"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            parameters = operation.get("parameters", [])
            for index, parameter in enumerate(parameters):
                if parameter.get("in") == "header" and parameter.get("name") == (
                    IDEMPOTENCY_KEY_HEADER
                ):
                    parameters[index] = reference
