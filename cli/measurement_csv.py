"""A CSV file of measurements for ``goalpath goal import``, read strictly.

The file is decoded as it is read (UTF-8 with or without a byte order mark
unless ``--encoding`` names another), so an undecodable byte is refused
with its line; its header names each column once, only ``value``,
``observed_on`` and optionally ``note``; each row has as many fields as the
header (a blank line is skipped); no field is longer than
:data:`~goalpath.core.inputs.MAX_FIELD_LENGTH`; a quote left open is
refused; and no more than ``max_rows`` rows are read. Values are ASCII
decimals (:func:`~goalpath.core.inputs.parse_number`). Every refusal is
the core's typed error, naming the line and the column.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO, Final

from goalpath.core.errors import GoalpathError, InvalidValueError, LimitExceededError
from goalpath.core.inputs import (
    DEFAULT_MAX_IMPORT_ROWS,
    MAX_FIELD_LENGTH,
    bounded_rows,
    check_columns,
    parse_number,
    text_lines,
)

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "MeasurementRow", "read_measurement_rows"]

REQUIRED_COLUMNS: Final = ("value", "observed_on")
OPTIONAL_COLUMNS: Final = ("note",)

MeasurementRow = tuple[float, date, str | None]
"""One measurement as ``GoalpathApp.import_measurements`` takes it: value, date, note."""


def read_measurement_rows(
    stream: BinaryIO,
    source: str,
    *,
    encoding: str | None = None,
    max_rows: int = DEFAULT_MAX_IMPORT_ROWS,
) -> list[MeasurementRow]:
    """The measurements of a CSV file, every row checked; the first fault refuses the file.

    ``source`` names the file in messages; ``encoding`` is the file's text
    encoding (UTF-8 unless given); more than ``max_rows`` rows are refused
    after reading one more than that.
    """
    reader = csv.reader(text_lines(stream, source, encoding), strict=True)
    try:
        return bounded_rows(_measurements(reader, source), max_rows, source, "--max-rows")
    except csv.Error as error:
        raise _malformed(error, source, reader.line_num) from None


def _measurements(reader: Iterator[list[str]], source: str) -> Iterator[MeasurementRow]:
    header = [name.strip() for name in next(reader, [])]
    if not header:
        raise InvalidValueError(
            f"{source} is empty; it needs a header line: value,observed_on (and optionally note)",
            field=source,
            accepted="a CSV file with the columns value, observed_on and optionally note",
        )
    check_columns(header, REQUIRED_COLUMNS, OPTIONAL_COLUMNS, source)
    line = 1
    for row in reader:
        line = getattr(reader, "line_num", line + 1)
        if not row:
            continue
        if len(row) != len(header):
            raise InvalidValueError(
                f"line {line} of {source} has {len(row)} field{'s' if len(row) != 1 else ''}; "
                f"the header names {len(header)} ({','.join(header)})",
                field=source,
                accepted=f"rows of {len(header)} fields",
            )
        record = dict(zip(header, row, strict=True))
        for column, cell in record.items():
            if len(cell) > MAX_FIELD_LENGTH:
                raise _too_long(source, line, column)
        yield _measurement(record, source, line)


def _measurement(record: dict[str, str], source: str, line: int) -> MeasurementRow:
    try:
        value = parse_number(record["value"], "value")
    except GoalpathError as error:
        raise InvalidValueError(
            f"line {line} of {source}: {error}", field="value", accepted=error.accepted
        ) from None
    try:
        observed_on = date.fromisoformat(record["observed_on"].strip())
    except ValueError:
        raise InvalidValueError(
            f"line {line} of {source}: observed_on must be a date (YYYY-MM-DD); "
            f"got {record['observed_on']!r}",
            field="observed_on",
            accepted="a date (YYYY-MM-DD)",
        ) from None
    note = (record.get("note") or "").strip() or None
    return value, observed_on, note


def _too_long(source: str, line: int, column: str | None) -> LimitExceededError:
    where = f"the {column} field" if column else "a field"
    return LimitExceededError(
        f"line {line} of {source}: {where} is longer than the {MAX_FIELD_LENGTH:,} characters "
        "a field may have",
        field=column or source,
        limit=MAX_FIELD_LENGTH,
        accepted=f"fields of at most {MAX_FIELD_LENGTH:,} characters",
    )


def _malformed(error: csv.Error, source: str, line: int) -> GoalpathError:
    if str(error).startswith("field larger than field limit"):
        return _too_long(source, line, None)
    reason = (
        'a quoted field is not closed (a " without its closing ")'
        if "unexpected end of data" in str(error)
        else str(error)
    )
    return InvalidValueError(
        f"line {line} of {source} is not well-formed CSV: {reason}",
        field=source,
        accepted="CSV as RFC 4180 describes it: fields separated by commas, quotes closed",
    )
