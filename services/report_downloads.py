"""附表3–6 for the browser: the file `cuiban report` writes, built in a folder of its own, as bytes.

The same request checks and writers as the command line (`services.report_request.make_reports`),
at the moment the page gives; the folder is removed before the answer leaves, so nothing
of one download is left for another. The SLA report (`cuiban report sla`) is one more school-wide
file, made the same way. The school-wide forms (附表3, 附表4, and 附表6 of every
department at once) and the per-department ones (附表5, 附表6 of one department) are told
apart here, because the pages authorize them differently.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from cuiban.reports.catalog import FORMATS, REPORTS
from cuiban.services.rejection import Refusal
from cuiban.services.report_request import PER_DEPARTMENT, ReportRequest, make_reports
from cuiban.services.sla import FORMATS as SLA_FORMATS
from cuiban.services.sla import SlaRequest, write_sla_report
from cuiban.services.sla import default_name as sla_name
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.plan.schema import Plan

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
}
FORM_NUMBERS = {"working-group": 3, "monthly": 4, "teacher-sheet": 5, "dept-audit": 6}
"""The seed's number of each form (附表N), for the pages' order and titles."""


class NoPdf(Refusal):
    """PDF output needs LibreOffice, which this machine does not have."""


class UnknownReport(Refusal):
    """No such report, format or department."""


@dataclass(frozen=True)
class Download:
    filename: str
    content_type: str
    content: bytes


def subjects() -> list[str]:
    """The reports, in the seed's order (附表3 … 附表6)."""
    return sorted(REPORTS, key=FORM_NUMBERS.__getitem__)


def per_department(subject: str) -> bool:
    return subject in PER_DEPARTMENT


def formats() -> tuple[str, ...]:
    """Every format `cuiban report` writes; PDF only where LibreOffice is installed."""
    from cuiban.reports.pdf import converter

    return FORMATS if converter() else tuple(f for f in FORMATS if f != "pdf")


def check(plan: Plan, subject: str, fmt: str, unit: str | None) -> None:
    """UnknownReport unless `subject` is a report, `fmt` a format and `unit` a department of the plan.
    Cheap, and before any file is read: a page can refuse a request before it authorizes it."""
    if subject not in REPORTS or fmt not in FORMATS:
        raise UnknownReport(f"no report {subject!r} as {fmt!r}")
    if unit is not None and (unit not in plan.units or plan.units[unit].kind != "department"):
        raise UnknownReport(f"{unit!r} is not a department of the plan")
    if subject == "teacher-sheet" and unit is None:
        raise UnknownReport("附表5 is written for one department at a time")


def build(
    engine: Engine,
    plan: Plan,
    subject: str,
    fmt: str,
    unit: str | None,
    now: datetime,
    override: Path | None = None,
) -> Download:
    """Report `subject` as `fmt` (one department's when `unit` is given) as of `now`."""
    from cuiban.reports.pdf import converter
    from cuiban.services.report_files import default_name

    check(plan, subject, fmt, unit)
    if fmt == "pdf" and converter() is None:
        raise NoPdf("PDF output needs LibreOffice, which is not installed on this server")
    unit = unit if per_department(subject) else None
    filename = default_name(subject, plan, now, fmt, plan.units[unit].name if unit else "")
    with tempfile.TemporaryDirectory(prefix="cuiban-download-") as work:
        asked = ReportRequest(subject, fmt, unit, output=Path(work) / f"report.{fmt}")
        (written,) = make_reports(engine, plan, asked.check(), now, override).written
        return Download(filename, CONTENT_TYPES[fmt], written.read_bytes())


def sla(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    fmt: str,
    now: datetime,
    override: Path | None = None,
) -> Download:
    """The SLA report as `fmt` (xlsx or html) as of `now`, as `cuiban report sla` writes it.
    UnknownReport for another format, before anything is read."""
    if fmt not in SLA_FORMATS:
        raise UnknownReport(f"no SLA report as {fmt!r}")
    with tempfile.TemporaryDirectory(prefix="cuiban-download-") as work:
        asked = SlaRequest(fmt, output=Path(work) / f"sla.{fmt}").check()
        written = write_sla_report(engine, plan, calendar, asked, now, override)
        return Download(sla_name(plan, now, fmt), CONTENT_TYPES[fmt], written.read_bytes())
