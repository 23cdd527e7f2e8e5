"""`cuiban report`: the options checked together, then the report written (and 附表4 queued on request).

The checks need neither the plan nor the database, and come first: a request that
cannot be met is refused (a `Refusal`) before anything is read. matplotlib and the
document libraries are imported only when a report is actually written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from cuiban.services.rejection import Refusal
from cuiban.workflow.plan.schema import Plan

PER_DEPARTMENT = ("dept-audit", "teacher-sheet")


@dataclass(frozen=True)
class ReportRequest:
    name: str
    fmt: str = "xlsx"
    unit: str | None = None
    teacher: str | None = None
    each: bool = False
    """One file per department, into the folder `output`."""
    output: Path | None = None
    send: bool = False
    """monthly: also queue it for the plan's province address."""

    def check(self) -> ReportRequest:
        """The request itself, or Refusal when its options do not go together."""
        if self.each and self.name not in PER_DEPARTMENT:
            raise Refusal(
                f"--each makes one file per department; {self.name} is one file for the whole school."
            )
        if self.send and self.name != "monthly":
            raise Refusal(
                "--send mails the monthly report (附表4) to the province; other reports are not mailed."
            )
        if self.name == "teacher-sheet" and not (self.unit or self.teacher or self.each):
            raise Refusal(
                "teacher-sheet needs --unit U (a page per teacher of that department), "
                "--teacher STAFF_ID, or --each."
            )
        return self


@dataclass(frozen=True)
class ReportsDone:
    written: list[Path]
    queued_for: str | None = None
    """monthly --send: the province address it was queued for."""
    queued: bool = False
    """False with `queued_for`: already queued this month, not queued again."""


def make_reports(
    engine: Engine,
    plan: Plan,
    asked: ReportRequest,
    now: datetime,
    override: Path | None,
) -> ReportsDone:
    """Write the report `asked` for as of `now` (templates from `override` first); queue 附表4 if asked."""
    from cuiban.reports.pdf import NoConverter
    from cuiban.services.report_files import send_monthly, write_reports

    target = _target(asked, plan, now)
    try:
        written = write_reports(
            engine, plan, asked.name, asked.fmt, now, target,
            unit=asked.unit, teacher=asked.teacher, each=asked.each, override=override,
        )
    except NoConverter as error:
        raise Refusal(str(error)) from None
    if not asked.send:
        return ReportsDone(written)
    return ReportsDone(written, plan.province.email, send_monthly(engine, plan, now))


def _target(asked: ReportRequest, plan: Plan, now: datetime) -> Path:
    """-o, else the report's own name (a file) or the working folder (--each); refused when it is the
    wrong kind of thing."""
    from cuiban.services.report_files import default_name

    target = asked.output or Path("." if asked.each else default_name(asked.name, plan, now, asked.fmt))
    if asked.each and target.exists() and not target.is_dir():
        raise Refusal(
            f"-o {target} is a file; with --each, -o names the folder that gets one file per department"
        )
    if not asked.each and target.is_dir():
        example = target / default_name(asked.name, plan, now, asked.fmt)
        hint = " (or add --each for one file per department)" if asked.name in PER_DEPARTMENT else ""
        raise Refusal(f"-o {target} is a folder; name the file to write, e.g. -o {example}{hint}")
    return target
