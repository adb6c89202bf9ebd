"""What goalpath accepts from outside: numbers, identities, tenant names, times, text files, sizes.

Every input a host or a clinician gives goalpath passes one of these
checks, on the Python API and the command line alike, so that both refuse
the same inputs with the same typed error
(:class:`~goalpath.core.errors.InvalidValueError`, or
:class:`~goalpath.core.errors.LimitExceededError` for a size over its
limit), naming the input, what was wrong and what is accepted.
``docs/inputs.md`` lists every rule and limit with its default.

- numbers: finite, at most :data:`MAX_NUMBER` in size and, unless zero, at
  least :data:`SMALLEST_NUMBER`, so that every value derived from them
  (progress in percent, trends, the distance from a target) stays finite;
  given as text, they are ASCII decimals (``12``, ``-0.5``, ``1e3``), never
  ``1_0``, other scripts' digits, ``inf`` or ``nan``;
- identities (actor, client and therapist ids, read filters): NFC
  normalised, printable, without control, format or bidirectional
  characters, without compatibility look-alikes (fullwidth letters), at
  most :data:`MAX_ID_LENGTH` characters;
- tenant names: 1 to 40 lower-case ASCII letters, digits and underscores,
  starting with a letter, matched whole (a trailing newline is refused);
- times: with a time zone, within the accepted years (:data:`EARLIEST_DATE`
  to :data:`LATEST_DATE`);
- text files: decoded strictly (UTF-8, with or without a byte order mark,
  unless an encoding is named); a table's columns checked by name.
"""

from __future__ import annotations

import codecs
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any, BinaryIO, Final, TypeVar, cast

from goalpath.core.errors import InvalidValueError, LimitExceededError

__all__ = [
    "DEFAULT_MAX_IMPORT_ROWS",
    "EARLIEST_DATE",
    "LATEST_DATE",
    "MAX_FIELD_LENGTH",
    "MAX_ID_LENGTH",
    "MAX_LINE_LENGTH",
    "MAX_NUMBER",
    "SMALLEST_NUMBER",
    "TEXT_ENCODING",
    "bounded_rows",
    "check_columns",
    "check_filter",
    "check_idempotency_key",
    "check_identity",
    "check_identity_list",
    "check_list",
    "check_moment",
    "check_number",
    "check_tenant",
    "check_text_list",
    "normalise_identity",
    "parse_number",
    "text_lines",
    "undecodable",
]

MAX_NUMBER: Final = 1e9
"""The largest size of a number goalpath accepts (a measurement, baseline, target, range bound).

A measure without a range accepts -1e9 to 1e9: wide enough for any count,
score, duration or distance a therapy goal measures, and small enough that
differences, percentages and trends computed from such values stay finite.
"""

SMALLEST_NUMBER: Final = 1e-6
"""The smallest size of a number other than zero that goalpath accepts.

Below it a number is taken as an error of entry (or of a program); with it,
the distance from a baseline to a target, when not zero, is never so small
that the percentage of the way covered overflows.
"""

MAX_ID_LENGTH: Final = 200
"""The longest identity accepted (actor, client, therapist ids, read filters), in characters."""

MAX_FIELD_LENGTH: Final = 4000
"""The longest field of an imported table accepted, in characters (a measurement's note)."""

MAX_LINE_LENGTH: Final = 65_536
"""The longest line of a text file read line by line, in characters (far over any row's)."""


DEFAULT_MAX_IMPORT_ROWS: Final = 10_000
"""The most rows one import takes unless the caller allows more (``--max-rows``, ``max_rows``)."""

TEXT_ENCODING: Final = "utf-8"
"""The encoding of text files unless one is named; a UTF-8 byte order mark is accepted."""

EARLIEST_DATE: Final = date(1900, 1, 1)
"""The earliest date accepted; an earlier one is taken as a typing error."""

LATEST_DATE: Final = date(2199, 12, 31)
"""The latest date accepted; a later one is taken as a typing error (and would overflow)."""

T = TypeVar("T")

_DECIMAL: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_TENANT: Final = re.compile(r"[a-z][a-z0-9_]{0,39}")

_NUMBERS_ACCEPTED: Final = (
    f"a number from {-MAX_NUMBER:,.0f} to {MAX_NUMBER:,.0f} "
    f"(zero, or at least {SMALLEST_NUMBER:.6f} in size)"
)


