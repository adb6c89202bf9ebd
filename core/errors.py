"""Typed errors: every refusal goalpath makes is one of these.

Each message says what was wrong and what would be accepted, so a clinician
reading it through a host system or the command line can act on it.
"""

from __future__ import annotations

from uuid import UUID

__all__ = [
    "ClientErasedError",
    "ConflictError",
    "DuplicateIdError",
    "GoalpathError",
    "InvalidCommandError",
    "InvalidValueError",
    "NotAuthorizedError",
    "NotFoundError",
    "NotSmartError",
    "StoreError",
    "TamperedError",
    "UnhandledEventError",
]


class GoalpathError(Exception):
    """Base class of every error goalpath raises on purpose."""


class InvalidValueError(GoalpathError, ValueError):
    """A value given to goalpath is not acceptable (out of range, empty, too long...)."""


class InvalidCommandError(GoalpathError):
    """A command is not allowed in the aggregate's current state.

    For example measuring a retired goal, or recording a session in a closed
    episode.
    """


class NotSmartError(InvalidCommandError):
    """A goal that is not SMART was asked to become active.

    The ``report`` attribute holds the SMART report with a reason and a
    suggestion for every letter that failed.
    """

    def __init__(self, message: str, report: object) -> None:
        super().__init__(message)
        self.report = report


class NotFoundError(GoalpathError, KeyError):
    """No goal or episode has the given id."""

    def __init__(self, kind: str, aggregate_id: UUID | str) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        super().__init__(f"no {kind} with id {aggregate_id}")

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

    def __init__(self, kind: str, aggregate_id: UUID) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        super().__init__(
            f"a {kind} with id {aggregate_id} already exists; choose another id "
            "or leave it out and goalpath will create one"
        )


class ConflictError(GoalpathError):
    """A write was based on a stale version of a goal or episode; nothing was written.

    ``expected_version`` is the version the writer based its change on and
    ``actual_version`` the version now stored.
    """

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


class ClientErasedError(GoalpathError):
    """The client's key was destroyed (crypto-shredding): their records can no longer be read.

    The records' structure (ids, versions, event types) remains for the audit.
    """


class TamperedError(GoalpathError):
    """A stored record does not authenticate: it was altered, moved or forged."""


class UnhandledEventError(GoalpathError, TypeError):
    """A reader of events met an event type it does not handle: a gap in goalpath itself.

    Raised instead of skipping the event, so that a new event type that a
    projector, the change describer or an exporter does not know about fails
    loudly (and in the event-coverage test) rather than being lost silently.
    """

    def __init__(self, event: object) -> None:
        self.event_type = type(event).__qualname__
        super().__init__(
            f"no handler for the event type {self.event_type}: goalpath's readers of events "
            "must each handle every event class (see docs/architecture.md)"
        )
