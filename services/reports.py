"""The forms' figures, read from the database at a moment: one function per form.

The numbers are the database's now (the forms are snapshots, dated `now`); a stage's
completion date comes from the transition log. Teacher phone numbers are read only
for 附表5 and only when the plan maps the phone column.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection

from cuiban.models import report_store, teacher_store
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
    month_label,
)
from cuiban.workflow.plan.schema import Plan


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
    in_scope = teacher_store.unit_state_counts(connection)
    for uid in departments(plan, unit):
        auditor, phone = auditor_of(plan, uid)
        by_state = in_scope.get(uid, {})
        audits.append(
            DeptAudit(
                uid,
                plan.units[uid].name,
                auditor,
                phone,
                _stage(connection, plan, ENTERED, uid, by_state),
                _stage(connection, plan, REVIEWED, uid, by_state),
                local_date(now, plan.timezone),
            )
        )
    return audits


def monthly(connection: Connection, plan: Plan, now: datetime) -> MonthlyReport:
    """附表4 for the month of `now`, for the whole school."""
    filler = plan.people[plan.roles.coordinator]
    school: Counter[str] = Counter()
    for by_state in teacher_store.unit_state_counts(connection).values():
        school.update(by_state)
    today = local_date(now, plan.timezone)
    return MonthlyReport(
        plan.institution,
        month_label(today),
        filler.name,
        filler.office_phone or "",
        today,
        _stage(connection, plan, ENTERED, None, school),
        _stage(connection, plan, REVIEWED, None, school),
    )


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