def check_number(name: str, value: object) -> float:
    """``value`` as a float: finite, within :data:`MAX_NUMBER` and :data:`SMALLEST_NUMBER` in size.

    Refused with :class:`InvalidValueError` naming ``name``: a bool or a
    non-number, NaN, an infinity, a number too large for a float or over
    :data:`MAX_NUMBER` in size, or one other than zero below
    :data:`SMALLEST_NUMBER` in size.
    """
    if type(value) is float:  # the usual case (every imported row): already a float
        number = value
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise _number_refused(name, "a number", value)
    else:
        try:
            number = float(value)
        except OverflowError:
            raise InvalidValueError(
                f"{name} is too large to be a measurement; got {value!r}",
                accepted=_NUMBERS_ACCEPTED,
            ) from None
    if not math.isfinite(number):
        raise _number_refused(name, "a finite number", value)
    size = abs(number)
    if size > MAX_NUMBER or (number != 0 and size < SMALLEST_NUMBER):
        side = "too large" if size > MAX_NUMBER else "too small"
        raise InvalidValueError(
            f"{name} {number:g} is {side}: goalpath accepts {_NUMBERS_ACCEPTED}",
            accepted=_NUMBERS_ACCEPTED,
        )
    return number


def _number_refused(name: str, accepted: str, value: object) -> InvalidValueError:
    shown = repr(value)
    if len(shown) > 80:
        shown = f"{shown[:77]}..."
    return InvalidValueError(f"{name} must be {accepted}; got {shown}", accepted=accepted)


def parse_number(text: str, name: str = "value") -> float:
    """A number given as text (an argument, a CSV cell), checked by :func:`check_number`.

    Only ASCII decimal notation is accepted: an optional sign, digits with an
    optional decimal point, an optional exponent (``12``, ``-0.5``, ``.5``,
    ``1e3``), spaces around it ignored. ``1_0``, digits of other scripts
    (Arabic-Indic, fullwidth), ``inf`` and ``nan`` are refused, which
    Python's ``float()`` would accept.
    """
    stripped = text.strip(" \t") if isinstance(text, str) else text
    if not isinstance(stripped, str) or not _DECIMAL.fullmatch(stripped):
        raise InvalidValueError(
            f"{name} must be a finite number in decimal digits 0-9 (such as 12, -0.5 or 1e3); "
            f"got {_shown(text)}",
            field=name,
            accepted="a finite decimal number in the digits 0-9",
        )
    try:
        return check_number(name, float(stripped))
    except InvalidValueError as error:
        error.field = name
        raise


def _shown(value: object) -> str:
    shown = ascii(value) if isinstance(value, str) else repr(value)
    return shown if len(shown) <= 80 else f"{shown[:77]}..."


def normalise_identity(value: object) -> object:
    """``value`` in Unicode normal form C if it is text, else unchanged (for its validator)."""
    if isinstance(value, str):
        try:
            return unicodedata.normalize("NFC", value)
        except UnicodeError:  # pragma: no cover - normalize handles lone surrogates
            return value
    return value


def _refused_character(character: str) -> str | None:
    """Why ``character`` has no place in an identity, or ``None`` when it has."""
    category = unicodedata.category(character)
    if category == "Cs":
        return "bytes that are not valid text (undecodable, or a lone surrogate)"
    if category.startswith("C"):
        kind = {"Cc": "a control", "Cf": "a format or bidirectional", "Co": "a private-use"}
        return f"{kind.get(category, 'an unassigned')} character U+{ord(character):04X}"
    if category.startswith("Z") and character != " ":
        return f"a space character other than the plain space (U+{ord(character):04X})"
    if unicodedata.normalize("NFKC", character) != character:
        return (
            f"a look-alike character U+{ord(character):04X} ({unicodedata.name(character, '?')}) "
            f"for {unicodedata.normalize('NFKC', character)!r}"
        )
    return None


def check_identity(name: str, value: object) -> str:
    """An identity (actor, client, therapist id, or a read filter by one), NFC normalised.

    Refused: anything but text, blank text, text over :data:`MAX_ID_LENGTH`
    characters, and text holding a control, format or bidirectional
    character (U+202E, U+200B), an undecodable byte, a space other than
    U+0020, or a compatibility look-alike (fullwidth letters), so that two
    ids that look the same in an audit trail are the same id.
    """
    if not isinstance(value, str):
        raise _number_refused(name, f"text of at most {MAX_ID_LENGTH} characters", value)
    if not value.strip():
        raise InvalidValueError(f"{name} must not be empty", accepted="text that is not blank")
    if len(value) > MAX_ID_LENGTH:
        raise LimitExceededError(
            f"{name} is {len(value)} characters long; at most {MAX_ID_LENGTH} are accepted",
            limit=MAX_ID_LENGTH,
            accepted=f"text of at most {MAX_ID_LENGTH} characters",
        )
    for character in value:
        reason = _refused_character(character)
        if reason is not None:
            raise InvalidValueError(
                f"{name} {_shown(value)} holds {reason}; ids are printable text",
                accepted="printable text without control, format or look-alike characters",
            )
    normalised = unicodedata.normalize("NFC", value)
    if len(normalised) > MAX_ID_LENGTH:  # pragma: no cover - NFC of checked text is no longer
        raise LimitExceededError(f"{name} is too long", limit=MAX_ID_LENGTH)
    return normalised


