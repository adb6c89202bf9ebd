"""docs/architecture.md stays true: the modules it names exist, and the layers it draws hold."""

from __future__ import annotations

import ast
import re
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
LAYERS = ("core", "modalities", "projections", "exports", "cli")
"""The packages from the inside out: each may import only those before it."""


def documented_modules() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    return set(
        re.findall(r"`(goalpath\.(?:core|modalities|projections|exports|cli)\.[a-z_]+)`", text)
    )


def package_modules() -> set[str]:
    return {
        f"goalpath.{package}.{path.stem}"
        for package in LAYERS
        for path in (ROOT / package).glob("*.py")
        if path.stem != "__init__"
    }


def test_every_module_the_doc_names_exists() -> None:
    missing = sorted(name for name in documented_modules() if find_spec(name) is None)
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_every_module_is_in_the_doc() -> None:
    unnamed = sorted(package_modules() - documented_modules())
    assert not unnamed, f"add these modules to docs/architecture.md: {unnamed}"


@pytest.mark.parametrize("package", LAYERS)
def test_no_package_imports_one_further_out(package: str) -> None:
    further_out = LAYERS[LAYERS.index(package) + 1 :]
    offenders: list[str] = []
    for path in (ROOT / package).glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            offenders.extend(
                f"{package}/{path.name} imports {name}"
                for name in names
                if any(name.startswith(f"goalpath.{outer}") for outer in further_out)
            )
    assert not offenders
