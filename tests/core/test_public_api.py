"""The public API: the modules docs/embedding.md lists, their ``__all__``, their docs.

A host imports from the public modules only (docs/embedding.md, "Public
modules"); every other module is goalpath's implementation. These tests hold
the list, the modules and the documentation's examples to each other:

- every module of goalpath has an ``__all__`` whose names exist;
- a public package exports everything it imports, a public module every
  class and function it defines (a helper's name starts with an underscore);
- every name in a public ``__all__`` is documented: a docstring, or for a
  constant or type alias a docstring under its assignment;
- every example in README.md and docs/*.md imports only public modules, and
  only names in their ``__all__``; every ``goalpath.…`` name the docs mention
  exists.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parents[2]
EMBEDDING = ROOT / "docs" / "embedding.md"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PACKAGES = (
    "goalpath.core",
    "goalpath.modalities",
    "goalpath.projections",
    "goalpath.exports",
    "goalpath.cli",
    "goalpath.server",
)


def public_modules() -> list[str]:
    """The modules of the table under "Public modules" in docs/embedding.md."""
    text = EMBEDDING.read_text(encoding="utf-8")
    section = text.split("\n## Public modules\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(goalpath(?:\.\w+)*)` \|", section, re.MULTILINE)


PUBLIC = public_modules()


def all_modules() -> Iterator[str]:
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        yield package_name
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            yield info.name


def python_examples(doc: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", doc.read_text(encoding="utf-8"), re.DOTALL)


def _defines_public_names(module: ModuleType) -> bool:
    return any(
        not name.startswith("_") and not inspect.ismodule(value)
        for name, value in vars(module).items()
    )


def test_the_list_holds_the_packages_a_host_starts_from() -> None:
    assert {
        "goalpath.core",
        "goalpath.core.application",
        "goalpath.projections",
        "goalpath.exports",
        "goalpath.exports.documents",
        "goalpath.modalities",
    } <= set(PUBLIC)
    assert len(PUBLIC) == len(set(PUBLIC))
    assert not [name for name in PUBLIC if any(part.startswith("_") for part in name.split("."))]


@pytest.mark.parametrize("name", sorted(all_modules()))
def test_every_module_has_an_all_of_names_it_holds(name: str) -> None:
    module = importlib.import_module(name)
    if not hasattr(module, "__all__"):
        # A package whose __init__ only describes it (goalpath.server, goalpath.cli).
        assert hasattr(module, "__path__"), f"{name} has no __all__"
        assert not _defines_public_names(module), f"{name} defines names but has no __all__"
        return
    names = list(module.__all__)
    assert len(names) == len(set(names)), f"{name}.__all__ repeats a name"
    assert [n for n in names if not hasattr(module, n)] == [], f"{name}.__all__ names a ghost"


@pytest.mark.parametrize("name", PUBLIC)
def test_a_public_module_exports_all_it_offers(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    if hasattr(module, "__path__"):  # a package: everything it imports is exported
        offered = {
            n
            for n, value in vars(module).items()
            if not n.startswith("_") and not inspect.ismodule(value)
        }
    else:  # a module: every class and function it defines
        offered = {
            n
            for n, value in vars(module).items()
            if not n.startswith("_")
            and (inspect.isclass(value) or inspect.isfunction(value))
            and value.__module__ == name
        }
    assert sorted(offered - exported) == [], f"{name} offers names its __all__ leaves out"


def _attribute_documented(module_name: str, name: str) -> bool:
    """Whether ``name`` is assigned in (or imported into) a module with a docstring under it."""
    path = Path(inspect.getfile(importlib.import_module(module_name)))
    body = ast.parse(path.read_text(encoding="utf-8")).body
    for index, node in enumerate(body):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("goalpath"):
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    return _attribute_documented(node.module, alias.name)
        if isinstance(node, ast.Assign):
            targets = [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        if name in targets:
            following = body[index + 1] if index + 1 < len(body) else None
            return (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
                and bool(following.value.value.strip())
            )
    return False


def undocumented(name: str) -> list[str]:
    """The names of a public module's ``__all__`` (and their methods) without documentation."""
    module = importlib.import_module(name)
    missing: list[str] = []
    for exported in module.__all__:
        value = getattr(module, exported)
        if inspect.isclass(value) or inspect.isroutine(value):
            if not (value.__doc__ or "").strip():
                missing.append(exported)
            if inspect.isclass(value):
                for attribute, member in vars(value).items():
                    function = member.fget if isinstance(member, property) else member
                    function = getattr(function, "__func__", function)
                    if (
                        not attribute.startswith("_")
                        and inspect.isfunction(function)
                        and not (function.__doc__ or "").strip()
                    ):
                        missing.append(f"{exported}.{attribute}")
        elif not _attribute_documented(name, exported):
            missing.append(exported)
    return missing


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented(name: str) -> None:
    assert undocumented(name) == []


def private_imports(source: str) -> list[str]:
    """Each import of ``source`` from goalpath that is not a public module's exported name."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                f"import {alias.name}"
                for alias in node.names
                if alias.name.startswith("goalpath.") and alias.name not in PUBLIC
            ]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("goalpath"):
            module_name = node.module or ""
            if module_name not in PUBLIC:
                found.append(f"from {module_name} import ...: not a public module")
                continue
            exported = importlib.import_module(module_name).__all__
            found += [
                f"from {module_name} import {alias.name}: not in its __all__"
                for alias in node.names
                if alias.name not in exported
            ]
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_doc_examples_import_public_names_only(doc: Path) -> None:
    for block in python_examples(doc):
        assert private_imports(block) == [], f"{doc.name}: {block[:80]!r}"


def test_the_check_catches_a_private_import() -> None:
    assert private_imports("from goalpath.core import Actor, GoalpathApp") == []
    assert private_imports("from goalpath.core.values import Actor") == [
        "from goalpath.core.values import ...: not a public module"
    ]
    assert private_imports("from goalpath.core import _Unchanged") == [
        "from goalpath.core import _Unchanged: not in its __all__"
    ]
    assert private_imports("import goalpath.cli.render") == ["import goalpath.cli.render"]


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_goalpath_name_the_docs_mention_exists(doc: Path) -> None:
    mentioned = set(re.findall(r"`(goalpath(?:\.[A-Za-z_]\w*)+)", doc.read_text(encoding="utf-8")))
    missing = []
    for dotted in sorted(mentioned):
        try:
            _resolve(dotted)
        except (ImportError, AttributeError):
            missing.append(dotted)
    assert missing == []


def test_the_documentation_check_catches_an_undocumented_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    documents = importlib.import_module("goalpath.exports.documents")
    monkeypatch.setattr(documents.goal_document, "__doc__", None)
    assert undocumented("goalpath.exports.documents") == ["goal_document"]
