"""workflow/ is the domain: it imports no adapters and never reads the clock or touches files."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / "workflow"
ALLOWED = {"workflow", "pendulum", "pydantic", "transitions", "__future__"}
FORBIDDEN = {
    "models",
    "notifications",
    "schedules",
    "planfile",
    "cli",
    "sqlmodel",
    "sqlalchemy",
    "yagmail",
    "apscheduler",
    "jinja2",
    "ruamel",
    "chinese_calendar",
    "click",
    "rich",
}
CLOCK_OR_IO_METHODS = {
    "now",
    "today",
    "utcnow",
    "monotonic",
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "getenv",
    "urlopen",
    "connect",
}
CLOCK_OR_IO_FUNCTIONS = {"open", "input", "print"}


def _sources() -> list[Path]:
    files = sorted(WORKFLOW.rglob("*.py"))
    assert files, "workflow/ has no modules"
    return files


def _imported_roots(tree: ast.AST) -> set[str]:
    """The top-level packages a module imports; ours are named without their `cuiban.` prefix."""
    roots: set[str] = set()
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            own = node.module == "cuiban"
            names += [f"cuiban.{alias.name}" for alias in node.names] if own else [node.module]
    for name in names:
        parts = name.split(".")
        roots.add(parts[1] if parts[0] == "cuiban" and len(parts) > 1 else parts[0])
    return roots


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(WORKFLOW)))
def test_workflow_imports_only_the_domain_toolkit(path: Path) -> None:
    roots = _imported_roots(ast.parse(path.read_text(encoding="utf-8")))
    assert not roots & FORBIDDEN, f"{path.name} imports {sorted(roots & FORBIDDEN)}"
    outside = {r for r in roots - ALLOWED if r not in sys.stdlib_module_names}
    assert not outside, f"{path.name} imports third-party {sorted(outside)}"


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(WORKFLOW)))
def test_workflow_reads_no_clock_and_no_files(path: Path) -> None:
    found = _clock_or_io_calls(ast.parse(path.read_text(encoding="utf-8")))
    assert not found, f"{path.name} calls {sorted(found)}"


def _clock_or_io_calls(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CLOCK_OR_IO_METHODS:
            found.add(func.attr)
        if isinstance(func, ast.Attribute) and func.attr == "time" and _is_name(func.value, "time"):
            found.add("time.time")
        if isinstance(func, ast.Name) and func.id in CLOCK_OR_IO_FUNCTIONS:
            found.add(func.id)
    return found


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def test_the_checks_catch_what_they_look_for() -> None:
    tree = ast.parse("import sqlmodel\nfrom cuiban.models.store import x\nfrom . import y\n")
    assert _imported_roots(tree) == {"sqlmodel", "models"}
    code = "pendulum.now()\ndate.today()\ntime.time()\nopen('f')\ntime(9, 30)\n"
    assert _clock_or_io_calls(ast.parse(code)) == {"now", "today", "time.time", "open"}
