"""Checking HR's roster row by row: normalised values, every problem named, scope applied.

The validator sees one row at a time so that a file of a million rows can be checked
while streaming; it remembers staff IDs to catch duplicates. A row with problems
yields no record; the caller rejects the whole file if any row had a problem.

It is on the hot path of an import, so each column's parser is chosen once, each cell
is cleaned once, and columns with few distinct values (departments, dates, contract
lengths) remember what each value parsed to.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from cuiban.workflow import cells
from cuiban.workflow.plan.schema import REQUIRED_ROSTER_FIELDS, Plan
from cuiban.workflow.scope import failing_rule
from cuiban.workflow.wording import Words, words

PARSERS: dict[str, Callable[[Any], Any]] = {
    "staff_id": cells.identifier,
    "name": cells.clean,
    "gender": cells.gender,
    "birth_date": cells.year_month,
    "department": cells.clean,
    "post": cells.clean,
    "employment": cells.clean,
    "contract_months": cells.months,
    "in_service_elsewhere": cells.yes_no,
    "email": cells.email,
    "education": cells.clean,
    "degree": cells.clean,
    "title": cells.clean,
    "id_card": cells.id_card,
    "phone": cells.phone,
}
STORED_AS = {"birth_date": "birth_month", "department": "unit_id"}
"""Roster fields stored under another name: the birth month, and the department's unit."""

TEACHER_FIELDS = tuple(STORED_AS.get(f, f) for f in PARSERS if f != "department")
"""Fields stored on a teacher, besides `unit_id`."""

UNIQUE = frozenset({"staff_id", "name", "email", "id_card", "phone"})
"""Columns whose values rarely repeat: not worth remembering."""
MEMO_LIMIT = 200_000
NOT_REMEMBERED = frozenset({0, 1})
"""Cells never remembered: True == 1 and False == 0 as dict keys, but TRUE is no number of months."""


@dataclass(frozen=True)
class RowProblem:
    """A bad cell: where it is, what it holds, and why it is refused (put into words where shown)."""

    row: int
    column: str
    value: str
    why: Words

    @property
    def reason(self) -> str:
        """Why, in English."""
        return str(self.why)

    def words(self, file: str) -> Words:
        """The problem's line: the file, row, column and value as they are, the reason in words."""
        message = "file.row_problem" if self.value else "file.row_problem_empty"
        return words(message, file=file, row=self.row, column=self.column, value=self.value,
                     reason=self.why)


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, Any]
    """TEACHER_FIELDS plus `unit_id`."""
    excluded_by: str | None = None
    """The id of the scope rule the row fails, if any."""


@dataclass(frozen=True)
class _Column:
    field: str
    stored_as: str
    index: int
    header: str
    required: bool
    parse: Callable[[Any], Any]
    memo: dict[Any, Any] | None


_UNKNOWN = object()
REQUIRED = words("cell.required")


def duplicate_staff_id(first: int) -> Words:
    return words("cell.duplicate_staff_id", first=first)


class _Refused:
    __slots__ = ("reason",)

    def __init__(self, reason: Words) -> None:
        self.reason = reason


class RosterValidator:
    """Validates rows against the plan's roster mapping and scope rules."""

    def __init__(self, plan: Plan, columns: dict[str, int], epoch: date = cells.EXCEL_EPOCH) -> None:
        """`epoch`: day 0 of the file's date numbers (1904-01-01 for a workbook in the 1904 system)."""
        self.units = _unit_lookup(plan)
        parsers = dict(PARSERS, department=self._department)
        if epoch != cells.EXCEL_EPOCH:
            parsers["birth_date"] = partial(cells.year_month, epoch=epoch)
        required = set(REQUIRED_ROSTER_FIELDS) | {rule.field for rule in plan.roster.scope}
        self.columns = [
            _Column(
                name,
                STORED_AS.get(name, name),
                index,
                plan.roster.columns[name],
                name in required,
                parsers[name],
                None if name in UNIQUE else {},
            )
            for name, index in columns.items()
        ]
        self.rules = [
            rule.model_copy(update={"field": STORED_AS.get(rule.field, rule.field)})
            for rule in plan.roster.scope
        ]
        self.staff_header = plan.roster.columns["staff_id"]
        self.seen: dict[str, int] = {}

    def check(self, row: int, raw: list[Any]) -> tuple[RosterRow | None, list[RowProblem]]:
        values: dict[str, Any] = dict.fromkeys(TEACHER_FIELDS)
        problems: list[RowProblem] = []
        width = len(raw)
        for column in self.columns:
            cell = raw[column.index] if column.index < width else None
            memo = column.memo
            value = _UNKNOWN if memo is None else memo.get(cell, _UNKNOWN)
            if value is _UNKNOWN:
                value = self._parse(column, cell)
                if memo is not None and len(memo) < MEMO_LIMIT and cell not in NOT_REMEMBERED:
                    memo[cell] = value
            if type(value) is _Refused:
                shown = cells.masked(column.field, cells.clean(cell))
                problems.append(RowProblem(row, column.header, shown, value.reason))
            else:
                values[column.stored_as] = value
        staff_id = values["staff_id"]
        if staff_id:
            first = self.seen.setdefault(staff_id, row)
            if first != row:
                problems.append(RowProblem(row, self.staff_header, staff_id, duplicate_staff_id(first)))
        if problems:
            return None, problems
        rule = failing_rule(self.rules, values)
        return RosterRow(row, values, rule.id if rule else None), []

    @staticmethod
    def _parse(column: _Column, cell: Any) -> Any:
        if type(cell) is str:
            cell = cells.clean(cell)
        if cell is None or cell == "":
            return _Refused(REQUIRED) if column.required else None
        if column.parse is cells.clean and type(cell) is str:
            return cell  # a text field: cleaned just above
        if type(cell) is cells.FormulaWithoutValue:
            return _Refused(cell.reason)
        try:
            return column.parse(cell)
        except cells.CellError as error:
            return _Refused(error.words)

    def _department(self, text: Any) -> str:
        name = cells.clean(text)
        unit = self.units.get(name)
        if unit is None:
            close = difflib.get_close_matches(name, list(self.units), n=3, cutoff=0.3)
            if close:
                raise cells.CellError("cell.unknown_department_close", close="、".join(close))
            raise cells.CellError("cell.unknown_department")
        return unit


def _unit_lookup(plan: Plan) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for unit_id, unit in plan.units.items():
        for name in (unit.name, *unit.aliases):
            lookup[cells.clean(name)] = unit_id
    return lookup
