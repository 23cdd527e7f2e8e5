"""One template context per form, shared by the Word and HTML templates (an admin edits both alike).

Values are display text: dates as YYYY-MM-DD, a stage not yet complete as 未完成,
lists of names joined with 、.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cuiban.workflow.forms import DeptAudit, MonthlyReport, Stage, TeacherSheet, WorkingGroupForm

NOT_DONE = "未完成"
CORRECTION_ROWS = 6
"""附表5 has six empty lines for corrections."""


def stage_context(stage: Stage) -> dict[str, Any]:
    return {
        "total": stage.total,
        "done": stage.done,
        "missing": stage.missing,
        "complete": stage.complete,
        "missing_names": "、".join(stage.missing_names),
        "completed_on": stage.completed_on.isoformat() if stage.completed_on else NOT_DONE,
    }


def dept_audit(audits: list[DeptAudit]) -> dict[str, Any]:
    return {
        "audits": [
            {
                "unit_name": a.unit_name,
                "auditor": a.auditor,
                "phone": a.phone,
                "report_date": a.report_date.isoformat(),
                "entry": stage_context(a.entry),
                "review": stage_context(a.review),
            }
            for a in audits
        ]
    }


def monthly(report: MonthlyReport) -> dict[str, Any]:
    return {
        "institution": report.institution,
        "month": report.month,
        "filler": report.filler,
        "phone": report.phone,
        "filled_on": report.filled_on.isoformat(),
        "entry": stage_context(report.entry),
        "review": stage_context(report.review),
        "chart": None,
    }


def teacher_sheets(sheets: list[TeacherSheet]) -> dict[str, Any]:
    return {
        "sheets": [{**asdict(s), "phone": s.phone or ""} for s in sheets],
        "correction_rows": list(range(1, CORRECTION_ROWS + 1)),
    }


def working_group(form: WorkingGroupForm) -> dict[str, Any]:
    return {
        "institution": form.institution,
        "rows": [asdict(r) for r in form.rows],
        "contact": asdict(form.contact) if form.contact else None,
        "technical_contact": asdict(form.technical_contact) if form.technical_contact else None,
    }
