"""Command-line parameter types that check their value by goalpath's input rules.

Each type hands its value to :mod:`goalpath.core.inputs`, the checks the
Python API uses too, so the command line accepts exactly what the API
accepts. A refusal is the core's typed error (not a click usage error), so
it prints as one line on stderr (exit 1), or as the JSON error document
with ``--json``, before the store is opened.
"""

from __future__ import annotations

from typing import Final

import click

from goalpath.core.errors import GoalpathError
from goalpath.core.inputs import check_identity, check_tenant, parse_number

__all__ = ["IDENTITY", "NUMBER", "Identity", "Number", "tenant_option_value"]


def _label(param: click.Parameter | None, fallback: str) -> str:
    """The parameter as the user typed it: ``--actor``, or an argument's name (``CLIENT_ID``)."""
    if param is None:
        return fallback
    options = [opt for opt in getattr(param, "opts", ()) if opt.startswith("--")]
    if isinstance(param, click.Option) and options:
        return str(options[0])
    return str(param.name or param.human_readable_name)


class Identity(click.ParamType[str]):
    """An id (actor, client, therapist): checked and NFC normalised by ``check_identity``."""

    name = "id"

    def convert(
        self, value: object, param: click.Parameter | None, _ctx: click.Context | None
    ) -> str:
        """Return the checked id; a refusal raises the core's ``InvalidValueError``."""
        label = _label(param, "id")
        try:
            return check_identity(label, value)
        except GoalpathError as error:
            error.field = error.field or label
            raise


class Number(click.ParamType[float]):
    """A number in ASCII decimal notation, within goalpath's range (``parse_number``)."""

    name = "number"

    def convert(
        self, value: object, param: click.Parameter | None, _ctx: click.Context | None
    ) -> float:
        """Return the number; ``1_0``, other scripts' digits, ``inf`` and ``nan`` are refused."""
        if isinstance(value, float):  # a default, already a number
            return value
        return parse_number(str(value), _label(param, "value"))


IDENTITY: Final = Identity()
"""The type of every option or argument that names an actor, a client or a therapist."""

NUMBER: Final = Number()
"""The type of every option or argument that takes a measurement-like number."""


def tenant_option_value(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> str | None:
    """The ``--tenant`` callback: a tenant name given is checked (``''`` is refused)."""
    return None if value is None else check_tenant(value)
