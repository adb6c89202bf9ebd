"""Typed errors: every refusal goalpath makes is one of these.

Each message says what was wrong and what would be accepted, so a clinician
reading it through a host system or the command line can act on it. Each
error also carries the same in structure, for a host that shows a refusal
next to the input at fault: ``code`` (stable, one of :data:`ERROR_CODES`),
``field`` (the input at fault, where it is known) and ``accepted`` (what
would be accepted there, where it applies).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Final
from uuid import UUID

if TYPE_CHECKING:
    from goalpath.core.smart import SmartReport

__all__ = [
    "ERROR_CODES",
    "Accepted",
    "ClientErasedError",
    "ConflictError",
    "DuplicateIdError",
    "GoalpathError",
    "IdempotencyKeyReusedError",
    "InvalidCommandError",
    "InvalidValueError",
    "LimitExceededError",
    "NotAuthorizedError",
    "NotFoundError",
    "NotSmartError",
    "OutcomeUnknownError",
    "StoreError",
    "TamperedError",
    "UnhandledEventError",
]


ERROR_CODES: Final[dict[str, str]] = {
    "invalid-value": "a value is out of range, empty, too long, not finite, of the wrong type...",
    "limit-exceeded": "an input is over one of goalpath's size limits (rows per import, length)",
    "invalid-command": "the command is not allowed in the goal's or episode's current state",
    "not-smart": "a goal that is not SMART was asked to become active",
    "not-found": "no goal, episode, template or instrument has that id",
    "duplicate-id": "a caller-supplied id exists already",
    "idempotency-key-reused": "an idempotency key (or a caller's id) was used for another command",
    "version-conflict": "another writer changed the goal or episode first",
    "not-authorized": "the policy refused the principal this command or read",
    "client-erased": "the client's data was erased",
    "tampered": "a stored record does not authenticate",
    "store-unavailable": "the store cannot be opened or used",
    "outcome-unknown": "the store failed while committing: the write may or may not be stored",
    "projection-unavailable": "a read model cannot be brought up to date or read",
    "plugin-failed": "a modality plugin could not be loaded or contributed something invalid",
    "unhandled-event": "a reader of events met an event type it does not handle (a defect)",
    "feature-unavailable": "the request needs an optional package that is not installed",
    "invalid-usage": "the request itself is malformed: an unknown option, a missing argument",
    "not-authenticated": "the server was given no valid bearer token (missing, expired, forged)",
    "internal-error": "the server met an unexpected failure; it is logged, never shown",
    "aborted": "the command was stopped before it answered",
    "refused": "goalpath refused the request (an error with no more specific code)",
}
"""Every error ``code`` goalpath gives, with its meaning; the codes are stable.

A host branches on the code, not on the message (which may be reworded) nor
on the class name. ``invalid-usage`` and ``aborted`` are the command line's
and the server's, for requests that never reach a command;
``not-authenticated`` and ``internal-error`` are the server's alone.
"""

Accepted = str | tuple[str, ...]
"""What an input accepts: the codes, when it is one of a fixed set, else a sentence."""


class GoalpathError(Exception):
    """Base class of every error goalpath raises on purpose.

    ``code`` is the error's stable code (a key of :data:`ERROR_CODES`),
    ``field`` the input at fault where it is known (``"target.value"``,
    ``"observed_on"``), else ``None``, and ``accepted`` what that input
    accepts where it applies (:data:`Accepted`), else ``None``.
    """

    code: ClassVar[str] = "refused"
    field: str | None
    accepted: Accepted | None

    def __init__(
        self, *args: object, field: str | None = None, accepted: Iterable[str] | str | None = None
    ) -> None:
        super().__init__(*args)
        self.field = field
        self.accepted = (
            accepted if accepted is None or isinstance(accepted, str) else tuple(accepted)
        )


class InvalidValueError(GoalpathError, ValueError):
    """A value given to goalpath is not acceptable (out of range, empty, too long...)."""

    code: ClassVar[str] = "invalid-value"


class LimitExceededError(InvalidValueError):
    """An input is over one of goalpath's size limits; ``limit`` is the limit it is over.

    For example a CSV file with more rows than one import takes, or an id
    longer than the longest accepted; the message names the limit and, where
    the caller can raise it, how. ``docs/inputs.md`` lists every limit.
    """

    code: ClassVar[str] = "limit-exceeded"

    def __init__(
        self,
        *args: object,
        limit: int,
        field: str | None = None,
        accepted: Iterable[str] | str | None = None,
    ) -> None:
        super().__init__(*args, field=field, accepted=accepted)
        self.limit = limit


class InvalidCommandError(GoalpathError):
    """A command is not allowed in the aggregate's current state.

    For example measuring a retired goal, or recording a session in a closed
    episode.
    """

    code: ClassVar[str] = "invalid-command"


class NotSmartError(InvalidCommandError):
    """A goal that is not SMART was asked to become active.

    The ``report`` attribute holds the SMART report with a reason and a
    suggestion for every letter that failed (``report.failed_letters``).
    """

    code: ClassVar[str] = "not-smart"

    def __init__(self, message: str, report: SmartReport) -> None:
        super().__init__(message)
        self.report = report


class NotFoundError(GoalpathError, KeyError):
    """No goal or episode has the given id."""

    code: ClassVar[str] = "not-found"

    def __init__(self, kind: str, aggregate_id: UUID | str) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        super().__init__(f"no {kind} with id {aggregate_id}", field=f"{kind}_id")

    def __str__(self) -> str:
        # KeyError would otherwise quote the message.
        return str(self.args[0])


def _doing(action: str) -> str:
    """A command's name as words (``record measurement``), a read as ``read the plan``."""
    return action.replace("_", " ") if "_" in action else f"read the {action}"


