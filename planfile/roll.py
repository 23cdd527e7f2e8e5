"""Next year's plan: every date moved to the new cycle, everything else left byte for byte.

Dates are rewritten in place at the positions the strict parser recorded, so comments,
key order, alignment and quoting survive untouched. A milestone deadline that lands
on a non-working day moves to the previous working day; a window start that would
then come after its deadline moves with it. The calendar's own extra holidays and
workdays are year-specific and are left for the admin to replace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from cuiban.planfile.strict_yaml import Mark, parse
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.findings import Path, dotted
from cuiban.workflow.plan.schema import Plan

_DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CALENDAR_EXTRAS = {("calendar", "extra_holidays"), ("calendar", "extra_workdays")}


@dataclass(frozen=True)
class DateChange:
    path: str
    old: date
    new: date
    note: str = ""


@dataclass(frozen=True)
class RolledPlan:
    text: str
    changes: list[DateChange]
    notes: list[str]


def shift_years(day: date, years: int) -> date:
    """Same month and day `years` later; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def roll_text(text: str, plan: Plan, to_cycle: int, calendar: WorkingCalendar) -> RolledPlan:
    """Roll a checked plan's text to `to_cycle`."""
    if to_cycle == plan.cycle:
        raise ValueError(f"the plan is already for cycle {to_cycle}")
    located = parse(text)
    years = to_cycle - plan.cycle
    dates = dict(_dated_paths(located.data, ()))
    new_dates = {path: shift_years(day, years) for path, day in dates.items()}
    notes = _move_deadlines(new_dates, calendar)
    _keep_windows_open(new_dates, notes)
    edits: list[tuple[Mark, str, str]] = [
        (located.values[path], day.isoformat(), dates[path].isoformat()) for path, day in new_dates.items()
    ]
    edits.append((located.values[("cycle",)], str(to_cycle), str(plan.cycle)))
    changes = [
        DateChange(dotted(path), dates[path], day, notes.get(path, "")) for path, day in new_dates.items()
    ]
    extras = [
        f"{dotted(p)}: left as it was; list {to_cycle}'s dates once they are announced"
        for p in sorted(_CALENDAR_EXTRAS)
        if _get(located.data, p)
    ]
    return RolledPlan(_apply(text, edits), changes, extras)


def _dated_paths(value: Any, path: Path) -> list[tuple[Path, date]]:
    if path in _CALENDAR_EXTRAS:
        return []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _dated_paths(v, (*path, k))]
    if isinstance(value, list):
        return [found for i, v in enumerate(value) for found in _dated_paths(v, (*path, i))]
    if isinstance(value, date):
        return [(path, value)]
    if isinstance(value, str) and _DATE_TEXT.match(value):
        return [(path, date.fromisoformat(value))]
    return []


def _is_deadline(path: Path) -> bool:
    return len(path) == 3 and path[0] == "milestones" and path[2] == "due"


def _move_deadlines(new_dates: dict[Path, date], calendar: WorkingCalendar) -> dict[Path, str]:
    notes: dict[Path, str] = {}
    for path, day in new_dates.items():
        if _is_deadline(path) and not calendar.is_working_day(day):
            moved = calendar.previous_working_day(day)
            notes[path] = f"{day} is not a working day; moved to the previous working day"
            new_dates[path] = moved
    return notes


def _keep_windows_open(new_dates: dict[Path, date], notes: dict[Path, str]) -> None:
    for path, day in list(new_dates.items()):
        if len(path) == 3 and path[0] == "milestones" and path[2] == "start":
            due = new_dates.get((*path[:2], "due"))
            if due is not None and day > due:
                new_dates[path] = due
                notes[path] = "moved with its deadline so the window stays open"


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _apply(text: str, edits: list[tuple[Mark, str, str]]) -> str:
    lines = text.splitlines(keepends=True)
    for (line, column), new, old in sorted(edits, reverse=True):
        row = lines[line - 1]
        start = column - 1
        if row[start] in "'\"":
            start += 1
        assert row[start : start + len(old)] == old, (line, column, old)
        lines[line - 1] = row[:start] + new + row[start + len(old) :]
    return "".join(lines)
