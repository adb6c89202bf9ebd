"""docs/smart.md: its latest agreement row is what the corpus report measures today."""

from __future__ import annotations

import re
from pathlib import Path

from goalpath.core.smart import evaluate_statement
from tests.core.smart_corpus import (
    CORPUS_START,
    LETTERS,
    agreement,
    load_corpus,
    registry_instruments,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "smart.md"
ROW = re.compile(
    r"^\| after[^|]*\(commit (?P<commit>[0-9a-f]{7,40}), (?P<date>\d{4}-\d{2}-\d{2})\) \|"
    r"(?P<cells>.*)\|\s*$",
    re.MULTILINE,
)


def test_the_latest_agreement_row_has_a_commit_and_a_date_and_todays_figures() -> None:
    rows = list(ROW.finditer(DOC.read_text(encoding="utf-8")))
    assert rows, "docs/smart.md has no 'after (commit ..., date)' agreement row"
    cells = [cell.strip() for cell in rows[-1]["cells"].split("|")]
    corpus, instruments = load_corpus(), registry_instruments()
    measured = agreement(corpus, instruments)
    assert cells[:5] == [f"{measured.share(letter):.1%}" for letter in LETTERS]
    smart_goals = [labelled for labelled in corpus if all(labelled.expected)]
    passing = sum(
        evaluate_statement(labelled.statement, CORPUS_START, instruments=instruments).passed
        for labelled in smart_goals
    )
    assert cells[5] == f"{passing} of {len(smart_goals)}"
    assert all(measured.share(letter) >= 0.95 for letter in LETTERS)
