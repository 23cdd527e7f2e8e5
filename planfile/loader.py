"""Load plan.yaml: parse strictly, check types and references, report every problem at once.

An entry (a person, unit or milestone) whose own keys are wrong is set aside and the
rest of the plan is still checked, so one run names every error; ids of set-aside
entries still count as known, so their errors do not cascade.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from planfile.holidays import build_calendar
from planfile.pydantic_errors import findings_from
from planfile.strict_yaml import Mark, parse
from workflow.calendar import WorkingCalendar
from workflow.plan.calendar_findings import calendar_findings
from workflow.plan.checks import KnownIds, check_plan
from workflow.plan.findings import Finding, dotted
from workflow.plan.schema import Plan

DEFAULT_PLAN = "config/plan.yaml"
COLLECTIONS = ("people", "units", "milestones")


def default_plan_path() -> str:
    return os.environ.get("CUIBAN_PLAN") or DEFAULT_PLAN


@dataclass(frozen=True)
class Problem:
    """A finding placed in the file: what a person reads to fix the plan."""

    file: str
    line: int
    column: int
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.path}: {self.message}"


@dataclass
class LoadedPlan:
    source: str
    plan: Plan | None = None
    calendar: WorkingCalendar | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return self.plan is not None and not self.errors


class PlanInvalid(Exception):
    """The plan has errors; `problems` names each one."""

    def __init__(self, loaded: LoadedPlan) -> None:
        self.loaded = loaded
        lines = "\n".join(str(p) for p in loaded.errors)
        super().__init__(f"{loaded.source}: the plan has {len(loaded.errors)} error(s):\n{lines}")


def read_plan(path: str | os.PathLike[str]) -> LoadedPlan:
    """Read and check a plan file; never raises for problems in the file."""
    source = str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return _failed(source, "the plan file does not exist")
    except UnicodeDecodeError:
        return _failed(source, "the plan file is not UTF-8 text")
    return load_text(text, source)


def load_plan(path: str | os.PathLike[str]) -> tuple[Plan, WorkingCalendar]:
    """The checked plan and its calendar, or PlanInvalid."""
    loaded = read_plan(path)
    if not loaded.ok or loaded.plan is None or loaded.calendar is None:
        raise PlanInvalid(loaded)
    return loaded.plan, loaded.calendar


def _failed(source: str, message: str) -> LoadedPlan:
    return LoadedPlan(source, problems=[Problem(source, 1, 1, "(file)", message)])


def load_text(text: str, source: str) -> LoadedPlan:
    located = parse(text)
    loaded = LoadedPlan(source)
    placed: list[tuple[Finding, Mark]] = list(located.problems)
    if located.data is not None and not isinstance(located.data, dict):
        placed.append((Finding((), "the plan must be a mapping of keys"), (1, 1)))
    elif isinstance(located.data, dict):
        findings, loaded.plan = _validate(located.data)
        if loaded.plan is not None:
            findings += check_plan(loaded.plan, _known_ids(located.data))
            loaded.calendar = build_calendar(loaded.plan.calendar)
            findings += calendar_findings(loaded.plan, loaded.calendar)
        unparsed = {f.path for f, _ in located.problems}
        findings = [f for f in findings if not _within(f.path, unparsed)]
        placed += [(f, located.mark(f.path, f.at_key)) for f in findings]
    loaded.problems = _sorted_problems(source, placed)
    return loaded


def _validate(data: dict[str, Any]) -> tuple[list[Finding], Plan | None]:
    """Type-check the plan; set aside broken collection entries and try again."""
    try:
        return [], Plan.model_validate(data)
    except ValidationError as error:
        findings = findings_from(error, Plan)
    broken = {f.path[:2] for f in findings if len(f.path) >= 2 and f.path[0] in COLLECTIONS}
    if any(f.path[:2] not in broken for f in findings):
        return findings, None
    pruned = {
        key: {k: v for k, v in value.items() if (key, k) not in broken}
        if key in COLLECTIONS and isinstance(value, dict)
        else value
        for key, value in data.items()
    }
    try:
        return findings, Plan.model_validate(pruned)
    except ValidationError:
        return findings, None


def _within(path: tuple, prefixes: set[tuple]) -> bool:
    """True when `path` is one of `prefixes` or below one: already reported by the parser."""
    return any(path[: len(p)] == p for p in prefixes)


def _known_ids(data: dict[str, Any]) -> KnownIds:
    def keys(name: str) -> frozenset[str]:
        value = data.get(name)
        return frozenset(value) if isinstance(value, dict) else frozenset()

    return KnownIds(people=keys("people"), units=keys("units"), milestones=keys("milestones"))


def _sorted_problems(source: str, placed: list[tuple[Finding, Mark]]) -> list[Problem]:
    problems = {
        Problem(source, line, column, dotted(f.path), f.message, f.severity) for f, (line, column) in placed
    }
    return sorted(problems, key=lambda p: (p.line, p.column, p.message))
