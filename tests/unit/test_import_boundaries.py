"""The import table of docs/architecture.md, enforced for every package of ours.

`TABLE` is the one statement of who may import whom; `test_the_documented_table_is_this_table`
keeps docs/architecture.md saying the same thing. workflow/ is the domain: besides its row,
it must not read the clock, the environment or files.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = (
    "workflow",
    "planfile",
    "intake",
    "models",
    "notifications",
    "reports",
    "schedules",
    "services",
    "cli",
    "samples",
    "web",
)


@dataclass(frozen=True)
class Row:
    """What one package may import: packages of ours (or single modules of one) and third parties.

    The standard library is always allowed. A package may always import itself.
    """

    ours: frozenset[str]
    third_party: frozenset[str]


def _row(ours: str, third_party: str) -> Row:
    return Row(frozenset(ours.split()), frozenset(third_party.split()))


TABLE: dict[str, Row] = {
    "workflow": _row("", "pendulum pydantic transitions"),
    "planfile": _row("workflow", "pydantic ruamel chinese_calendar"),
    "intake": _row("workflow", "openpyxl xlrd"),
    "models": _row("workflow", "pendulum sqlmodel sqlalchemy alembic"),
    "notifications": _row("workflow", "jinja2 yagmail"),
    "reports": _row("workflow notifications.render", "jinja2 openpyxl docxtpl docx matplotlib cycler"),
    "schedules": _row(
        "workflow models notifications reports.chart reports.context reports.output",
        "pendulum apscheduler sqlalchemy",
    ),
    "services": _row(
        "workflow planfile intake models notifications reports schedules", "pendulum sqlalchemy"
    ),
    "samples": _row("workflow planfile", ""),
    "web": _row(
        "workflow notifications reports services",
        "fastapi starlette jinja2 itsdangerous uvicorn pendulum sqlalchemy",
    ),
    "cli": _row(
        "workflow planfile intake notifications reports services samples web", "click rich pendulum"
    ),
}
"""Above the line of models/, SQLAlchemy is a type (`Engine`, `Connection`) and nothing more:
queries are the stores' business. Only the composition root builds the engine."""
SQLALCHEMY_TYPES = {"Engine", "Connection"}
EXCEPTIONS: dict[str, Row] = {
    # The composition root builds the database engine; the error handler reads database errors
    # and asks the unit of work whether anything was committed before a stop.
    "cli/bootstrap.py": _row("models.database", "sqlalchemy"),
    "cli/errors.py": _row("models.unit_of_work", "sqlalchemy"),
}


@dataclass(frozen=True)
class Imported:
    """One imported name: `ours` is True for `cuiban.…` (given without the prefix)."""

    module: str
    names: tuple[str, ...]
    ours: bool
    line: int


