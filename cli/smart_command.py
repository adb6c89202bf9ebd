"""``goalpath smart``: evaluate a goal statement against SMART without storing anything."""

from __future__ import annotations

from typing import Any

import click

from goalpath.cli.common import console, emit, json_option, parse_date, refusals
from goalpath.cli.definition_options import (
    definition_options,
    measure_from_options,
    target_from_options,
)
from goalpath.cli.render import smart_table
from goalpath.core.application import local_today
from goalpath.core.smart import InstrumentFacts, draft_definition, evaluate_smart
from goalpath.core.values import jsonable
from goalpath.exports.documents import smart_document

__all__ = ["register"]


@click.command("smart")
@click.argument("statement")
@click.option("--start", metavar="DATE", help="Start date (default today).")
@click.option("--concern", "concerns", multiple=True, help="A presenting concern (repeatable).")
@definition_options
@json_option
@refusals
def smart(
    *,
    statement: str,
    start: str | None,
    concerns: tuple[str, ...],
    as_json: bool,
    **options: Any,
) -> None:
    """Evaluate STATEMENT against the five SMART letters; nothing is stored.

    Numbers and time in the statement are read when no option gives them:
    "reduce my panic attacks from 3 to 1 per week within 6 weeks" has a
    measure, a baseline, a target and a due date. The installed plugins'
    instruments are recognised by code or name ("PHQ-9 from 20 to 2").
    """
    start_on = parse_date(start, "--start") or local_today()
    instruments = instrument_facts()
    definition = draft_definition(
        statement,
        start_on,
        measure=measure_from_options(options),
        target=target_from_options(options, start_on),
        area=options.get("area"),
        instruments=instruments,
    )
    report = evaluate_smart(definition, concerns, instruments=instruments)
    if as_json:
        emit({"definition": jsonable(definition), "smart": smart_document(report)})
        return
    verdict = "SMART" if report.passed else "not SMART yet"
    console().print(smart_table(report, title=f"{statement!r}: {verdict}"))


def register(cli: click.Group) -> None:
    """Add ``goalpath smart`` to the root group."""
    cli.add_command(smart)


def instrument_facts() -> tuple[InstrumentFacts, ...]:
    """The installed plugins' instruments as SMART evaluation takes them: data, not plugins."""
    from goalpath.modalities.manager import installed_instruments  # noqa: PLC0415  # on demand

    return tuple(
        InstrumentFacts(
            code=instrument.id,
            name=instrument.name,
            unit=instrument.unit,
            direction=instrument.direction,
            minimum=instrument.minimum,
            maximum=instrument.maximum,
            reliable_change=instrument.reliable_change,
        )
        for instrument in installed_instruments().values()
    )
