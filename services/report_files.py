"""`cuiban report`: read a form's figures at a moment, write it as a file, and mail 附表4 on request.

One file per call, or with `each` one file per department (附表6, 附表5). The monthly
report carries the progress chart; mailing it queues one outbox message to the plan's
province address with the workbook attached, keyed by month, so asking twice sends once.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cuiban.models import outbox_store, report_store
from cuiban.models.unit_of_work import transaction
from cuiban.reports import context as contexts
from cuiban.reports.catalog import REPORTS
from cuiban.reports.chart import progress_png
from cuiban.reports.output import write
from cuiban.services import reports
from cuiban.services.cycles import writable
from cuiban.workflow.clock import local_date
from cuiban.workflow.forms import working_group_form
from cuiban.workflow.plan.schema import Plan

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def default_name(name: str, plan: Plan, now: datetime, fmt: str, suffix: str = "") -> str:
    """附表6_数据审核报表_新闻传播学院_2016-12-19.xlsx and the like."""
    day = local_date(now, plan.timezone).isoformat()
    return "_".join(part for part in (REPORTS[name], suffix, day) if part) + f".{fmt}"


def build_context(
    engine: Engine,
    plan: Plan,
    name: str,
    now: datetime,
    unit: str | None = None,
    teacher: str | None = None,
) -> tuple[dict[str, Any], bytes | None]:
    """The template context of report `name` at `now`, and its chart (monthly only)."""
    with engine.connect() as connection:
        if name == "dept-audit":
            return contexts.dept_audit(reports.dept_audits(connection, plan, now, unit)), None
        if name == "monthly":
            chart = progress_png(report_store.progress(connection, plan, now))
            return contexts.monthly(reports.monthly(connection, plan, now)), chart
        if name == "teacher-sheet":
            return contexts.teacher_sheets(reports.teacher_sheets(connection, plan, unit, teacher)), None
    return contexts.working_group(working_group_form(plan)), None


def write_reports(
    engine: Engine,
    plan: Plan,
    name: str,
    fmt: str,
    now: datetime,
    out: Path,
    *,
    unit: str | None = None,
    teacher: str | None = None,
    each: bool = False,
    override: Path | None = None,
) -> list[Path]:
    """Write the report; with `each`, `out` is a folder and every department gets its own file."""
    if not each:
        context, chart = build_context(engine, plan, name, now, unit, teacher)
        return [write(name, context, fmt, out, chart, override)]
    written = []
    for uid in reports.departments(plan, unit):
        context, chart = build_context(engine, plan, name, now, uid)
        target = out / default_name(name, plan, now, fmt, plan.units[uid].name)
        written.append(write(name, context, fmt, target, chart, override))
    return written


def send_monthly(engine: Engine, plan: Plan, now: datetime) -> bool:
    """Queue 附表4 as a workbook for the province (once per month); True when it was queued now.

    Emails carry no phone numbers, so the mailed copy leaves 电话 empty.
    """
    context, chart = build_context(engine, plan, "monthly", now)
    context = {**context, "phone": ""}
    month, entry, review = context["month"], context["entry"], context["review"]
    filename = default_name("monthly", plan, now, "xlsx")
    with tempfile.TemporaryDirectory(prefix="cuiban-monthly-") as work:
        content = write("monthly", context, "xlsx", Path(work) / filename, chart).read_bytes()
    body = (
        f"{plan.province.name}：\n\n{plan.institution}{month}全国教师管理信息系统部署与启用月报表（附表4）见附件。\n"
        f"录入教师数 {entry['total']}，已录入 {entry['done']}，全部录入完成日期：{entry['completed_on']}；"
        f"审核教师数 {review['total']}，已审核 {review['done']}，"
        f"全部审核完成日期：{review['completed_on']}。\n\n"
        f"填表人：{context['filler']}\n"
    )
    html = "<p>" + escape(body).replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>"
    message = {
        "key": f"report|monthly|{plan.province.email}|{month}",
        "kind": "report",
        "recipient": plan.province.email,
        "recipient_name": plan.province.name,
        "slot": month,
        "subject": f"{plan.institution} {month} 全国教师管理信息系统部署与启用月报表",
        "body_text": body,
        "body_html": html,
        "attachments": [
            {"filename": filename, "content_type": XLSX_TYPE, "content_id": None, "content": content}
        ],
    }
    with transaction(engine) as connection:
        writable(connection, plan, now)  # a message belongs to the plan's cycle, which must be current
        return outbox_store.queue(connection, [message], now, cycle=plan.cycle) == 1
