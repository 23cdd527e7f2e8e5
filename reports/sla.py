"""The SLA report: one row per department (tasks on time and late, working days late, stage spans)
and one row per milestone and unit, as xlsx (every text a string cell, `reports.xlsx`'s rows) or html.

The context holds plain values only, so both formats and a test read the same figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from cuiban.reports.html import render_html
from cuiban.reports.xlsx import FONT, _append, _row, _widths, print_ready
from cuiban.workflow.clock import local_iso
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.sla import LATE, ON_TIME, OVERDUE, PENDING, SlaFigures, Tally

DEPARTMENT_HEADER = [
    "部门", "按时完成", "逾期完成", "逾期未完成", "未到期", "按时率(%)",
    "逾期工作日合计", "逾期工作日中位数", "逾期工作日最多",
    "开通账号→提交 人数", "中位天数", "中位工作日",
    "提交→审核 人数", "中位天数", "中位工作日",
]  # fmt: skip
MILESTONE_HEADER = [
    "节点", "节点名称", "单位", "按时完成", "逾期完成", "逾期未完成", "未到期",
    "逾期工作日合计", "逾期工作日中位数", "逾期工作日最多",
]  # fmt: skip


def _tasks(tally: Tally) -> list[Any]:
    c = tally.counts
    due = c[ON_TIME] + c[LATE] + c[OVERDUE]
    rate = round(100 * c[ON_TIME] / due, 1) if due else None
    return [c[ON_TIME], c[LATE], c[OVERDUE], c[PENDING], rate]


def _late(tally: Tally) -> list[Any]:
    return [tally.late_sum, tally.late_median, tally.late_max]


def context(figures: SlaFigures, plan: Plan) -> dict[str, Any]:
    """The rows of both tables, in the plan's order of departments, milestones and units."""
    units = list(plan.units)
    departments = []
    for d in figures.departments:
        spans = [v for s in d.spans for v in (s.teachers, s.median_days, s.median_working_days)]
        tasks = _tasks(d.tasks)
        departments.append([plan.units[d.unit_id].name, *tasks, *_late(d.tasks), *spans])
    order = {mid: n for n, mid in enumerate(plan.milestones)}
    keys = sorted(figures.milestones, key=lambda k: (order.get(k[0], len(order)), _at(units, k[1]), k))
    milestones = []
    for mid, uid in keys:
        tally = figures.milestones[(mid, uid)]
        title = plan.milestones[mid].title if mid in plan.milestones else mid
        name = plan.units[uid].name if uid in plan.units else uid
        milestones.append([mid, title, name, *_tasks(tally)[:4], *_late(tally)])
    return {
        "title": f"{plan.institution} {plan.title}：SLA报表",
        "as_of": local_iso(figures.now, plan.timezone),
        "cycle": plan.cycle,
        "department_header": DEPARTMENT_HEADER,
        "departments": departments,
        "milestone_header": MILESTONE_HEADER,
        "milestones": milestones,
    }


def _at(units: list[str], uid: str) -> int:
    return units.index(uid) if uid in units else len(units)


def write_xlsx(context: dict[str, Any], out: Path) -> None:
    """Sheet 部门: a title line, the as-of line, the header (row 3), one row per department;
    sheet 节点: the same per milestone and unit."""
    workbook = Workbook()
    for n, (name, header, rows, widths) in enumerate(
        (
            ("部门", context["department_header"], context["departments"], [22] + [11] * 14),
            ("节点", context["milestone_header"], context["milestones"], [22, 30, 18] + [11] * 7),
        )
    ):
        sheet = workbook.active if n == 0 else workbook.create_sheet()
        sheet.title = name
        _append(sheet, [context["title"]])
        sheet["A1"].font = Font(name=FONT, size=14, bold=True)
        _append(sheet, [f"截至 {context['as_of']}（{context['cycle']} 年度）"])
        _row(sheet, header, header=True)
        for values in rows:
            _row(sheet, values)
        sheet.freeze_panes = "B4"
        _widths(sheet, widths)
        print_ready(sheet, 3)  # A4, one page wide, the title and header on every page
    workbook.save(out)


def render(context: dict[str, Any], override: Path | None = None) -> str:
    """The html page (template sla.html; an admin's templates folder overrides it by name)."""
    return render_html("sla", context, None, override)