def check_idempotency_key(value: object) -> str:
    """An idempotency key: opaque text, checked as an identity is (:func:`check_identity`).

    At most :data:`MAX_ID_LENGTH` characters, not blank, and no control,
    format, bidirectional or look-alike character; NFC normalised. A UUID or
    any random token of letters and digits passes.
    """
    return check_identity("idempotency key", value)


def check_filter(name: str, value: str | None) -> str | None:
    """A read filter by an id (``client_id=``, ``therapist_id=``): ``None``, or an identity.

    Checked as :func:`check_identity` checks ids (so a filter holding an
    undecodable byte or a look-alike is refused, not sent to the store) and
    NFC normalised, so it finds the ids as they are stored.
    """
    return None if value is None else check_identity(name, value)


def check_list(name: str, value: object) -> tuple[object, ...]:
    """``value`` as a tuple: a list, tuple or other iterable, never a bare string.

    A string is refused rather than read as a list of its characters
    (``"t1"`` is not ``["t", "1"]``); so are bytes and a mapping.
    """
    return tuple(_iterable(name, value))


def _iterable(name: str, value: object) -> Iterable[Any]:
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidValueError(
            f"{name} must be a list, not {_shown(value)}; give [{_shown(value)}] for one",
            field=name,
            accepted="a list",
        )
    return value


def check_text_list(name: str, value: object) -> tuple[str, ...]:
    """A list of texts (``concerns``): :func:`check_list`, each item text (checked by its owner)."""
    items = check_list(name, value)
    for item in items:
        if not isinstance(item, str):
            raise InvalidValueError(
                f"{name} must be a list of texts; got {_shown(item)} in it",
                field=name,
                accepted="a list of texts",
            )
    return cast(tuple[str, ...], items)


def check_identity_list(name: str, value: object) -> tuple[str, ...]:
    """A list of identities (``therapist_ids``), each checked by :func:`check_identity`.

    A bare string is refused (:func:`check_list`).
    """
    return tuple(check_identity(name, item) for item in check_list(name, value))


def check_tenant(tenant: object) -> str:
    """A tenant name: 1 to 40 lower-case ASCII letters, digits or underscores, first a letter.

    The whole name must match (a trailing newline or space is refused); the
    empty name is refused rather than taken as the default store.
    """
    if not isinstance(tenant, str) or not _TENANT.fullmatch(tenant):
        raise InvalidValueError(
            "a tenant name is 1 to 40 lower-case letters, digits or underscores, starting "
            f"with a letter; got {_shown(tenant)}",
            field="tenant",
            accepted="1 to 40 of a-z, 0-9 and _, starting with a letter",
        )
    return tenant


_EARLIEST_MOMENT: Final = datetime.combine(EARLIEST_DATE, time.min, UTC)
_LATEST_MOMENT: Final = datetime.combine(LATEST_DATE, time.max, UTC)


