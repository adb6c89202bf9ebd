"""docs/inputs.md: its Python block runs, and every limit it states is the one in force."""

from __future__ import annotations

import re
from pathlib import Path

from goalpath.core import inputs
from goalpath.core.values import MAX_STATEMENT_LENGTH, MAX_TEXT_LENGTH

DOC = Path(__file__).parents[2] / "docs" / "inputs.md"


def test_the_inputs_doc_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks
    exec(compile("\n".join(blocks), str(DOC), "exec"), {"__name__": "inputs_doc"})  # noqa: S102


def test_the_inputs_doc_states_the_limits_in_force() -> None:
    text = DOC.read_text(encoding="utf-8")
    for stated in (
        f"| {inputs.MAX_NUMBER:,.0f} | `MAX_NUMBER` |",
        f"| {inputs.SMALLEST_NUMBER:.6f} | `SMALLEST_NUMBER` |",
        f"{inputs.DEFAULT_MAX_IMPORT_ROWS:,} (`DEFAULT_MAX_IMPORT_ROWS`)",
        f"{inputs.MAX_ID_LENGTH} characters (`MAX_ID_LENGTH`)",
        f"{inputs.MAX_FIELD_LENGTH:,} characters (`MAX_FIELD_LENGTH`)",
        f"{inputs.MAX_LINE_LENGTH:,} characters (`MAX_LINE_LENGTH`)",
        f"{MAX_STATEMENT_LENGTH:,} characters",
        f"{MAX_TEXT_LENGTH:,} characters",
        f"years {inputs.EARLIEST_DATE.year} to {inputs.LATEST_DATE.year}",
    ):
        assert stated in text, stated
    assert "docs/inputs.md" in (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
