"""The Lambda layer holds modelauth without modelauth/local and without the laptop-side packages
(graphql-core, moto, PyYAML, requests): no runtime module may import them, or a function fails at
import time in Lambda - or, worse, only on the one code path that reaches the import.

Walks every module of src/modelauth outside local/ (and the example's models, which the layer also
ships) with ``ast``: ``import x``, ``from x import y``, relative imports and
``importlib.import_module("x")`` / ``__import__("x")`` with a literal name. tests/e2e/test_layer.py
checks the built layer itself.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT

PACKAGE = ROOT / "src" / "modelauth"
LOCAL = PACKAGE / "local"
#: top-level names the layer does not have (pyproject's `local` extra, and modelauth.local itself)
LAPTOP_ONLY = ("graphql", "moto", "yaml", "requests", "modelauth.local")


def runtime_modules() -> list[Path]:
    """The .py files the layer ships: modelauth outside local/, and the example's models."""
    modules = [path for path in sorted(PACKAGE.rglob("*.py")) if LOCAL not in path.parents]
    return modules + sorted((EXAMPLE / "appschema").rglob("*.py"))


def _module_name(path: Path) -> str:
    base = PACKAGE.parent if PACKAGE in path.parents else EXAMPLE
    parts = list(path.relative_to(base).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    """The package that ``path``'s relative imports start from."""
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def imported_names(source: str, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, relative ones from ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # `from modelauth import local`
                yield node.lineno, f"{module}.{alias.name}"
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def _laptop_only(module: str) -> bool:
    return any(module == name or module.startswith(f"{name}.") for name in LAPTOP_ONLY)


def test_the_walk_sees_the_runtime_modules() -> None:
    names = {_module_name(path) for path in runtime_modules()}
    assert {
        "modelauth",
        "modelauth.resolvers",
        "modelauth.authorizer",
        "modelauth.rest",
        "appschema",
    } <= names
    assert not any(name.startswith("modelauth.local") for name in names)
    assert package_of(PACKAGE / "rules.py") == package_of(PACKAGE / "__init__.py") == "modelauth"


@pytest.mark.parametrize("path", runtime_modules(), ids=lambda path: _module_name(path))
def test_runtime_module_imports_nothing_laptop_only(path: Path) -> None:
    imports = imported_names(path.read_text(), package_of(path))
    found = [f"{path.relative_to(ROOT)}:{line}: {name}" for line, name in imports if _laptop_only(name)]
    assert not found, "the Lambda layer has none of these:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "import yaml",
        "import graphql.language",
        "from moto import mock_aws",
        "from requests import get",
        "from modelauth.local.appsync import LocalAppSync",
        "from modelauth import local",
        "from .local import appsync",
        "from . import local",
        "import importlib\nimportlib.import_module('modelauth.local.cli')",
        "__import__('graphql')",
        "def f():\n    import requests",
    ],
)
def test_the_check_catches(source: str) -> None:
    names = [name for _, name in imported_names(source, "modelauth")]
    assert any(_laptop_only(name) for name in names), names


def test_the_check_lets_runtime_imports_through() -> None:
    source = "import jwt\nfrom .rules import Schema\nfrom modelauth.localtime import x\nimport yamlish\n"
    names = [name for _, name in imported_names(source, "modelauth")]
    assert "modelauth.rules" in names
    assert not any(_laptop_only(name) for name in names), names