def check_moment(name: str, value: object) -> datetime:
    """A time with a time zone, within :data:`EARLIEST_DATE` and :data:`LATEST_DATE` (UTC).

    A naive time is refused (its zone would be a guess), and so is one whose
    date, in its own zone or in UTC, lies outside the accepted years.
    """
    if not isinstance(value, datetime):
        raise _number_refused(name, "a date and time with a time zone", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(
            f"{name} needs a time zone; got {value.isoformat()}",
            field=name,
            accepted="a time with a time zone",
        )
    inside = EARLIEST_DATE <= value.date() <= LATEST_DATE
    if inside:
        try:
            inside = _EARLIEST_MOMENT <= value <= _LATEST_MOMENT
        except OverflowError:  # pragma: no cover - the date check keeps UTC in range
            inside = False
    if not inside:
        raise InvalidValueError(
            f"{name} {value.isoformat()} is outside the accepted years "
            f"{EARLIEST_DATE.year} to {LATEST_DATE.year}",
            field=name,
            accepted=f"a time from {_EARLIEST_MOMENT.isoformat()} to {_LATEST_MOMENT.isoformat()}",
        )
    return value


def _codec(encoding: str | None) -> str:
    """The codec to decode with: UTF-8 drops a leading byte order mark (spreadsheets write one)."""
    name = TEXT_ENCODING if encoding is None else encoding
    return "utf-8-sig" if name.lower().replace("_", "-") in ("utf-8", "utf8") else name


def _unknown_encoding(encoding: str | None) -> InvalidValueError:
    return InvalidValueError(
        f"unknown text encoding {_shown(encoding)}; name one Python knows, such as "
        "utf-8, cp1252, latin-1 or utf-16",
        field="encoding",
        accepted="a text encoding such as utf-8, cp1252, latin-1 or utf-16",
    )


def undecodable(
    error: UnicodeDecodeError, source: str, encoding: str | None, line: int
) -> InvalidValueError:
    """The refusal of text that ``error`` could not decode, at ``line`` of ``source``.

    It names the byte and says how to fix it: save the file as UTF-8, or
    name its encoding.
    """
    name = TEXT_ENCODING if encoding is None else encoding
    byte = bytes(error.object[error.start : error.start + 1]).hex()
    hint = (
        "save it as UTF-8, or name its encoding (--encoding cp1252, latin-1, utf-16...)"
        if encoding is None
        else f"check that {name} is its encoding"
    )
    return InvalidValueError(
        f"{source} is not {name} text: byte 0x{byte} on line {line} cannot be decoded; {hint}",
        field=source,
        accepted=f"{name} text",
    )


def text_lines(
    stream: BinaryIO, source: str, encoding: str | None = None, *, chunk_size: int = 65_536
) -> Iterator[str]:
    r"""The lines of a binary stream, decoded strictly as they are read, each ending in ``\n``.

    UTF-8 (a leading byte order mark dropped) unless ``encoding`` is named.
    The stream is read in chunks, so neither a huge file nor a huge line is
    held in memory: an undecodable byte is refused (:func:`undecodable`,
    naming its line), and so is a line over :data:`MAX_LINE_LENGTH`
    characters (:class:`LimitExceededError`) and an encoding Python does not
    know. Line ends are kept as they are (``\r\n`` too), for the ``csv`` module.
    """
    try:
        decoder = codecs.getincrementaldecoder(_codec(encoding))(errors="strict")
    except LookupError:
        raise _unknown_encoding(encoding) from None
    line, pending = 1, ""
    while True:
        chunk = stream.read(chunk_size)
        try:
            pending += decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            at = line + bytes(error.object[: error.start]).count(b"\n")
            raise undecodable(error, source, encoding, at) from None
        *complete, pending = pending.split("\n")
        for index, text in enumerate([*complete, pending]):
            if len(text) > MAX_LINE_LENGTH:
                raise LimitExceededError(
                    f"line {line} of {source} is longer than {MAX_LINE_LENGTH:,} characters, "
                    "more than any row goalpath accepts",
                    field=source,
                    limit=MAX_LINE_LENGTH,
                    accepted=f"lines of at most {MAX_LINE_LENGTH:,} characters",
                )
            if index < len(complete):
                yield f"{text}\n"
                line += 1
        if not chunk:
            break
    if pending:
        yield pending


def check_columns(
    header: Sequence[str], required: Sequence[str], optional: Sequence[str], source: str
) -> None:
    """Refuse a table header with a column twice, a column not known, or a required one missing."""
    known = (*required, *optional)
    accepted = f"the columns {', '.join(required)}" + (
        f" and optionally {', '.join(optional)}" if optional else ""
    )
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InvalidValueError(
                f"{source} names the column {_shown(column)} twice; name each column once",
                field=source,
                accepted=accepted,
            )
        seen.add(column)
        if column not in known:
            raise InvalidValueError(
                f"{source} has a column {_shown(column)} goalpath does not know; it takes "
                f"{accepted}",
                field=source,
                accepted=accepted,
            )
    missing = [column for column in required if column not in seen]
    if missing:
        raise InvalidValueError(
            f"{source} needs {accepted}; missing {', '.join(missing)}",
            field=source,
            accepted=accepted,
        )


def bounded_rows(
    rows: Iterable[T], limit: int, source: str, option: str = "max_rows", *, already: int = 0
) -> list[T]:
    """The rows of ``rows`` as a list, refused if there are more than ``limit``.

    ``already`` rows of the same import were taken before (several goals'
    rows count together). At most ``limit - already + 1`` rows are read, so
    a huge input is refused without being held in memory. The refusal
    (:class:`LimitExceededError`) names the limit and how to raise it
    (``option``).
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidValueError(
            f"{option} must be a whole number of rows, at least 1; got {_shown(limit)}",
            field=option,
            accepted="a whole number from 1",
        )
    taken = list(itertools.islice(_iterable(source, rows), max(limit - already, 0) + 1))
    if already + len(taken) > limit:
        raise LimitExceededError(
            f"{source} has more than {limit:,} rows, the most one import takes; split it, "
            f"or allow more with {option}",
            field=source,
            limit=limit,
            accepted=f"at most {limit:,} rows",
        )
    return taken
