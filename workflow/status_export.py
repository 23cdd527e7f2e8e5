"""Checking the national system's status export row by row: staff ID and a known status."""

from __future__ import annotations

from typing import Any

from cuiban.workflow import cells
from cuiban.workflow.plan.schema import SyncSpec
from cuiban.workflow.roster import REQUIRED, RowProblem, duplicate_staff_id
from cuiban.workflow.wording import words


class StatusValidator:
    def __init__(self, spec: SyncSpec, columns: dict[str, int]) -> None:
        self.spec = spec
        self.columns = columns
        self.status_map = {cells.clean(k): v for k, v in spec.status_map.items()}
        self.seen: dict[str, int] = {}

    def check(self, row: int, raw: list[Any]) -> tuple[tuple[str, str] | None, list[RowProblem]]:
        """(staff ID, target state), or the row's problems."""
        problems: list[RowProblem] = []
        id_cell = _cell(raw, self.columns["staff_id"])
        status = cells.clean(_cell(raw, self.columns["status"]))
        header_id, header_status = self.spec.columns["staff_id"], self.spec.columns["status"]
        staff_id = ""
        try:
            staff_id = cells.identifier(id_cell)
            if not staff_id:
                raise cells.CellError("cell.required")
        except cells.CellError as error:
            problems.append(RowProblem(row, header_id, cells.clean(id_cell), error.words))
        if status not in self.status_map:
            known = "、".join(self.status_map)
            reason = REQUIRED if not status else words("cell.unknown_status", known=known)
            problems.append(RowProblem(row, header_status, status, reason))
        if staff_id:
            first = self.seen.setdefault(staff_id, row)
            if first != row:
                problems.append(RowProblem(row, header_id, staff_id, duplicate_staff_id(first)))
        if problems:
            return None, problems
        return (staff_id, self.status_map[status]), []


def _cell(raw: list[Any], index: int) -> Any:
    return raw[index] if index < len(raw) else None
