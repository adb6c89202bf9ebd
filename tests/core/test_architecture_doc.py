"""docs/architecture.md stays true: the modules it names exist, and the layers it draws hold."""

from __future__ import annotations

import ast
import re
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
LAYERS = ("core", "modalities", "projections", "exports", "server", "cli")
"""The packages from the inside out: each may import only those before it."""


def documented_modules() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    packages = "|".join(LAYERS)
    return set(re.findall(rf"`(goalpath\.(?:{packages})(?:\.[a-z_]+)+)`", text))


def _dotted(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(("goalpath", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def package_modules() -> set[str]:
    """Every module of the six packages, sub-packages included (``__init__`` only for those)."""
    return {
        _dotted(path)
        for package in LAYERS
        for path in (ROOT / package).rglob("*.py")
        if path.stem != "__init__" or path.parent != ROOT / package
    }


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_every_module_the_doc_names_exists() -> None:
    missing = sorted(name for name in documented_modules() if find_spec(name) is None)
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_every_module_is_in_the_doc() -> None:
    unnamed = sorted(package_modules() - documented_modules())
    assert not unnamed, f"add these modules to docs/architecture.md: {unnamed}"


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_one_further_out(package: str) -> None:
    further_out = LAYERS[LAYERS.index(package) + 1 :]
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in (ROOT / package).rglob("*.py")
        for name in _imports(path)
        if any(name.startswith(f"goalpath.{outer}") for outer in further_out)
    ]
    assert not offenders


CORE_LAYERS = {
    "domain": ROOT / "core",
    "storage": ROOT / "core" / "storage",
    "application": ROOT / "core" / "application",
}
"""Inside goalpath.core, from the inside out: domain, storage, application."""


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("goalpath.core.storage", "goalpath.core.application")),
        ("storage", ("goalpath.core.application",)),
    ],
)
def test_inside_core_no_layer_imports_one_further_out(
    layer: str, forbidden: tuple[str, ...]
) -> None:
    folder = CORE_LAYERS[layer]
    paths = folder.glob("*.py") if layer == "domain" else folder.rglob("*.py")
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in paths
        if path != ROOT / "core" / "__init__.py"  # the package's public names, re-exported
        for name in _imports(path)
        if name.startswith(forbidden)
    ]
    assert not offenders


MODULE_LINE_LIMIT = 500
"""Longer modules must say in their docstring why they are one module."""


def test_a_module_over_500_lines_states_why_in_its_docstring() -> None:
    unexplained = []
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") <= MODULE_LINE_LIMIT:
                continue
            docstring = ast.get_docstring(ast.parse(text)) or ""
            if "500 lines" not in docstring:
                unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert not unexplained, f"split these modules or say why in their docstring: {unexplained}"
