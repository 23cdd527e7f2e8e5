"""The filled 附表4 a monthly reminder carries, as of the tick's `now`: the coordinator checks it and
forwards it to the province instead of running a command.

The figures are those `cuiban report monthly` writes (services/reports.py reads them the same
way; this copy lives here because the tick may not import services): the whole school's
in-scope teachers per state, read as they are when nothing was logged after `now`, else from
the transition log. The files come from the same writers (`reports.output`) as the command's.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from cuiban.models import as_of_store, report_store, teacher_store
from cuiban.reports.chart import progress_png
from cuiban.reports.context import monthly as monthly_context
from cuiban.reports.output import write
from cuiban.workflow.clock import local_date
from cuiban.workflow.forms import ENTERED, REVIEWED, MonthlyReport, Stage, month_label
from cuiban.workflow.plan.schema import Plan

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
"""The formats a monthly reminder attaches, in this order: the workbook, then the Word copy."""


def monthly_figures(connection: Connection, plan: Plan, now: datetime) -> MonthlyReport:
    """附表4 for the month of `now`, for the whole school (as services.reports.monthly)."""
    filler = plan.people[plan.roles.coordinator]
    current = as_of_store.is_current(connection, now)
    counts = (
        teacher_store.unit_state_counts(connection)
        if current
        else as_of_store.unit_state_counts_then(connection, now)
    )
    school: Counter[str] = Counter()
    for by_state in counts.values():
        school.update(by_state)
    entry = _stage(connection, plan, now, ENTERED, school, current)
    review = _stage(connection, plan, now, REVIEWED, school, current)
    today = local_date(now, plan.timezone)
    return MonthlyReport(
        plan.institution, month_label(today), filler.name, filler.office_phone or "", today, entry, review
    )


def _stage(
    connection: Connection, plan: Plan, now: datetime, reached: frozenset[str], by_state: Counter[str],
    current: bool,
) -> Stage:
    total = sum(by_state.values())
    done = sum(n for state, n in by_state.items() if state in reached)
    result = Stage(total, done, [])
    if not result.complete:
        return result
    if current:
        last = report_store.last_reached(connection, sorted(reached), None)
    else:
        last = as_of_store.last_first_reached(connection, now, sorted(reached), None)
    return replace(result, completed_on=local_date(last, plan.timezone) if last else None)


def attachment_name(plan: Plan, month: str, fmt: str) -> str:
    """附表4_河北传媒学院_2016年12月.xlsx: the form, the school and the month, as the province files it."""
    return f"附表4_{plan.institution}_{month}.{fmt}"


def monthly_attachments(
    connection: Connection, plan: Plan, now: datetime, due: date | None = None
) -> tuple[dict[str, Any], ...]:
    """The filled 附表4 as an xlsx and a docx, each an outbox attachment (filename, content_type,
    content, content_id None), with the progress chart the command's copy has. The figures are
    those of `now`; the 年月 is the month of the occurrence `due` (the 12-01 report is 2016年12月's,
    as `cuiban report monthly --send` on that day writes it, even in a reminder of 11-29)."""
    report = monthly_figures(connection, plan, now)
    if due is not None:
        report = replace(report, month=month_label(due))
    context = monthly_context(report)
    chart = progress_png(report_store.progress(connection, plan, now))
    files = []
    with tempfile.TemporaryDirectory(prefix="cuiban-monthly-") as work:
        for fmt, content_type in CONTENT_TYPES.items():
            name = attachment_name(plan, report.month, fmt)
            content = write("monthly", context, fmt, Path(work) / name, chart).read_bytes()
            files.append(
                {"filename": name, "content_type": content_type, "content": content, "content_id": None}
            )
    return tuple(files)
