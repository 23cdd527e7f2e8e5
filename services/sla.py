"""`cuiban report sla`: the SLA figures per department as of a moment, written as xlsx or html.

Reads the plan's cycle (an older, closed cycle stays reportable) in one read-only transaction,
so the task part and the teacher part see the same log. The figures are `workflow.sla`'s; the
queries `models.sla_store`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine

from cuiban.models import sla_store
from cuiban.models.unit_of_work import transaction
from cuiban.services.rejection import Refusal
from cuiban.workflow.calendar import WorkingCalendar
from cuiban.workflow.clock import local_date
from cuiban.workflow.plan.schema import Plan
from cuiban.workflow.sla import SlaFigures

FORMATS = ("xlsx", "html")
TITLE = "SLA报表"


@dataclass(frozen=True)
class SlaRequest:
    fmt: str = "xlsx"
    output: Path | None = None
    not_taken: tuple[str, ...] = ()
    """Options of `cuiban report` given that the SLA report does not take (it is one file for the school)."""

    def check(self) -> SlaRequest:
        """The request itself, or Refusal when its options are not ones the SLA report has."""
        if self.not_taken:
            raise Refusal(
                f"the SLA report is one file for the whole school and takes no {', '.join(self.not_taken)}: "
                "leave it out"
            )
        if self.fmt not in FORMATS:
            raise Refusal(
                f"the SLA report is written as xlsx or html, not {self.fmt}: use --format xlsx or html"
            )
        if self.output is not None and self.output.is_dir():
            raise Refusal(
                f"-o {self.output} is a folder; name the file to write, e.g. -o {self.output / 'sla.xlsx'}"
            )
        return self


def read_figures(connection: Connection, plan: Plan, calendar: WorkingCalendar, now: datetime) -> SlaFigures:
    """The plan's cycle's SLA figures as of `now` (the final digest reads the same: sla_store.figures_at)."""
    return sla_store.figures_at(connection, plan, calendar, now)


def sla_figures(engine: Engine, plan: Plan, calendar: WorkingCalendar, now: datetime) -> SlaFigures:
    with transaction(engine, dry_run=True) as connection:
        return read_figures(connection, plan, calendar, now)


def default_name(plan: Plan, now: datetime, fmt: str) -> str:
    """SLA报表_2016_2016-12-30.xlsx: the cycle and the day it is as of."""
    return f"{TITLE}_{plan.cycle}_{local_date(now, plan.timezone).isoformat()}.{fmt}"


def write_sla_report(
    engine: Engine,
    plan: Plan,
    calendar: WorkingCalendar,
    asked: SlaRequest,
    now: datetime,
    override: Path | None = None,
) -> Path:
    """Write the SLA report as of `now` to -o (default: its own name in the working folder); the path."""
    from cuiban.reports import sla as sla_report

    target = asked.output or Path(default_name(plan, now, asked.fmt))
    context = sla_report.context(sla_figures(engine, plan, calendar, now), plan)
    target.parent.mkdir(parents=True, exist_ok=True)
    if asked.fmt == "xlsx":
        sla_report.write_xlsx(context, target)
    else:
        target.write_text(sla_report.render(context, override), encoding="utf-8")
    return target
