"""Goal and episode ids on the command line: a whole UUID, or the start of one.

Tables show the first 8 characters of an id; every command that takes a
goal or an episode accepts such a start (at least 4 hex digits) and finds
the one record it names in the read models. A start that names no record,
or several, is refused with exit status 1, listing the candidates.
"""

from __future__ import annotations

from typing import Any, Final, Literal
from uuid import UUID

import click

from goalpath.cli.common import open_app
from goalpath.projections import Projections

__all__ = ["EPISODE_ID", "GOAL_ID", "MIN_PREFIX", "RecordId", "UnknownIdError"]

MIN_PREFIX: Final = 4
"""The fewest hex digits a shortened id may have."""


class UnknownIdError(click.ClickException):
    """A shortened id names no record, or several (exit status 1)."""

    exit_code = 1


class RecordId(click.ParamType):  # type: ignore[type-arg]  # generic only in newer click
    """A goal or episode id: a UUID, or a unique start of one."""

    def __init__(self, kind: Literal["goal", "episode"]) -> None:
        self.kind = kind
        self.name = f"{kind}_id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> UUID:
        """The UUID named by ``value``, looked up in the store when it is a start."""
        if isinstance(value, UUID):
            return value
        text = str(value).strip().lower()
        try:
            return UUID(text)
        except ValueError:
            pass
        digits = text.replace("-", "")
        if len(digits) < MIN_PREFIX or any(char not in "0123456789abcdef" for char in digits):
            self.fail(
                f"{value!r} is not a {self.kind} id: give the whole id or at least "
                f"{MIN_PREFIX} of its first hex digits",
                param,
                ctx,
            )
        if ctx is None:  # pragma: no cover  # click always passes a context
            self.fail(f"cannot look up the {self.kind} id {value!r} here", param, ctx)
        with open_app(ctx) as app, Projections(app) as projections:
            found = projections.ids_starting_with(self.kind, digits)
        if not found:
            raise UnknownIdError(f"no {self.kind} id starts with {value!r}")
        if len(found) > 1:
            listing = ", ".join(str(candidate) for candidate in found[:10])
            more = f" and {len(found) - 10} more" if len(found) > 10 else ""
            raise UnknownIdError(
                f"{value!r} starts {len(found)} {self.kind} ids: {listing}{more}; give more digits"
            )
        return found[0]


GOAL_ID: Final = RecordId("goal")
"""A goal id, whole or a unique start of one."""

EPISODE_ID: Final = RecordId("episode")
"""An episode id, whole or a unique start of one."""
