"""The forms' figures as of a moment: one function per form.

The forms say what was true at `now` (the 附表6 of 12-16 is what a department signs for 12-16):
when nothing was logged after `now` the tables are read as they are; for a past `now` every
teacher's state, membership and stage dates come from the transition log
(`models.as_of_store`). A stage's completion date comes from the log either way. The teachers'
own fields on 附表5 (name, title, …) are today's: the log keeps states and moves, not every field's
history. Teacher phone numbers are read only for 附表5 and only when the plan maps the phone column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from cuiban.models import as_of_store, report_store, teacher_store
from cuiban.schedules.monthly_form import monthly_figures
from cuiban.services.rejection import Refusal
from cuiban.workflow.clock import local_date
from cuiban.workflow.forms import (
    ENTERED,
    REVIEWED,
    DeptAudit,
    MonthlyReport,
    Stage,
    TeacherSheet,
    auditor_of,
)
from cuiban.workflow.plan.schema import Plan

OUT_OF_SCOPE = ("excluded", "left")


class UnknownSubject(Refusal):
    """The unit or teacher a report was asked for does not exist."""


def _stage(
    connection: Connection, plan: Plan, reached: frozenset[str], unit_id: str | None, by_state: dict[str, int]
) -> Stage:
    """A stage from in-scope teachers per state (one count serves every form); the names of those
    missing for one unit; the day it completed, from the log, only once it has."""
    total = sum(by_state.values())
    done = sum(n for state, n in by_state.items() if state in reached)
    names = report_store.names_missing(connection, unit_id, sorted(reached)) if unit_id else []
    result = Stage(total, done, names)
    if not result.complete:
        return result
    last = report_store.last_reached(connection, sorted(reached), unit_id)
    return replace(result, completed_on=local_date(last, plan.timezone) if last else None)


def _stage_then(
    connection: Connection, plan: Plan, at: datetime, reached: frozenset[str], rows: list[dict] | None,
    by_state: dict[str, int],
) -> Stage:
    """_stage as of a past `at`: `rows` are one unit's in-scope teachers then (None: the whole school,
    no names)."""
    total = sum(by_state.values())
    done = sum(n for state, n in by_state.items() if state in reached)
    names = [r["name"] for r in rows if r["state"] not in reached] if rows is not None else []
    result = Stage(total, done, names)
    if not result.complete:
        return result
    ids = [r["staff_id"] for r in rows if r["state"] in reached] if rows is not None else None
    last = as_of_store.last_first_reached(connection, at, sorted(reached), ids)
    return replace(result, completed_on=local_date(last, plan.timezone) if last else None)


def _in_scope_then(connection: Connection, at: datetime, unit_id: str, moved: dict[str, str]) -> list[dict]:
    """A department's in-scope teachers at `at` (staff_id, name, state), by staff ID."""
    rows = as_of_store.unit_teachers_at(connection, at, unit_id, moved)
    return [r for r in rows if r["state"] not in OUT_OF_SCOPE]


def departments(plan: Plan, unit: str | None) -> list[str]:
    """The department asked for (by id or name), or every department of the plan."""
    if unit is None:
        return plan.departments()
    for uid, spec in plan.units.items():
        if unit in (uid, spec.name) and spec.kind == "department":
            return [uid]
    known = "、".join(plan.units[u].name for u in plan.departments())
    raise UnknownSubject(f"{unit} is not a department of the plan (departments: {known}).")


def dept_audits(
    connection: Connection, plan: Plan, now: datetime, unit: str | None = None
) -> list[DeptAudit]:
    """附表6 for one department or every department, as of `now`."""
    audits = []
    current = as_of_store.is_current(connection, now)
    in_scope = teacher_store.unit_state_counts(connection) if current else {}
    moved = {} if current else as_of_store.units_before_moves(connection, now)
    for uid in departments(plan, unit):
        auditor, phone = auditor_of(plan, uid)
        if current:
            by_state = in_scope.get(uid, {})
            entry = _stage(connection, plan, ENTERED, uid, by_state)
            review = _stage(connection, plan, REVIEWED, uid, by_state)
        else:
            rows = _in_scope_then(connection, now, uid, moved)
            by_state = dict(Counter(r["state"] for r in rows))
            entry = _stage_then(connection, plan, now, ENTERED, rows, by_state)
            review = _stage_then(connection, plan, now, REVIEWED, rows, by_state)
        day = local_date(now, plan.timezone)
        audits.append(DeptAudit(uid, plan.units[uid].name, auditor, phone, entry, review, day))
    return audits


def monthly(connection: Connection, plan: Plan, now: datetime) -> MonthlyReport:
    """附表4 for the month of `now`, for the whole school: the same figures a monthly reminder attaches."""
    return monthly_figures(connection, plan, now)


def teacher_sheets(
    connection: Connection, plan: Plan, unit: str | None = None, staff_id: str | None = None
) -> list[TeacherSheet]:
    """附表5 for one teacher or every in-scope teacher of a department."""
    if staff_id is not None:
        rows = report_store.teachers_of(connection, staff_id=staff_id)
        if not rows:
            raise UnknownSubject(f"No teacher has the staff ID {staff_id}.")
    else:
        (uid,) = departments(plan, unit)
        rows = report_store.teachers_of(connection, unit_id=uid)
    shows_phone = "phone" in plan.roster.columns
    return [
        TeacherSheet(
            row["staff_id"],
            row["name"],
            row["gender"] or "",
            row["birth_month"] or "",
            row["post"] or "",
            plan.units[row["unit_id"]].name if row["unit_id"] in plan.units else row["unit_id"],
            (row["phone"] or "") if shows_phone else None,
            row["education"] or "",
            row["degree"] or "",
            row["title"] or "",
        )
        for row in rows
    ]
