"""Target 5 of issue 14: one statement's SMART evaluation under 2 ms, and corpus agreement.

Every statement of the labelled corpus (tests/core/smart_corpus.txt) is read
and evaluated with the reader's caches cleared, so each figure is a first
reading; a round's figure is the mean per statement, and the row gives the
median over the rounds. Agreement per letter is reported beside it.
"""

from __future__ import annotations

import statistics
import time
from typing import Final

from benchmarks import Result
from goalpath.core import statement_reader
from goalpath.core.smart import evaluate_statement
from tests.core.smart_corpus import (
    CORPUS_START,
    LETTERS,
    agreement,
    load_corpus,
    registry_instruments,
)

__all__ = ["NAME", "run"]

NAME: Final = "smart"
TARGET_MS: Final = 2.0


def run(quick: bool) -> list[Result]:
    """Time the evaluation of every corpus statement; report agreement per letter."""
    corpus = load_corpus()
    instruments = registry_instruments()
    rounds = 3 if quick else 9
    figures = []
    for _ in range(rounds):
        statement_reader.clear_caches()
        start = time.perf_counter()
        for labelled in corpus:
            evaluate_statement(labelled.statement, CORPUS_START, instruments=instruments)
        figures.append((time.perf_counter() - start) / len(corpus) * 1000)
    median = statistics.median(figures)
    result = agreement(corpus, instruments)
    return [
        Result(
            benchmark=NAME,
            case="one statement, first reading",
            events=len(corpus),
            seconds=median * len(corpus) / 1000,
            goalpath=f"{median:.2f} ms",
            spread=f"{min(figures):.2f}-{max(figures):.2f} ms",
            target=f"< {TARGET_MS:g} ms",
            holds=median < TARGET_MS,
            extra={letter: f"{result.share(letter):.1%}" for letter in LETTERS},
        )
    ]