class NotAuthorizedError(GoalpathError):
    """The authorization policy refused a command or read; nothing was written.

    ``rule`` names the policy's rule (``therapist-acts-on-assigned-episodes``),
    ``action`` the command or read, ``principal_id`` and ``role`` who asked.
    """

    code: ClassVar[str] = "not-authorized"

    def __init__(
        self, principal_id: str, role: str, action: str, rule: str, explanation: str
    ) -> None:
        self.principal_id = principal_id
        self.role = role
        self.action = action
        self.rule = rule
        super().__init__(
            f"{role} {principal_id} may not {_doing(action)}: {explanation} "
            f"(rule {rule}); ask someone whose role allows it"
        )


class DuplicateIdError(GoalpathError):
    """A caller-supplied id is already used; goalpath never writes a duplicate."""

    code: ClassVar[str] = "duplicate-id"

    def __init__(self, kind: str, aggregate_id: UUID) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        super().__init__(
            f"a {kind} with id {aggregate_id} already exists; choose another id "
            "or leave it out and goalpath will create one",
            field=f"{kind}_id",
        )


class IdempotencyKeyReusedError(GoalpathError):
    """An idempotency key, or the caller's id of a create, was used before for another command.

    The first command given the key (its name and arguments, and who gave it)
    is stored with it; the same key with anything else is refused, and
    nothing is written. A retry must repeat the command exactly; a new
    command needs a new key. Distinct from
    :class:`DuplicateIdError`: there the id is another caller's.
    """

    code: ClassVar[str] = "idempotency-key-reused"


class ConflictError(GoalpathError):
    """A write was based on a stale version of a goal or episode; nothing was written.

    ``expected_version`` is the version the writer based its change on and
    ``actual_version`` the version now stored.
    """

    code: ClassVar[str] = "version-conflict"

    def __init__(
        self, kind: str, aggregate_id: UUID, expected_version: int, actual_version: int
    ) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"{kind} {aggregate_id} changed underneath this command: it was based on "
            f"version {expected_version} but version {actual_version} is stored; "
            "nothing was written. Reload the "
            f"{kind} and apply the change again."
        )


class StoreError(GoalpathError):
    """The event store could not be opened or used (bad path, locked file...)."""

    code: ClassVar[str] = "store-unavailable"


class OutcomeUnknownError(StoreError):
    """The store failed while it committed: the write may be stored or not; goalpath cannot tell.

    A lost connection during the commit is the usual cause. Read the
    aggregate again to see whether the change is there before repeating it.
    """

    code: ClassVar[str] = "outcome-unknown"


class ClientErasedError(GoalpathError):
    """The client's key was destroyed (crypto-shredding): their records can no longer be read.

    The records' structure (ids, versions, event types) remains for the audit.
    """

    code: ClassVar[str] = "client-erased"


class TamperedError(GoalpathError):
    """A stored record does not authenticate: it was altered, moved or forged."""

    code: ClassVar[str] = "tampered"


class UnhandledEventError(GoalpathError, TypeError):
    """A reader of events met an event type it does not handle: a gap in goalpath itself.

    Raised instead of skipping the event, so that a new event type that a
    projector, the change describer or an exporter does not know about fails
    loudly (and in the event-coverage test) rather than being lost silently.
    """

    code: ClassVar[str] = "unhandled-event"

    def __init__(self, event: object) -> None:
        self.event_type = type(event).__qualname__
        super().__init__(
            f"no handler for the event type {self.event_type}: goalpath's readers of events "
            "must each handle every event class (see docs/architecture.md)"
        )
