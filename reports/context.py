"""One template context per form, shared by the Word and HTML templates (an admin edits both alike).

Values are display text: dates as YYYY-MM-DD, a stage not yet complete as 未完成,
lists of names joined with 、.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from cuiban.workflow.forms import DeptAudit, MonthlyReport, Stage, TeacherSheet, WorkingGroupForm
from cuiban.workflow.province import SOURCE_LABELS, InstitutionLine, ProvinceMonthly, percent

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


def province_monthly(report: ProvinceMonthly) -> dict[str, Any]:
    """附表4 全省汇总: a line per institution (未报送: no figures, not zeros), the 合计 of those reported."""
    unreported = [line.name for line in report.lines if line.source is None]
    return {
        "province": report.province,
        "month": report.month,
        "filler": report.filler,
        "phone": report.phone,
        "filled_on": report.filled_on.isoformat(),
        "lines": [_province_line(n, line) for n, line in enumerate(report.lines, 1)],
        "total": {
            **_figures(report.entry, report.review),
            "label": f"合计（已报送 {len(report.reported)} 所）",
        },
        "unreported": "、".join(unreported),
    }


def _figures(entry: Stage | None, review: Stage | None) -> dict[str, Any]:
    if entry is None or review is None:
        return dict.fromkeys(("total", "entered", "entered_pct", "reviewed", "reviewed_pct", "done_on"), "")
    return {
        "total": entry.total,
        "entered": entry.done,
        "entered_pct": percent(entry),
        "reviewed": review.done,
        "reviewed_pct": percent(review),
        "done_on": review.completed_on.isoformat() if review.completed_on else NOT_DONE,
    }


def _province_line(number: int, line: InstitutionLine) -> dict[str, Any]:
    received = f"（{line.received_on.isoformat()} 收到）" if line.received_on else ""
    return {
        "number": number,
        "name": line.name,
        **_figures(line.entry, line.review),
        "source": SOURCE_LABELS[line.source],
        "as_of": line.as_of.isoformat() if line.as_of else "",
        "note": line.note or (f"{line.file_name}{received}" if line.file_name else ""),
    }
