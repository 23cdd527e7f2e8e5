"""Load plan.yaml: parse strictly, check types and references, report every problem at once.

An entry (a person, unit or milestone) whose own keys are wrong is set aside and the
rest of the plan is still checked, so one run names every error; ids of set-aside
entries still count as known, so their errors do not cascade. A top-level key whose
value is wrong (a YAML problem or a type error) is set aside the same way: the
reference checks run on every key that is valid on its own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from cuiban.planfile.holidays import build_calendar
from cuiban.planfile.pydantic_errors import findings_from
from cuiban.planfile.strict_yaml import Mark, parse
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.calendar_findings import calendar_findings
from cuiban.workflow.plan.checks import KnownIds, check_plan
from cuiban.workflow.plan.findings import Finding, dotted
from cuiban.workflow.plan.schema import Plan, PlanModel
from cuiban.workflow.wording import Words, say, words

COLLECTIONS = ("people", "units", "milestones")


@dataclass(frozen=True)
class Problem:
    """A finding placed in the file: what a person reads to fix the plan, in the plan's language."""

    file: str
    line: int
    column: int
    path: str
    message: str
    """In English (what code compares); `said` is the message in the plan's language."""
    severity: str = "error"
    words: Words | None = field(default=None, compare=False)
    language: str = field(default="zh", compare=False)
    """The plan's (zh when the plan could not be read far enough to know)."""

    @property
    def said(self) -> str:
        return self.words.say(self.language) if self.words is not None else self.message

    def __str__(self) -> str:
        return say(
            self.language, "plan.problem", file=self.file, line=self.line, column=self.column,
            severity=words(f"plan.{self.severity}"), path=self.path, message=self.said,
        )


@dataclass
class LoadedPlan:
    source: str
    plan: Plan | None = None
    calendar: WorkingCalendar | None = None
    problems: list[Problem] = field(default_factory=list)
    language: str = "zh"
    """The plan's `language` (zh unless en), as far as the file could be read; zh when it could not."""

    def summary(self) -> str:
        """The sentence after a broken plan's errors."""
        return say(self.language, "plan.has_errors", file=self.source, count=len(self.errors))

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
        return _failed(source, words("plan.file_missing"))
    except UnicodeDecodeError:
        return _failed(source, words("plan.not_utf8"))
    return load_text(text, source)


def load_plan(path: str | os.PathLike[str]) -> tuple[Plan, WorkingCalendar]:
    """The checked plan and its calendar, or PlanInvalid."""
    loaded = read_plan(path)
    if not loaded.ok or loaded.plan is None or loaded.calendar is None:
        raise PlanInvalid(loaded)
    return loaded.plan, loaded.calendar


def _failed(source: str, message: Words) -> LoadedPlan:
    return LoadedPlan(source, problems=[Problem(source, 1, 1, "(file)", str(message), words=message)])


def load_text(text: str, source: str) -> LoadedPlan:
    located = parse(text)
    loaded = LoadedPlan(source, language=_language(located.data))
    placed: list[tuple[Finding, Mark]] = list(located.problems)
    if located.data is not None and not isinstance(located.data, dict):
        placed.append((Finding((), words("plan.not_mapping")), (1, 1)))
    elif isinstance(located.data, dict):
        typed = _validate(located.data)
        findings = typed.findings
        if typed.plan is not None:
            findings += check_plan(typed.plan, _known_ids(located.data), typed.unusable)
        if typed.plan is not None and typed.whole:
            loaded.plan = typed.plan
            loaded.calendar = build_calendar(loaded.plan.calendar)
            findings += calendar_findings(loaded.plan, loaded.calendar)
        unparsed = {f.path for f, _ in located.problems}
        findings = [f for f in findings if not _within(f.path, unparsed)]
        placed += [(f, located.mark(f.path, f.at_key)) for f in findings]
    loaded.problems = _sorted_problems(source, placed, loaded.language)
    return loaded


def _language(data: Any) -> str:
    """The language the plan asks for, as far as it can be read: en when it says so, else zh."""
    return "en" if isinstance(data, dict) and data.get("language") == "en" else "zh"


@dataclass(frozen=True)
class _Typed:
    findings: list[Finding]
    plan: Plan | None
    """The whole plan, or (not `whole`) one built from the top-level keys valid on their own."""
    unusable: frozenset[str] = frozenset()
    """Top-level keys left out of a partial plan."""
    whole: bool = True


def _validate(data: dict[str, Any]) -> _Typed:
    """Type-check the plan; set aside broken collection entries and try again, and if keys outside
    them are broken too, build what is valid so that the reference checks can run on it."""
    try:
        return _Typed([], Plan.model_validate(data))
    except ValidationError as error:
        findings = findings_from(error, Plan)
    broken = {f.path[:2] for f in findings if len(f.path) >= 2 and f.path[0] in COLLECTIONS}
    pruned = {
        key: {k: v for k, v in value.items() if (key, k) not in broken}
        if key in COLLECTIONS and isinstance(value, dict)
        else value
        for key, value in data.items()
    }
    if all(f.path[:2] in broken for f in findings):
        try:
            return _Typed(findings, Plan.model_validate(pruned))
        except ValidationError:
            pass
    partial, unusable = _partial(pruned)
    return _Typed(findings, partial, unusable, whole=False)


def _partial(data: dict[str, Any]) -> tuple[Plan, frozenset[str]]:
    """A plan of the top-level keys that are valid on their own, and the names of the others
    (missing required ones included). Not a valid Plan: only for the reference checks."""
    valid: dict[str, Any] = {}
    unusable: set[str] = set()
    for name, info in Plan.model_fields.items():
        key = info.alias or name
        if key not in data:
            if info.is_required():
                unusable.add(name)
            continue
        try:
            valid[name] = _section(name).model_validate({"value": data[key]}).value  # type: ignore[attr-defined]
        except ValidationError:
            unusable.add(name)
    return Plan.model_construct(**valid), frozenset(unusable)


_SECTIONS: dict[str, type[BaseModel]] = {}


def _section(name: str) -> type[BaseModel]:
    """A model holding one top-level key of Plan as `value`: the same type, strictness and limits."""
    if name not in _SECTIONS:
        info = Plan.model_fields[name]
        _SECTIONS[name] = create_model(f"PlanKey_{name}", __base__=PlanModel, value=(info.annotation, info))
    return _SECTIONS[name]


def _within(path: tuple, prefixes: set[tuple]) -> bool:
    """True when `path` is one of `prefixes` or below one: already reported by the parser."""
    return any(path[: len(p)] == p for p in prefixes)


def _known_ids(data: dict[str, Any]) -> KnownIds:
    def keys(name: str) -> frozenset[str]:
        value = data.get(name)
        return frozenset(value) if isinstance(value, dict) else frozenset()

    return KnownIds(people=keys("people"), units=keys("units"), milestones=keys("milestones"))


def _sorted_problems(source: str, placed: list[tuple[Finding, Mark]], language: str) -> list[Problem]:
    problems = {
        Problem(
            source, line, column, dotted(f.path), str(f.message), f.severity,
            f.message if isinstance(f.message, Words) else None, language,
        )
        for f, (line, column) in placed
    }
    return sorted(problems, key=lambda p: (p.line, p.column, p.message))
