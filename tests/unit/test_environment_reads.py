"""Only the settings module reads the environment (issue 11): everything else is handed its settings.

Walks every module of every package pyproject.toml installs (found where the import
system finds them, so a package added there is covered too) and fails naming each use
of `os.environ`, `os.environb`, `os.getenv` or `os.putenv` outside cli/settings.py.
"""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

SETTINGS = "cuiban.cli.settings"
ENVIRONMENT = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def _packages() -> list[str]:
    """The top packages installed under cuiban (cuiban.cli, cuiban.models, …)."""
    listed = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    return sorted({".".join(name.split(".")[:2]) for name in listed})


def _modules() -> list[tuple[str, Path]]:
    found = {}
    for package in _packages():
        for folder in importlib.import_module(package).__path__:
            for path in Path(folder).rglob("*.py"):
                relative = path.relative_to(folder).with_suffix("")
                found[".".join((package, *relative.parts)).removesuffix(".__init__")] = path
    return sorted(found.items())


def environment_reads(source: str) -> list[int]:
    """Lines that touch the environment: `os.environ…`, `os.getenv(…)`, `from os import environ`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        attribute = isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT
        if attribute and isinstance(node.value, ast.Name) and node.value.id == "os":
            lines.append(node.lineno)
        imported = isinstance(node, ast.ImportFrom) and node.module == "os"
        if imported and any(alias.name in ENVIRONMENT for alias in node.names):
            lines.append(node.lineno)
    return lines


def test_the_walk_sees_every_package() -> None:
    names = {name for name, _ in _modules()}
    assert {SETTINGS, "cuiban.cli.main", "cuiban.models.database", "cuiban.workflow.clock"} <= names
    assert len(names) > 60


def test_the_check_catches_each_way_in() -> None:
    source = "import os\nfrom os import getenv\na = os.environ['X']\nb = os.getenv('Y')\n"
    assert environment_reads(source) == [2, 3, 4]


@pytest.mark.parametrize("name,path", _modules(), ids=lambda value: str(value).rsplit("/", 1)[-1])
def test_no_module_but_the_settings_reads_the_environment(name: str, path: Path) -> None:
    reads = environment_reads(path.read_text(encoding="utf-8"))
    if name == SETTINGS:
        assert reads, "the settings module is where the environment is read"
    else:
        assert not reads, f"{name} reads the environment at line(s) {reads}; take it from cli.settings"