def _imports(tree: ast.AST) -> list[Imported]:
    found: list[Imported] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [_imported(alias.name, (), node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = tuple(alias.name for alias in node.names)
            if node.module == "cuiban":
                found += [Imported(name, (), True, node.lineno) for name in names]
            else:
                found.append(_imported(node.module, names, node.lineno))
    return found


def _imported(module: str, names: tuple[str, ...], line: int) -> Imported:
    if module.startswith("cuiban."):
        return Imported(module.removeprefix("cuiban."), names, True, line)
    return Imported(module, names, False, line)


def _allowed(module: str, allowed: frozenset[str]) -> bool:
    """`models` allows `models.tables`; `reports.chart` allows only itself (and below)."""
    return any(module == entry or module.startswith(entry + ".") for entry in allowed)


def problems_of(path: str, source: str) -> list[str]:
    """Every import of `source` (the file at `path`, relative to the repository) outside its row."""
    package = path.split("/")[0]
    row, extra = TABLE[package], EXCEPTIONS.get(path, Row(frozenset(), frozenset()))
    problems = []
    for imported in _imports(ast.parse(source)):
        root = imported.module.split(".")[0]
        if imported.ours:
            if root != package and not _allowed(imported.module, row.ours | extra.ours):
                problems.append(f"{path}:{imported.line} imports cuiban.{imported.module}")
        elif root in OURS:
            problems.append(f"{path}:{imported.line} imports {imported.module} without the cuiban. prefix")
        elif root in sys.stdlib_module_names or root == "__future__":
            continue
        elif root not in row.third_party | extra.third_party:
            problems.append(f"{path}:{imported.line} imports {imported.module}")
        elif root == "sqlalchemy" and package not in ("models",) and root not in extra.third_party:
            beyond = set(imported.names) - SQLALCHEMY_TYPES if imported.names else {imported.module}
            if beyond:
                problems.append(
                    f"{path}:{imported.line} uses sqlalchemy's {sorted(beyond)} (queries are models')"
                )
    return problems


def _modules() -> list[str]:
    files = sorted(str(path.relative_to(ROOT)) for package in OURS for path in (ROOT / package).rglob("*.py"))
    assert len(files) > 50, "the packages have gone missing"
    return files


@pytest.mark.parametrize("path", _modules())
def test_every_module_imports_only_its_row_of_the_table(path: str) -> None:
    problems = problems_of(path, (ROOT / path).read_text(encoding="utf-8"))
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("folder", ["tests", "bench"])
def test_tests_and_benchmarks_import_ours_by_the_installed_name(folder: str) -> None:
    """A bare `import workflow` works in the repository and breaks in the wheel."""
    problems = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for imported in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            if not imported.ours and imported.module.split(".")[0] in OURS:
                problems.append(f"{path.relative_to(ROOT)}:{imported.line} imports {imported.module}")
    assert not problems, "; ".join(problems)


def test_the_documented_table_is_this_table() -> None:
    """Each row of docs/architecture.md's table names, in backticks, exactly what TABLE allows."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and (match := re.fullmatch(r"`(\w+)/`", cells[0])):
            documented[match.group(1)] = set(re.findall(r"`([\w.]+)`", cells[1]))
    assert documented == {package: set(row.ours | row.third_party) for package, row in TABLE.items()}


# ── workflow/: the domain reads no clock, no environment, no files ──────────────────────────────

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


def _workflow_modules() -> list[str]:
    return [path for path in _modules() if path.startswith("workflow/")]


@pytest.mark.parametrize("path", _workflow_modules())
def test_workflow_reads_no_clock_and_no_files(path: str) -> None:
    found = _clock_or_io_calls(ast.parse((ROOT / path).read_text(encoding="utf-8")))
    assert not found, f"{path} calls {sorted(found)}"


def _clock_or_io_calls(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "environ":
            found.add("environ")
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


# ── the checks themselves ───────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        pytest.param(
            "workflow/x.py", "from cuiban.workflow import y\nimport pendulum\n", [], id="own-package"
        ),
        pytest.param(
            "workflow/x.py",
            "from cuiban.models.tables import T\n",
            ["workflow/x.py:1 imports cuiban.models.tables"],
            id="domain-imports-models",
        ),
        pytest.param(
            "workflow/x.py", "import sqlmodel\n", ["workflow/x.py:1 imports sqlmodel"], id="third-party"
        ),
        pytest.param(
            "services/x.py",
            "from models import tables\n",
            ["services/x.py:1 imports models without the cuiban. prefix"],
            id="bare-name",
        ),
        pytest.param("services/x.py", "from sqlalchemy import Engine\n", [], id="sqlalchemy-type"),
        pytest.param(
            "services/x.py",
            "from sqlalchemy import select\n",
            ["services/x.py:1 uses sqlalchemy's ['select'] (queries are models')"],
            id="sqlalchemy-query",
        ),
        pytest.param(
            "reports/x.py", "from cuiban.notifications.render import R\n", [], id="single-module-row"
        ),
        pytest.param(
            "reports/x.py",
            "from cuiban.notifications.transports import T\n",
            ["reports/x.py:1 imports cuiban.notifications.transports"],
            id="beyond-single-module",
        ),
        pytest.param(
            "cli/x.py",
            "from cuiban import models\n",
            ["cli/x.py:1 imports cuiban.models"],
            id="from-cuiban-import",
        ),
        pytest.param("cli/bootstrap.py", "from cuiban.models.database import open_engine\n", [], id="root"),
    ],
)
def test_the_checks_catch_what_they_look_for(path: str, source: str, expected: list[str]) -> None:
    assert problems_of(path, source) == expected


def test_the_clock_check_catches_what_it_looks_for() -> None:
    code = "pendulum.now()\ndate.today()\ntime.time()\nopen('f')\ntime(9, 30)\nos.environ['X']\n"
    assert _clock_or_io_calls(ast.parse(code)) == {"now", "today", "time.time", "open", "environ"}
