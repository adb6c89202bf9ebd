"""JSON Schema parts for goalpath's values, read from their type annotations.

A value object's document is :func:`~goalpath.core.values.jsonable` of it:
each attrs field under its own name. Its schema is made here from the same
fields and their annotations, so a field added to a value, or a type
changed, changes the schema with it (one definition). The documents built
by hand (:mod:`goalpath.exports.documents`) are described in
:mod:`goalpath.exports.schemas` with these parts.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence, Set
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import attrs

__all__ = [
    "BOOLEAN",
    "DATE",
    "DATE_TIME",
    "INTEGER",
    "NULL",
    "NUMBER",
    "STRING",
    "UUID_STRING",
    "Schema",
    "array",
    "closed",
    "enum",
    "fields_of",
    "nullable",
    "of_type",
    "record",
    "returned",
]

Schema = dict[str, Any]
"""A JSON Schema (or a part of one) as JSON-ready data."""

STRING: Schema = {"type": "string"}
"""Any text."""
INTEGER: Schema = {"type": "integer"}
"""A whole number."""
NUMBER: Schema = {"type": "number"}
"""Any number (JSON has no NaN or infinity; goalpath refuses them as values)."""
BOOLEAN: Schema = {"type": "boolean"}
"""``true`` or ``false``."""
NULL: Schema = {"type": "null"}
"""``null``."""
DATE: Schema = {"type": "string", "format": "date"}
"""A calendar date, ``YYYY-MM-DD``."""
DATE_TIME: Schema = {"type": "string", "format": "date-time"}
"""A time with its offset from UTC (ISO 8601 / RFC 3339)."""
UUID_STRING: Schema = {"type": "string", "format": "uuid"}
"""An id: a UUID in its hyphenated text form."""


def nullable(schema: Schema) -> Schema:
    """``schema`` or ``null``."""
    return {"anyOf": [schema, NULL]}


def array(items: Schema) -> Schema:
    """A JSON array of ``items``."""
    return {"type": "array", "items": items}


def enum(values: Iterable[object]) -> Schema:
    """One of ``values``."""
    return {"enum": list(values)}


def closed(properties: Mapping[str, Schema], *, optional: Iterable[str] = ()) -> Schema:
    """An object with exactly these properties (all required but ``optional``), nothing else."""
    left_out = set(optional)
    return {
        "type": "object",
        "properties": dict(properties),
        "required": [name for name in properties if name not in left_out],
        "additionalProperties": False,
    }


def record(
    cls: type,
    *,
    rename: Mapping[str, str] | None = None,
    drop: Iterable[str] = (),
    extra: Mapping[str, Schema] | None = None,
) -> Schema:
    """The closed object :func:`~goalpath.core.values.jsonable` makes of an attrs class.

    ``rename`` gives fields that a document prints under another name,
    ``drop`` fields it leaves out and ``extra`` properties it adds.
    """
    properties = fields_of(cls)
    for name in drop:
        del properties[name]
    renamed = {(rename or {}).get(name, name): schema for name, schema in properties.items()}
    return closed({**renamed, **(extra or {})})


def returned(member: object) -> Schema:
    """The schema of what a function or property returns, from its return annotation."""
    function = member.fget if isinstance(member, property) else member
    return of_type(typing.get_type_hints(function)["return"])


def fields_of(cls: type) -> dict[str, Schema]:
    """Each attrs field of ``cls`` with the schema of its annotated type, in field order."""
    hints = typing.get_type_hints(cls)
    return {field.name: of_type(hints[field.name]) for field in attrs.fields(cls)}


def of_type(annotation: object) -> Schema:  # noqa: PLR0911  # one case per kind of type
    """The schema of a value of this annotated type, as ``jsonable`` prints it."""
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if annotation is Any or annotation is object:
        return {}
    if origin is Literal:
        return enum(arguments)
    if origin in (typing.Union, types.UnionType):
        choices = [of_type(argument) for argument in arguments if argument is not type(None)]
        one = choices[0] if len(choices) == 1 else {"anyOf": choices}
        return nullable(one) if type(None) in arguments else one
    if origin is tuple and not (len(arguments) == 2 and arguments[1] is Ellipsis):
        return {
            "type": "array",
            "prefixItems": [of_type(argument) for argument in arguments],
            "minItems": len(arguments),
            "maxItems": len(arguments),
        }
    if isinstance(origin, type) and issubclass(origin, Mapping):
        return {"type": "object", "additionalProperties": of_type(arguments[1])}
    if isinstance(origin, type) and issubclass(origin, Sequence | Set):
        return array(of_type(arguments[0]))
    if isinstance(annotation, type):
        return _of_class(annotation)
    raise TypeError(f"no JSON Schema for the annotation {annotation!r}")


def _of_class(cls: type) -> Schema:  # noqa: PLR0911  # one case per JSON type
    if attrs.has(cls):
        return record(cls)
    if cls is bool:
        return BOOLEAN
    if cls is int:
        return INTEGER
    if cls is float:
        return NUMBER
    if cls is str:
        return STRING
    if cls is datetime:  # before date: a datetime is a date
        return DATE_TIME
    if cls is date:
        return DATE
    if cls is UUID:
        return UUID_STRING
    raise TypeError(f"no JSON Schema for values of {cls.__qualname__}")
