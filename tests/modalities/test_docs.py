"""docs/plugins.md: its files are the example plugin's, its Python runs, every hook is in it."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from goalpath.modalities import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(
    r"<!-- (?P<marker>file: (?P<path>\S+)|run) -->\n```[a-z]*\n(?P<body>.*?)```", re.S
)


def blocks(marker: str) -> list[re.Match[str]]:
    return [
        match for match in BLOCK.finditer(DOC.read_text()) if match["marker"].startswith(marker)
    ]


def hook_names() -> list[str]:
    return sorted(name for name in vars(hookspecs) if name.startswith("goalpath_"))


def test_the_tutorial_shows_every_file_of_the_example_plugin_as_it_is() -> None:
    shown = {match["path"]: match["body"] for match in blocks("file:")}
    package = ROOT / "examples" / "goalpath-example-plugin"
    files = {
        str(path.relative_to(ROOT))
        for path in package.rglob("*")
        if path.is_file() and path.suffix in {".py", ".toml"} and "egg-info" not in str(path)
    }
    assert set(shown) == files
    for path, body in shown.items():
        assert body == (ROOT / path).read_text(), f"docs/plugins.md shows an old {path}"


@pytest.mark.parametrize("index", range(len(blocks("run"))))
def test_python_examples_of_the_doc_run(index: int) -> None:
    code = blocks("run")[index]["body"]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, f"docs/plugins.md block {index}", "exec"), {})  # noqa: S102
    assert "cbt" in output.getvalue()


@pytest.mark.parametrize("hook", hook_names())
def test_every_hook_has_a_reference_section(hook: str) -> None:
    text = DOC.read_text()
    assert f"\n### {hook}\n" in text
    section = text.split(f"\n### {hook}\n", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    assert f"`{hook}(" in section, "the section starts with the hook's signature"
    assert len(section.split()) > 30, "the section says when the hook is called and what it returns"
