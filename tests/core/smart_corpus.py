"""The labelled SMART corpus (``smart_corpus.txt``) and agreement with the evaluation.

Run ``python -m tests.core.smart_corpus`` for the report: agreement per
letter, and every statement on which the evaluation and the label differ.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import Final

import attrs

from goalpath.core.smart import InstrumentFacts, SmartReport, evaluate_statement

__all__ = [
    "CORPUS_START",
    "LETTERS",
    "Agreement",
    "LabelledStatement",
    "agreement",
    "load_corpus",
    "registry_instruments",
]

CORPUS_PATH: Final = Path(__file__).with_name("smart_corpus.txt")
CORPUS_START: Final = date(2026, 3, 16)
"""Every corpus statement is read as said in a session on this day (a Monday)."""

LETTERS: Final = ("S", "M", "A", "R", "T")


@attrs.frozen
class LabelledStatement:
    """One corpus line: the statement, the clinician's verdict per letter, and why."""

    line: int
    statement: str
    expected: tuple[bool, bool, bool, bool, bool]
    rationale: str


@attrs.frozen
class Agreement:
    """How often the evaluation agrees with the labels, per letter, and where it does not."""

    total: int
    agreeing: tuple[int, int, int, int, int]
    disagreements: tuple[tuple[LabelledStatement, SmartReport], ...]

    def share(self, letter: str) -> float:
        """The share of statements on which ``letter`` agrees (0 to 1)."""
        return self.agreeing[LETTERS.index(letter)] / self.total


def load_corpus(path: Path = CORPUS_PATH) -> list[LabelledStatement]:
    """Read the corpus file; a malformed line raises ``ValueError`` naming it."""
    statements = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        fields = [field.strip() for field in raw.split(" | ")]
        if len(fields) != 3 or len(fields[0]) != 5 or set(fields[0]) - {"Y", "N"}:
            raise ValueError(f"{path.name}:{number}: expected 'YNYYN | statement | rationale'")
        verdicts, statement, rationale = fields
        expected = tuple(letter == "Y" for letter in verdicts)
        statements.append(LabelledStatement(number, statement, expected, rationale))  # type: ignore[arg-type]  # five by the check above
    return statements


def registry_instruments() -> tuple[InstrumentFacts, ...]:
    """The installed plugins' instruments as the evaluation takes them."""
    from goalpath.cli.smart_command import instrument_facts  # noqa: PLC0415  # plugins on demand

    return instrument_facts()


def agreement(
    statements: Sequence[LabelledStatement], instruments: Iterable[InstrumentFacts] = ()
) -> Agreement:
    """Evaluate every statement and count agreement with its labels per letter."""
    instrument_tuple = tuple(instruments)
    agreeing = [0] * 5
    disagreements = []
    for labelled in statements:
        report = evaluate_statement(labelled.statement, CORPUS_START, instruments=instrument_tuple)
        got = tuple(verdict.passed for verdict in report.verdicts)
        for index in range(5):
            agreeing[index] += got[index] == labelled.expected[index]
        if got != labelled.expected:
            disagreements.append((labelled, report))
    return Agreement(len(statements), tuple(agreeing), tuple(disagreements))  # type: ignore[arg-type]  # five counters


def _flags(values: Iterable[bool]) -> str:
    return "".join("Y" if value else "N" for value in values)


def report(result: Agreement) -> str:
    """The agreement report as text: per letter, then every disagreement with the reasons."""
    lines = [f"{result.total} statements"]
    lines += [
        f"{letter}: {result.share(letter):.1%} ({result.agreeing[i]}/{result.total})"
        for i, letter in enumerate(LETTERS)
    ]
    lines.append(f"disagreements: {len(result.disagreements)} statements")
    for labelled, smart in result.disagreements:
        got = tuple(verdict.passed for verdict in smart.verdicts)
        lines.append(
            f"line {labelled.line}: expected {_flags(labelled.expected)} got {_flags(got)}: "
            f"{labelled.statement}"
        )
        for index, verdict in enumerate(smart.verdicts):
            if got[index] != labelled.expected[index]:
                lines.append(
                    f"    {LETTERS[index]}: {verdict.reason}  [label: {labelled.rationale}]"
                )
    return "\n".join(lines)


def main() -> int:
    """Print the report; exit 1 when a letter agrees on fewer than 95% of statements."""
    result = agreement(load_corpus(), registry_instruments())
    print(report(result))  # noqa: T201  # a report script
    return 0 if all(result.share(letter) >= 0.95 for letter in LETTERS) else 1


if __name__ == "__main__":
    sys.exit(main())
