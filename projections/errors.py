"""Typed errors of the read side."""

from __future__ import annotations

from typing import ClassVar

from goalpath.core.errors import GoalpathError, InvalidValueError

__all__ = ["ProjectionError", "UnknownInstrumentError"]


class ProjectionError(GoalpathError):
    """A read model could not be brought up to date or read (store locked, schema mismatch...)."""

    code: ClassVar[str] = "projection-unavailable"


class UnknownInstrumentError(InvalidValueError):
    """An instrument code has no outcome conventions (caseness, reliable change) in goalpath.

    ``instrument`` is the code given.
    """

    def __init__(self, code: str, known: tuple[str, ...]) -> None:
        self.instrument = code
        super().__init__(
            f"no outcome conventions for instrument {code!r}; "
            f"known instruments: {', '.join(known)}",
            field="instrument",
            accepted=known,
        )
