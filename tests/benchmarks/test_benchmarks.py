"""The benchmark suite: its table, its statistics, its documentation, and a tiny smoke run.

The benchmarks themselves are not run at their sizes here (the full run
takes minutes); the smoke tests shrink them to a few operations so that a
broken benchmark fails the suite, not the next person measuring.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import Result, batch_import, history, import_profile, scaling, write_path
from benchmarks import __main__ as runner
from benchmarks._common import percentile, ratio_stats

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "performance.md"


def _documented_benchmarks() -> set[str]:
    """First cells of the rows of the docs' results table."""
    text = DOC.read_text(encoding="utf-8")
    names = set()
    for line in text.splitlines():
        match = re.match(r"^\|\s*`?([a-z_]+)`?\s*\|", line)
        if match and match.group(1) != "benchmark":
            names.add(match.group(1))
    return names


def test_the_docs_table_has_a_row_for_every_registered_benchmark() -> None:
    registered = {module.NAME for module in runner.modules()}
    assert registered, "no benchmark registered"
    missing = registered - _documented_benchmarks()
    assert not missing, f"docs/performance.md has no table row for {sorted(missing)}"


def test_every_registered_benchmark_has_a_name_and_a_run() -> None:
    for module in runner.modules():
        assert isinstance(module.NAME, str)
        assert callable(module.run)


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(number) for number in range(1, 101)]
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([5.0], 0.99) == 5.0


def test_ratio_stats_give_the_median_and_the_range() -> None:
    ratio, spread = ratio_stats([1.0, 3.0, 2.0])
    assert ratio == 2.0
    assert spread == "1.00-3.00 over 3"


def test_the_table_shows_ratio_target_and_whether_it_holds() -> None:
    rows = [
        Result(
            "alpha",
            "a case",
            10,
            2.0,
            {"note": "x"},
            goalpath="1 ms",
            baseline="2 ms",
            ratio=0.5,
            spread="0.4-0.6",
            target="<= 1",
            holds=True,
        ),
        Result("beta", "other", 10, 2.0, holds=False, ratio=3.0, target=">= 4"),
    ]
    table = runner.format_table(rows)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["benchmark", "case", "goalpath"]
    assert "0.50x" in lines[1]
    assert lines[1].rstrip().endswith("yes")
    assert "0.4-0.6" in lines[1]
    assert lines[2].rstrip().endswith("NO")
    assert "5 events/s" in lines[2]  # no goalpath figure given: the event rate
    assert "alpha / a case: note: x" in table


def test_write_path_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write_path, "_sizes", lambda _quick: (2, 2))
    (row,) = write_path.run(quick=True)
    assert row.ratio is not None
    assert row.ratio > 0
    assert row.holds is (row.ratio <= write_path.TARGET)


def test_batch_import_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_import, "_sizes", lambda _quick: (2, 2, 20))
    rows = batch_import.run(quick=True)
    assert [row.events for row in rows] == [80, 80]
    assert all(row.ratio is not None and row.ratio > 0 for row in rows)
    assert all("fraction of raw" in row.extra for row in rows)


def test_history_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "_sizes", lambda _quick: (1, 2))
    monkeypatch.setattr(history, "LONG", 300)
    monkeypatch.setattr(history, "SHORT", 30)
    rows = history.run(quick=True)
    assert [row.case.split(":")[0] for row in rows] == [
        "record 1 measurement",
        "get_goal",
        "plan read",
        "goal show --json (CLI)",
        "goal measure (CLI)",
        "snapshot size",
    ]
    assert all(row.ratio is not None and row.ratio > 0 for row in rows)
    assert all(row.extra["memory_ratio"] > 0 for row in rows[:-1])


def test_a_practice_has_a_hundred_events_per_client(tmp_path: Path) -> None:
    assert scaling.build_practice(tmp_path / "practice.db", 3) == 3 * scaling.EVENTS_PER_CLIENT


def test_the_import_profile_times_every_stage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import_profile.main(["--rounds", "1", "--rows", "60"], patch=monkeypatch.setattr)
    printed = capsys.readouterr().out
    for stage in ("seal:", "commit", "insert:", "apply:", "snapshot:", "load", "check", "the rest"):
        assert stage in printed
