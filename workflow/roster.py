"""Checking HR's roster row by row: normalised values, every problem named, scope applied.

The validator sees one row at a time so that a file of a million rows can be checked
while streaming; it remembers staff IDs to catch duplicates. A row with problems
yields no record; the caller rejects the whole file if any row had a problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workflow import cells
from workflow.plan.schema import REQUIRED_ROSTER_FIELDS, Plan
from workflow.scope import failing_rule

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

TEACHER_FIELDS = tuple(f if f != "birth_date" else "birth_month" for f in PARSERS if f != "department")
"""Fields stored on a teacher (the department becomes `unit_id`)."""


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class RosterRow:
    row: int
    values: dict[str, Any]
    """TEACHER_FIELDS plus `unit_id`."""
    excluded_by: str | None = None
    """The id of the scope rule the row fails, if any."""


class RosterValidator:
    """Validates rows against the plan's roster mapping and scope rules."""

    def __init__(self, plan: Plan, columns: dict[str, int]) -> None:
        self.columns = columns
        self.headers = plan.roster.columns
        self.rules = plan.roster.scope
        self.required = set(REQUIRED_ROSTER_FIELDS) | {rule.field for rule in self.rules}
        self.units = _unit_lookup(plan)
        self.seen: dict[str, int] = {}

    def check(self, row: int, raw: list[Any]) -> tuple[RosterRow | None, list[RowProblem]]:
        values: dict[str, Any] = {}
        problems: list[RowProblem] = []
        for name, index in self.columns.items():
            cell = raw[index] if index < len(raw) else None
            try:
                values[name] = self._parse(name, cell)
            except cells.CellError as error:
                shown = cells.masked(name, cells.clean(cell))
                problems.append(RowProblem(row, self.headers[name], shown, str(error)))
        problems += self._check_links(row, values)
        if problems:
            return None, problems
        return self._record(row, values), []

    def _parse(self, name: str, cell: Any) -> Any:
        if cell is None or (isinstance(cell, str) and not cells.clean(cell)):
            if name in self.required:
                raise cells.CellError("a value is required here")
            return None
        return PARSERS[name](cell)

    def _check_links(self, row: int, values: dict[str, Any]) -> list[RowProblem]:
        problems = []
        staff_id, department = values.get("staff_id"), values.get("department")
        if staff_id:
            first = self.seen.setdefault(staff_id, row)
            if first != row:
                problems.append(
                    RowProblem(
                        row,
                        self.headers["staff_id"],
                        staff_id,
                        f"duplicate staff ID (first on row {first})",
                    )
                )
        if department and department not in self.units:
            close = difflib.get_close_matches(department, list(self.units), n=3, cutoff=0.3)
            hint = f"; closest known: {'、'.join(close)}" if close else ""
            problems.append(
                RowProblem(row, self.headers["department"], department, f"unknown department{hint}")
            )
        return problems

    def _record(self, row: int, values: dict[str, Any]) -> RosterRow:
        rule = failing_rule(self.rules, values)
        record = {
            name: values.get(name if name != "birth_month" else "birth_date") for name in TEACHER_FIELDS
        }
        record["unit_id"] = self.units[values["department"]]
        return RosterRow(row, record, rule.id if rule else None)


def _unit_lookup(plan: Plan) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for unit_id, unit in plan.units.items():
        for name in (unit.name, *unit.aliases):
            lookup[cells.clean(name)] = unit_id
    return lookup
