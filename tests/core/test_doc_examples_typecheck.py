"""The Python examples of README.md and docs/*.md pass ``mypy --strict``.

A host copies these examples into typed code: they must type-check against
goalpath's own annotations as written. Each document's blocks are one file
(later blocks use the names of earlier ones, as the doc tests run them);
one mypy run checks them all, with the project's mypy settings, beside a
canary file with a known error, which shows the run checks what it is given.
docs/plugins.md imports the example plugin, found in examples/.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = {
    f"{doc.stem.lower()}_example.py": doc
    for doc in DOCS
    if "```python" in doc.read_text(encoding="utf-8")
}
PLUGIN_SOURCE = ROOT / "examples" / "goalpath-example-plugin"
CANARY = """
from goalpath.core import NotSmartError


def letters(refusal: NotSmartError) -> str:
    return refusal.report.failed_letters  # a tuple of letters, not a str
"""


def test_the_examples_pass_mypy_strict(tmp_path: Path) -> None:
    assert {"readme_example.py", "embedding_example.py", "plugins_example.py"} <= set(EXAMPLES)
    for name, doc in EXAMPLES.items():
        blocks = re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)
        assert blocks, f"{doc.name} has no Python example"
        (tmp_path / name).write_text("\n".join(blocks), encoding="utf-8")
    (tmp_path / "canary.py").write_text(CANARY, encoding="utf-8")
    # goalpath's packages as the wheel lays them out, however goalpath is installed (an
    # editable install's import hook is invisible to mypy).
    source = tmp_path / "source" / "goalpath"
    source.mkdir(parents=True)
    package_dir = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-dir"]
    for package, folder in package_dir.items():
        (source / package.removeprefix("goalpath.")).symlink_to(ROOT / folder)
    search_path = os.pathsep.join([str(source.parent), str(PLUGIN_SOURCE)])
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    command += ["--strict", "--cache-dir", str(tmp_path / ".mypy_cache"), "--no-error-summary"]
    run = subprocess.run(  # this interpreter's mypy, on the files written above
        [*command, *EXAMPLES, "canary.py"],
        cwd=tmp_path,
        env={**os.environ, "MYPYPATH": search_path},
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert [line for line in errors if not line.startswith("canary.py:")] == [], run.stdout
    assert len(errors) == 1, run.stdout + run.stderr
    assert "Incompatible return value type" in errors[0]
